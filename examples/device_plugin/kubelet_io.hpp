// gpushare-device-plugin's connections to the outside: the pod sources (API server through
// k8s/api_client.hpp, or a JSON file for tests) and the kubelet's pod-resources socket (gRPC).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "gpushare/k8s/api_client.hpp"
#include "gpushare/node/aliyun_match.hpp"
#include "podresources_v1.grpc.pb.h"

namespace gsdp {

/// Pods from the API server: list with fieldSelector spec.nodeName=NODE, merge-patch annotations.
class ApiPods : public gpushare::node::PodSource {
 public:
  explicit ApiPods(gpushare::k8s::KubeConfig cfg) : api_(std::move(cfg)) {}
  nlohmann::json list_pods(const std::string& node) override {
    gpushare::k8s::ListOptions o;
    o.field_selector = "spec.nodeName=" + node;
    return api_.list_all("/api/v1/pods", o);
  }
  /// spec.nodeName of pod ns/name (the plugin's own pod, when NODE_NAME is not set).
  std::string node_of_pod(const std::string& ns, const std::string& name) {
    const nlohmann::json p = api_.get("/api/v1/namespaces/" + ns + "/pods/" + name);
    const std::string n = p.contains("spec") ? p.at("spec").value("nodeName", std::string()) : std::string();
    if (n.empty()) throw gpushare::NotFound("pod " + ns + "/" + name + " has no spec.nodeName");
    return n;
  }
  void patch_annotations(const std::string& ns, const std::string& name, const std::map<std::string, std::string>& a) override {
    nlohmann::json ann = nlohmann::json::object();
    for (const auto& kv : a) ann[kv.first] = kv.second;
    api_.patch("/api/v1/namespaces/" + ns + "/pods/" + name, {{"metadata", {{"annotations", ann}}}},
               gpushare::k8s::ApiClient::PatchType::Merge);
  }

 private:
  gpushare::k8s::ApiClient api_;
};

/// Pods from a JSON file (a PodList or an array); patches are written back (temp file + rename).
/// For tests and offline runs only: no API server is involved.
class FilePods : public gpushare::node::PodSource {
 public:
  explicit FilePods(std::string path) : path_(std::move(path)) {}
  nlohmann::json list_pods(const std::string&) override {
    std::lock_guard<std::mutex> lock(mu_);
    return read();
  }
  void patch_annotations(const std::string& ns, const std::string& name, const std::map<std::string, std::string>& a) override {
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json j = read();
    nlohmann::json& items = j.is_object() ? j["items"] : j;
    bool found = false;
    for (auto& p : items) {
      if (p["metadata"].value("namespace", std::string("default")) == ns && p["metadata"].value("name", std::string()) == name) {
        for (const auto& kv : a) p["metadata"]["annotations"][kv.first] = kv.second;
        found = true;
      }
    }
    if (!found) throw gpushare::NotFound("pods file " + path_ + ": pod " + ns + "/" + name + " not found");
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp) << j.dump(1);
    if (std::rename(tmp.c_str(), path_.c_str()) != 0) throw gpushare::Error(gpushare::ErrorKind::conflict, "pods file " + path_ + ": rename failed");
  }

 private:
  nlohmann::json read() const {
    std::ifstream f(path_);
    if (!f) throw gpushare::NotFound("pods file " + path_ + ": cannot be read");
    try {
      return nlohmann::json::parse(f);
    } catch (const std::exception& e) {
      throw gpushare::ParseError("pods file " + path_ + ": " + e.what());
    }
  }
  std::string path_;
  std::mutex mu_;
};

/// The kubelet's PodResourcesLister v1 on a unix socket; nullopt when it does not answer.
class PodResourcesView : public gpushare::node::KubeletView {
 public:
  explicit PodResourcesView(std::string socket) : socket_(std::move(socket)) {}
  std::optional<std::vector<gpushare::node::KubeletPod>> list() override {
    struct stat st;
    if (socket_.empty() || ::stat(socket_.c_str(), &st) != 0) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu_);
    if (!stub_) stub_ = v1::PodResourcesLister::NewStub(grpc::CreateChannel("unix://" + socket_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::ListPodResourcesRequest req;
    v1::ListPodResourcesResponse resp;
    const grpc::Status s = stub_->List(&ctx, req, &resp);
    if (!s.ok()) {
      stub_.reset();
      std::fprintf(stderr, "pod-resources %s: %s\n", socket_.c_str(), s.error_message().c_str());
      return std::nullopt;
    }
    std::vector<gpushare::node::KubeletPod> out;
    for (const auto& p : resp.pod_resources()) {
      gpushare::node::KubeletPod kp{p.namespace_(), p.name(), {}};
      for (const auto& c : p.containers()) {
        auto& m = kp.containers[c.name()];
        for (const auto& d : c.devices()) m[d.resource_name()].assign(d.device_ids().begin(), d.device_ids().end());
      }
      out.push_back(std::move(kp));
    }
    return out;
  }

 private:
  std::string socket_;
  std::mutex mu_;
  std::unique_ptr<v1::PodResourcesLister::Stub> stub_;
};

}  // namespace gsdp
