// gpushare/k8s/api_binder.hpp — binds pods through the API server, in the order the peers use:
//  1. GET the pod: it must exist (404 -> error), carry the UID the scheduler bound (a pod
//     deleted and recreated under the same name is not bound) and not be bound yet (a retried
//     bind after a success is refused, so nothing is written twice);
//  2. merge-patch the dialect's annotations, conditional on the resourceVersion just read
//     (Aliyun's gpushare-scheduler-extender patches the annotations before binding; HAMi marks
//     the pod "hami.io/bind-phase: allocating" with its bind time, which its device plugin
//     waits for);
//  3. POST pods/NAME/binding with the pod's UID in metadata (the API server refuses it with 409
//     if the pod was replaced or bound meanwhile).
// Any failure throws (an ApiError naming the server, call and status); the extender turns it
// into the bind reply's Error and releases what it had allocated.  With decisions at filter time
// (tkestack gpu-admission's timing, ExtenderService::set_decide_at_filter) `annotate` does steps 1
// and 2 and kube-scheduler's default binder binds.  Link gpushare::kube.
//
// @code
//   auto api = std::make_shared<gpushare::k8s::ApiClient>(gpushare::k8s::load_kubeconfig("kubeconfig"));
//   auto binder = std::make_shared<gpushare::k8s::ApiBinder>(api, gpushare::k8s::Dialect::Aliyun);
// @endcode
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "gpushare/k8s/api_client.hpp"
#include "gpushare/k8s/extender_service.hpp"
#include "gpushare/k8s/pod.hpp"

namespace gpushare {
namespace k8s {

/// @brief A Binder that writes to the API server.
class ApiBinder : public Binder {
 public:
  ApiBinder(std::shared_ptr<ApiClient> api, Dialect d) : api_(std::move(api)), dialect_(d) {}

  void bind(const std::string& ns, const std::string& name, const std::string& uid, const std::string& node,
            const std::map<std::string, std::string>& annotations) override {
    const std::string live_uid = write_annotations(ns, name, uid, annotations, dialect_ == Dialect::Hami);
    nlohmann::json binding = {{"apiVersion", "v1"},
                              {"kind", "Binding"},
                              {"metadata", {{"name", name}, {"namespace", ns}, {"uid", live_uid}}},
                              {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
    api_->create("/api/v1/namespaces/" + ns + "/pods/" + name + "/binding", binding);
  }

  /// @brief Decisions at filter time (tkestack gpu-admission): steps 1 and 2 only; kube-scheduler's
  /// default binder binds the pod.
  void annotate(const std::string& ns, const std::string& name, const std::string& uid, const std::string&,
                const std::map<std::string, std::string>& annotations) override {
    write_annotations(ns, name, uid, annotations, false);
  }

 private:
  // Steps 1 and 2; returns the pod's UID.
  std::string write_annotations(const std::string& ns, const std::string& name, const std::string& uid,
                                const std::map<std::string, std::string>& annotations, bool hami_bind_phase) {
    const std::string pod_path = "/api/v1/namespaces/" + ns + "/pods/" + name;
    const std::string what = "pod " + ns + "/" + name;
    const nlohmann::json pod = api_->get(pod_path);
    const auto& meta = pod.at("metadata");
    const std::string live_uid = meta.value("uid", "");
    if (!uid.empty() && live_uid != uid)
      throw ConflictError(what + ": the scheduler bound UID " + uid + " but the pod now has UID " + live_uid +
                          " (deleted and created again); not bound");
    const std::string bound_to = pod.contains("spec") ? pod["spec"].value("nodeName", "") : "";
    if (!bound_to.empty())
      throw ConflictError(what + ": already bound to node " + bound_to + "; annotations left as they are");
    std::map<std::string, std::string> ann = annotations;
    if (hami_bind_phase) {
      ann["hami.io/bind-phase"] = "allocating";
      ann["hami.io/bind-time"] =
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    }
    if (!ann.empty()) {
      nlohmann::json patch = {{"metadata", {{"annotations", ann}, {"resourceVersion", meta.value("resourceVersion", "")}}}};
      api_->patch(pod_path, patch, ApiClient::PatchType::Merge);
    }
    return live_uid;
  }

  std::shared_ptr<ApiClient> api_;
  Dialect dialect_;
};

}  // namespace k8s
}  // namespace gpushare
