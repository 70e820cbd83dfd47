// gpushare/k8s/extender_dialects.hpp — the four resource dialects as ExtenderDialects for the
// extender service: Node and Pod objects read by k8s/node.hpp and k8s/pod.hpp, and on bind the
// annotations each system's device plugin reads (k8s/annotations.hpp).  Needs nlohmann_json.
//
//   aliyun   ALIYUN_COM_GPU_MEM_IDX/POD/DEV/ASSIGNED/ASSUME_TIME
//   tencent  tencent.com/predicate-gpu-idx-<container>, predicate-node, gpu-assigned, predicate-time
//   hami     hami.io/vgpu-devices-allocated, vgpu-devices-to-allocate, vgpu-node
//   nvidia   none (the NVIDIA device plugin chooses devices itself)
//
// The service places a pod as one request (k8s/pod.hpp's effective request).  For Tencent and
// HAMi, whose annotations are per container, that is exact when one container asks for GPUs;
// a pod with GPU requests in several containers is refused at filter with an error saying so
// (the tencent and hami modes in k8s/ handle such pods with their per-container split).
//
// @code
//   auto svc = gpushare::k8s::ExtenderService(gpushare::k8s::make_extender_dialect("aliyun"),
//                                             gpushare::make_policy("best-fit"), binder);
// @endcode
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "gpushare/k8s/annotations.hpp"
#include "gpushare/k8s/extender_service.hpp"
#include "gpushare/k8s/node.hpp"
#include "gpushare/k8s/pod.hpp"

namespace gpushare {
namespace k8s {

/// @brief An ExtenderDialect for one of the four dialects of k8s/pod.hpp.
class StandardDialect : public ExtenderDialect {
 public:
  explicit StandardDialect(Dialect d, DialectOptions o = {}) : dialect_(d), options_(o) {}

  std::string name() const override { return to_string(dialect_); }

  Node node_from_json(const nlohmann::json& node) const override {
    K8sNode kn = k8s::node_from_json(node, dialect_, options_);
    std::lock_guard<std::mutex> lock(mutex_);
    nodes_[kn.node.name] = kn;
    return kn.node;
  }

  Request request_from_pod(const nlohmann::json& pod) const override {
    const PodRequest pr = pod_request(pod, dialect_, options_);
    if (dialect_ == Dialect::Tencent || dialect_ == Dialect::Hami) gpu_container(pr);  // throws if several
    return pr.request;
  }

  std::map<std::string, std::string> bind_annotations(const nlohmann::json& pod, const Placement& p) const override {
    const PodRequest pr = pod_request(pod, dialect_, options_);
    const std::int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count();
    switch (dialect_) {
      case Dialect::Aliyun: {
        std::int64_t units = 0;
        for (const auto& c : pr.containers)
          if (!c.init) units += c.raw_mem;
        return aliyun_bind_annotations(p.gpus.at(0), units, node(p.node).aliyun_units_per_gpu, now_ns);
      }
      case Dialect::Tencent:
        return tencent_bind_annotations(p.node, {{gpu_container(pr), p.gpus}}, now_ns);
      case Dialect::Hami: {
        const K8sNode kn = node(p.node);
        const int ci = gpu_container(pr);
        HamiPodDevices devices(app_containers(pr));
        for (int g : p.gpus) {
          HamiContainerDevice d;
          d.uuid = kn.uuids.at(static_cast<std::size_t>(g));
          d.usedmem = static_cast<std::int32_t>(p.mib_per_gpu);
          d.usedcores = static_cast<std::int32_t>(p.milli_per_gpu / 10);
          devices[static_cast<std::size_t>(ci)].push_back(d);
        }
        return hami_bind_annotations(p.node, devices);
      }
      case Dialect::Nvidia:
        return {};
    }
    return {};
  }

 private:
  static std::size_t app_containers(const PodRequest& pr) {
    std::size_t n = 0;
    for (const auto& c : pr.containers) n += !c.init;
    return n;
  }

  // Index among the app containers of the one container asking for GPUs.
  static int gpu_container(const PodRequest& pr) {
    int index = -1, app = 0, found = 0;
    for (const auto& c : pr.containers) {
      if (c.init) continue;
      if (c.demand.count > 0) {
        index = app;
        ++found;
      }
      ++app;
    }
    if (found > 1) {
      throw InvalidArgument("pod " + pr.name + ": " + std::to_string(found) +
                            " containers ask for GPUs; the extender places pods whose GPU request is in one container");
    }
    return index < 0 ? 0 : index;
  }

  K8sNode node(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = nodes_.find(name);
    if (it == nodes_.end()) throw NotFound("node " + name + ": not known to the " + to_string(dialect_) + " dialect");
    return it->second;
  }

  Dialect dialect_;
  DialectOptions options_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, K8sNode> nodes_;
};

/// @brief The dialect called `name` ("aliyun", "tencent", "hami", "nvidia"); throws
/// InvalidArgument for any other name.
inline std::shared_ptr<ExtenderDialect> make_extender_dialect(const std::string& name, DialectOptions o = {}) {
  return std::make_shared<StandardDialect>(parse_dialect(name), o);
}

}  // namespace k8s
}  // namespace gpushare
