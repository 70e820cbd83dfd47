// gpushare/k8s/inspect.hpp — a cluster's allocation state as JSON, like `kubectl inspect
// gpushare`: per node and GPU the allocated and total compute and memory, the pods on each
// node, each node's FGD fragmentation (k8s/fragmentation.hpp), pending pods and why they wait,
// recently unschedulable pods, and the cluster total.  Needs nlohmann_json.
//
// @code
//   std::cout << gpushare::k8s::inspect_json(cluster).dump(2);
// @endcode
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/k8s/fragmentation.hpp"
#include "gpushare/model/cluster.hpp"

namespace gpushare {
namespace k8s {

/// @brief A pod waiting for a bind, with why it waits.
struct WaitingPod {
  std::string pod;     ///< "namespace/name"
  std::string reason;  ///< e.g. "no node fits: 2 gpu_fragmented, 1 cpu" or "3 of 4 nodes fit; waiting for bind"
};

/// @brief A pod for which filter found no node, as the extender last saw it.
struct UnschedulablePod {
  std::string pod;                                  ///< "namespace/name"
  std::string reason;                               ///< summary over the candidate nodes
  std::map<std::string, std::string> failed_nodes;  ///< node -> why (at most a few, see UnschedulableLog)
  std::int64_t candidates = 0;                      ///< candidate nodes in that filter call
  std::int64_t attempts = 0;                        ///< filter calls that found no node for it
  std::int64_t last_seen_unix = 0;                  ///< seconds since the epoch, last such call
};

/// @brief Everything the inspect document shows besides the cluster.
struct InspectExtras {
  std::vector<WaitingPod> pending;                 ///< pods seen by filter/prioritize, not bound
  std::vector<Request> pending_requests;           ///< their requests (they enter the target workload)
  std::vector<UnschedulablePod> unschedulable;     ///< most recent first
  std::vector<std::string> dropped_allocations;
};

/// @brief The inspect document: {"nodes": [{"name", "gpus": [{"index", "model", "healthy",
/// "milli_used", "milli_total", "mib_used", "mib_total"}], "pods": [...], "cpu_used_milli",
/// "cpu_total_milli", "idle_milli", "frag_milli"}], "pending_pods": [names], "pending":
/// [{"pod", "reason"}], "unschedulable": [{"pod", "reason", "failed_nodes", "candidates",
/// "attempts", "last_seen_unix"}], "dropped_allocations", "fragmentation": {"measure",
/// "target_shapes", "shapes_seen", "pods_counted"}, "total": {"milli_used", "milli_total",
/// "mib_used", "mib_total", "idle_milli", "frag_milli"}}.  `idle_milli` is the free compute of
/// the healthy GPUs, `frag_milli` the part of it FGD counts as fragmented.
inline nlohmann::json inspect_json(const Cluster& c, const InspectExtras& x) {
  const ObservedWorkload workload(c, x.pending_requests);
  nlohmann::json nodes = nlohmann::json::array();
  std::int64_t milli_total = 0, milli_used = 0, mib_total = 0, mib_used = 0, idle_total = 0;
  double frag_total = 0;
  std::map<std::size_t, std::vector<std::string>> pods_on;
  for (const Placement& p : c.allocations()) pods_on[p.node_index].push_back(p.request);
  for (std::size_t i = 0; i < c.size(); ++i) {
    const NodeView v = c.view(i);
    nlohmann::json gpus = nlohmann::json::array();
    std::int64_t idle = 0;
    for (int g = 0; g < v.gpu_count(); ++g) {
      const Gpu& gpu = v.gpu(g);
      const std::int64_t um = gpu.milli_total - v.free_milli[g], uy = gpu.mib_total - v.free_mib[g];
      gpus.push_back({{"index", g}, {"model", gpu.model}, {"healthy", gpu.healthy}, {"milli_used", um},
                      {"milli_total", gpu.milli_total}, {"mib_used", uy}, {"mib_total", gpu.mib_total}});
      milli_total += gpu.milli_total;
      milli_used += um;
      mib_total += gpu.mib_total;
      mib_used += uy;
      if (gpu.healthy) idle += v.free_milli[g];
    }
    const double frag = workload.node_frag(v);
    idle_total += idle;
    frag_total += frag;
    nodes.push_back({{"name", v.name()}, {"gpus", gpus}, {"pods", pods_on[i]},
                     {"cpu_used_milli", v.node->cpu_milli - v.free_cpu_milli}, {"cpu_total_milli", v.node->cpu_milli},
                     {"idle_milli", idle}, {"frag_milli", frag}});
  }
  nlohmann::json pending_names = nlohmann::json::array(), pending = nlohmann::json::array();
  for (const WaitingPod& p : x.pending) {
    pending_names.push_back(p.pod);
    pending.push_back({{"pod", p.pod}, {"reason", p.reason}});
  }
  nlohmann::json unsched = nlohmann::json::array();
  for (const UnschedulablePod& u : x.unschedulable)
    unsched.push_back({{"pod", u.pod}, {"reason", u.reason}, {"failed_nodes", u.failed_nodes}, {"candidates", u.candidates},
                       {"attempts", u.attempts}, {"last_seen_unix", u.last_seen_unix}});
  return {{"nodes", nodes},
          {"pending_pods", pending_names},
          {"pending", pending},
          {"unschedulable", unsched},
          {"dropped_allocations", x.dropped_allocations},
          {"fragmentation",
           {{"measure", "FGD (Weng et al., ATC'23): idle GPU milli the target workload cannot use"},
            {"target", "allocated and pending pods"},
            {"target_shapes", workload.target().shapes.size()},
            {"shapes_seen", workload.shapes_seen()},
            {"pods_counted", workload.pods_counted()}}},
          {"total",
           {{"milli_used", milli_used}, {"milli_total", milli_total}, {"mib_used", mib_used}, {"mib_total", mib_total},
            {"idle_milli", idle_total}, {"frag_milli", frag_total}}}};
}

/// @brief The inspect document with pending pods given by name only (no reasons; they do not
/// enter the target workload).
inline nlohmann::json inspect_json(const Cluster& c, const std::vector<std::string>& pending_pods = {},
                                   const std::vector<std::string>& dropped_allocations = {}) {
  InspectExtras x;
  for (const auto& p : pending_pods) x.pending.push_back({p, "seen by the scheduler, not bound yet"});
  x.dropped_allocations = dropped_allocations;
  return inspect_json(c, x);
}

}  // namespace k8s
}  // namespace gpushare
