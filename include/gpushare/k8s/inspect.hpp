// gpushare/k8s/inspect.hpp — a cluster's allocation state as JSON, like `kubectl inspect
// gpushare`: per node and GPU the allocated and total compute and memory, the pods on each
// node, pending pods, and the cluster total.  Needs nlohmann_json.
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

#include "gpushare/model/cluster.hpp"

namespace gpushare {
namespace k8s {

/// @brief The inspect document: {"nodes": [{"name", "gpus": [{"index", "model", "healthy",
/// "milli_used", "milli_total", "mib_used", "mib_total"}], "pods": [...]}], "pending_pods",
/// "dropped_allocations", "total": {"milli_used", "milli_total", "mib_used", "mib_total"}}.
inline nlohmann::json inspect_json(const Cluster& c, const std::vector<std::string>& pending_pods = {},
                                   const std::vector<std::string>& dropped_allocations = {}) {
  nlohmann::json nodes = nlohmann::json::array();
  std::int64_t milli_total = 0, milli_used = 0, mib_total = 0, mib_used = 0;
  std::map<std::size_t, std::vector<std::string>> pods_on;
  for (const Placement& p : c.allocations()) pods_on[p.node_index].push_back(p.request);
  for (std::size_t i = 0; i < c.size(); ++i) {
    const NodeView v = c.view(i);
    nlohmann::json gpus = nlohmann::json::array();
    for (int g = 0; g < v.gpu_count(); ++g) {
      const Gpu& gpu = v.gpu(g);
      const std::int64_t um = gpu.milli_total - v.free_milli[g], uy = gpu.mib_total - v.free_mib[g];
      gpus.push_back({{"index", g}, {"model", gpu.model}, {"healthy", gpu.healthy}, {"milli_used", um},
                      {"milli_total", gpu.milli_total}, {"mib_used", uy}, {"mib_total", gpu.mib_total}});
      milli_total += gpu.milli_total;
      milli_used += um;
      mib_total += gpu.mib_total;
      mib_used += uy;
    }
    nodes.push_back({{"name", v.name()}, {"gpus", gpus}, {"pods", pods_on[i]}});
  }
  return {{"nodes", nodes},
          {"pending_pods", pending_pods},
          {"dropped_allocations", dropped_allocations},
          {"total", {{"milli_used", milli_used}, {"milli_total", milli_total}, {"mib_used", mib_used}, {"mib_total", mib_total}}}};
}

}  // namespace k8s
}  // namespace gpushare
