// gpushare/model/placement.hpp — a decision: which node and which GPUs a request gets.
//
// A Placement is what `schedule` returns and what `Cluster::allocate` / `release` take.  Every
// chosen GPU receives the same share (`milli_per_gpu`, `mib_per_gpu`).
#pragma once

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace gpushare {

/// @brief Where a request goes: the node, its GPUs, and the amounts taken.
struct Placement {
  std::string request;             ///< name of the placed request (allocation key)
  std::string node;                ///< node name
  std::size_t node_index = 0;      ///< index of the node in its Cluster
  std::vector<int> gpus;           ///< GPU indices on the node, ascending
  std::int64_t milli_per_gpu = 0;  ///< compute taken on each GPU
  std::int64_t mib_per_gpu = 0;    ///< memory taken on each GPU
  std::int64_t cpu_milli = 0;      ///< CPU taken
  std::int64_t host_mib = 0;       ///< host memory taken

  friend bool operator==(const Placement& a, const Placement& b) {
    return a.request == b.request && a.node == b.node && a.node_index == b.node_index &&
           a.gpus == b.gpus && a.milli_per_gpu == b.milli_per_gpu && a.mib_per_gpu == b.mib_per_gpu &&
           a.cpu_milli == b.cpu_milli && a.host_mib == b.host_mib;
  }
  friend bool operator!=(const Placement& a, const Placement& b) { return !(a == b); }
};

inline std::ostream& operator<<(std::ostream& os, const Placement& p) {
  os << "Placement(request='" << p.request << "', node='" << p.node << "', gpus=[";
  for (std::size_t i = 0; i < p.gpus.size(); ++i) os << (i ? ", " : "") << p.gpus[i];
  return os << "], milli_per_gpu=" << p.milli_per_gpu << ", mib_per_gpu=" << p.mib_per_gpu
            << ", cpu_milli=" << p.cpu_milli << ", host_mib=" << p.host_mib << ")";
}

}  // namespace gpushare
