// gpushare/model/node.hpp — a machine: CPU, host memory, labels and its GPUs.
//
// @code
//   gpushare::Node n{"node-a", 64000, 262144, {{"zone", "z1"}}, {}};
//   for (int i = 0; i < 8; ++i) n.gpus.push_back({i, "A100", 1000, 81920});
//   gpushare::validate(n);  // throws InvalidArgument naming the node and field on bad input
// @endcode
#pragma once

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "gpushare/model/gpu.hpp"
#include "gpushare/model/limits.hpp"

namespace gpushare {

/// @brief A node of the cluster with its capacities.  GPU indices must be 0..n-1 in order.
struct Node {
  std::string name;                          ///< unique node name
  std::int64_t cpu_milli = 0;                ///< CPU capacity in milli-cores
  std::int64_t host_mib = 0;                 ///< host memory capacity in MiB
  std::map<std::string, std::string> labels; ///< Kubernetes-style labels
  std::vector<Gpu> gpus;                     ///< the node's GPUs, gpus[i].index == i

  /// @brief Total compute of the node's GPUs in milli-GPU (healthy or not).
  std::int64_t gpu_milli_total() const {
    std::int64_t s = 0;
    for (const auto& g : gpus) s += g.milli_total;
    return s;
  }

  friend bool operator==(const Node& a, const Node& b) {
    return a.name == b.name && a.cpu_milli == b.cpu_milli && a.host_mib == b.host_mib &&
           a.labels == b.labels && a.gpus == b.gpus;
  }
  friend bool operator!=(const Node& a, const Node& b) { return !(a == b); }
};

/// @brief Checks a node's fields; throws InvalidArgument naming the node and the field.
inline void validate(const Node& n) {
  if (n.name.empty()) throw InvalidArgument("node: name must not be empty");
  const std::string what = "node " + n.name;
  detail::check_range(what, "cpu_milli", n.cpu_milli, 0, limits::max_cpu_milli);
  detail::check_range(what, "host_mib", n.host_mib, 0, limits::max_host_mib);
  detail::check_range(what, "number of gpus", static_cast<std::int64_t>(n.gpus.size()), 0,
                      limits::max_gpus_per_node);
  for (std::size_t i = 0; i < n.gpus.size(); ++i) {
    const Gpu& g = n.gpus[i];
    const std::string gw = what + " gpu " + std::to_string(i);
    if (g.index != static_cast<int>(i)) {
      throw InvalidArgument(gw + ": index must equal its position " + std::to_string(i) + ", got " +
                            std::to_string(g.index));
    }
    detail::check_range(gw, "milli_total", g.milli_total, 1, limits::max_milli_per_gpu);
    detail::check_range(gw, "mib_total", g.mib_total, 0, limits::max_mib_per_gpu);
    detail::check_range(gw, "numa_node", g.numa_node, -1, 1024);
  }
}

inline std::ostream& operator<<(std::ostream& os, const Node& n) {
  os << "Node(name='" << n.name << "', cpu_milli=" << n.cpu_milli << ", host_mib=" << n.host_mib
     << ", gpus=" << n.gpus.size();
  if (!n.gpus.empty()) os << " x '" << n.gpus.front().model << "'";
  return os << ")";
}

}  // namespace gpushare
