// gpushare/k8s/recover.hpp — rebuilds cluster state from Node and Pod objects alone, reading the
// annotations each system writes on bind (see annotations.hpp).
//
// Placement keys: Aliyun pods are one placement named "<ns>/<pod>" (the whole pod on one GPU);
// Tencent and HAMi give one placement per GPU container, "<ns>/<pod>/<container index>", and
// HAMi devices of one container with different amounts one per device ("<...>/<k>").  The
// pod's CPU and host memory go on its first placement.  Pods in phase Succeeded/Failed hold
// nothing.  Every pod that asks for GPUs but cannot be placed is reported with a reason;
// nothing is skipped silently.
//
// @code
//   auto r = gpushare::k8s::recover_cluster(nodes_json, pods_json, gpushare::k8s::Dialect::Tencent);
//   for (const auto& u : r.unplaced) std::cerr << u.pod << ": " << u.reason << '\n';
// @endcode
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/model/cluster.hpp"
#include "gpushare/k8s/annotations.hpp"
#include "gpushare/k8s/node.hpp"
#include "gpushare/k8s/pod.hpp"

namespace gpushare {
namespace k8s {

/// @brief A pod recovery could not place, and why.
struct Unplaced {
  std::string pod;
  std::string reason;
};

/// @brief The rebuilt cluster, its placements and the pods that could not be placed.
struct RecoverResult {
  Cluster cluster;
  std::vector<K8sNode> nodes;
  std::vector<Placement> placements;
  std::vector<Unplaced> unplaced;
};

namespace detail {
inline const nlohmann::json& items_of(const nlohmann::json& j, const char* what) {
  if (j.is_array()) return j;
  if (j.is_object() && j.contains("items") && j.at("items").is_array()) return j.at("items");
  throw ParseError(std::string(what) + ": expected a JSON array or a List object with 'items'");
}

/// Placements (without capacity checks) for one pod; throws with a reason if the annotations
/// cannot be mapped onto the node.
inline std::vector<Placement> pod_placements(const nlohmann::json& pod, const PodRequest& pr, Dialect d,
                                             const DialectOptions& o, const Cluster& cl,
                                             const std::vector<K8sNode>& nodes) {
  const std::string what = "pod " + pr.name;
  const auto& meta = pod.at("metadata");
  const AnnotationMap ann = string_map(meta, "annotations", what);
  std::string node_name;
  if (pod.contains("spec") && pod.at("spec").contains("nodeName") && pod.at("spec").at("nodeName").is_string())
    node_name = pod.at("spec").at("nodeName").get<std::string>();
  std::vector<Placement> out;
  auto node_of = [&](const std::string& nm) -> std::size_t {
    if (nm.empty()) throw NotFound(what + ": not bound to a node (no spec.nodeName)");
    auto i = cl.find_node(nm);
    if (!i) throw NotFound(what + ": node " + nm + " is not in the node list");
    return *i;
  };
  auto check_gpu = [&](std::size_t ni, int g, const std::string& key) {
    const int count = static_cast<int>(nodes[ni].node.gpus.size());
    if (g < 0 || g >= count)
      throw NotFound(what + ": annotation " + key + " points at GPU " + std::to_string(g) + " but node " +
                     nodes[ni].node.name + " has " + std::to_string(count) + " GPUs");
  };
  switch (d) {
    case Dialect::Aliyun: {
      if (!has_aliyun_assignment(ann)) throw NotFound(what + ": no " + std::string(kAliyunIdx) + " annotation");
      auto a = parse_aliyun_annotations(ann, what);
      const std::size_t ni = node_of(node_name);
      check_gpu(ni, a.gpu, kAliyunIdx);
      Placement p;
      p.request = pr.name;
      p.node = nodes[ni].node.name;
      p.node_index = ni;
      p.gpus = {a.gpu};
      p.mib_per_gpu = a.pod_mem * (o.aliyun_mib ? 1 : 1024);
      out.push_back(p);
      break;
    }
    case Dialect::Tencent: {
      if (!has_tencent_assignment(ann)) throw NotFound(what + ": no " + std::string(kTencentIdxPrefix) + "<i> annotation");
      auto a = parse_tencent_annotations(ann, what);
      const std::size_t ni = node_of(node_name.empty() ? a.node : node_name);
      // app containers follow the init containers in pr.containers
      std::vector<const ContainerRequest*> app;
      for (const auto& c : pr.containers) if (!c.init) app.push_back(&c);
      for (const auto& kv : a.gpus) {
        const std::string key = kTencentIdxPrefix + std::to_string(kv.first);
        if (kv.first >= static_cast<int>(app.size()))
          throw NotFound(what + ": annotation " + key + " names container " + std::to_string(kv.first) + " but the pod has " + std::to_string(app.size()));
        const ContainerRequest& c = *app[static_cast<std::size_t>(kv.first)];
        for (int g : kv.second) check_gpu(ni, g, key);
        Placement p;
        p.request = pr.name + "/" + std::to_string(kv.first);
        p.node = nodes[ni].node.name;
        p.node_index = ni;
        p.gpus = kv.second;
        std::sort(p.gpus.begin(), p.gpus.end());
        if (c.raw_cores >= 100) {
          p.milli_per_gpu = 1000;
          p.mib_per_gpu = p.gpus.empty() ? 0 : nodes[ni].node.gpus[static_cast<std::size_t>(p.gpus[0])].mib_total;
        } else {
          p.milli_per_gpu = c.raw_cores * 10;
          p.mib_per_gpu = c.raw_mem * 256;
        }
        out.push_back(p);
      }
      break;
    }
    case Dialect::Hami: {
      auto it = ann.find(kHamiAllocated);
      if (it == ann.end()) throw NotFound(what + ": no " + std::string(kHamiAllocated) + " annotation");
      auto pd = decode_hami_pod_devices(it->second, what);
      std::string nn = node_name;
      if (nn.empty()) if (auto jt = ann.find(kHamiNode); jt != ann.end()) nn = jt->second;
      const std::size_t ni = node_of(nn);
      const K8sNode& kn = nodes[ni];
      for (std::size_t ci = 0; ci < pd.size(); ++ci) {
        for (std::size_t k = 0; k < pd[ci].size(); ++k) {
          const auto& dv = pd[ci][k];
          auto u = std::find(kn.uuids.begin(), kn.uuids.end(), dv.uuid);
          if (u == kn.uuids.end())
            throw NotFound(what + ": annotation " + std::string(kHamiAllocated) + " names device " + dv.uuid +
                           " which node " + kn.node.name + " does not register");
          if (dv.usedmem < 0 || dv.usedcores < 0 || dv.usedcores > 100)
            throw InvalidArgument(what + ": annotation " + std::string(kHamiAllocated) + " has impossible amounts for " + dv.uuid);
          Placement p;
          p.request = pr.name + "/" + std::to_string(ci) + "/" + std::to_string(k);
          p.node = kn.node.name;
          p.node_index = ni;
          p.gpus = {static_cast<int>(u - kn.uuids.begin())};
          p.milli_per_gpu = dv.usedcores * 10;
          p.mib_per_gpu = dv.usedmem;
          out.push_back(p);
        }
      }
      break;
    }
    case Dialect::Nvidia:
      throw InvalidArgument(what + ": the plain nvidia dialect writes no assignment annotations");
  }
  if (!out.empty()) {
    out.front().cpu_milli = pr.request.cpu_milli;
    out.front().host_mib = pr.request.host_mib;
  }
  return out;
}
}  // namespace detail

/// @brief Rebuilds the cluster from nodes and pods (JSON arrays, or List objects with
/// `items`).  A bad node throws (the cluster cannot be built without it); a bad or unplaceable
/// pod is reported in `unplaced` with the reason, and its partial placements are undone.
inline RecoverResult recover_cluster(const nlohmann::json& nodes, const nlohmann::json& pods, Dialect d,
                                     const DialectOptions& o = {}) {
  RecoverResult r;
  for (const auto& nj : detail::items_of(nodes, "nodes")) {
    K8sNode kn = node_from_json(nj, d, o);
    r.cluster.add_node(kn.node);
    r.nodes.push_back(std::move(kn));
  }
  const auto& plist = detail::items_of(pods, "pods");
  for (std::size_t i = 0; i < plist.size(); ++i) {
    const auto& pj = plist[i];
    std::string name = "pods[" + std::to_string(i) + "]";
    try {
      PodRequest pr = pod_request(pj, d, o);
      name = pr.name;
      std::string phase;
      if (pj.contains("status") && pj.at("status").is_object() && pj.at("status").contains("phase") &&
          pj.at("status").at("phase").is_string())
        phase = pj.at("status").at("phase").get<std::string>();
      if (phase == "Succeeded" || phase == "Failed") continue;  // terminal pods hold nothing
      bool any = false;
      for (const auto& c : pr.containers) any = any || c.demand.count > 0;
      if (!any) continue;  // not a GPU pod in this dialect
      auto ps = detail::pod_placements(pj, pr, d, o, r.cluster, r.nodes);
      std::vector<Placement> done;
      try {
        for (const auto& p : ps) { r.cluster.allocate(p); done.push_back(p); }
      } catch (...) {
        for (auto it = done.rbegin(); it != done.rend(); ++it) r.cluster.release(*it);
        throw;
      }
      r.placements.insert(r.placements.end(), done.begin(), done.end());
    } catch (const Error& e) {
      r.unplaced.push_back({name, e.what()});
    }
  }
  return r;
}

}  // namespace k8s
}  // namespace gpushare
