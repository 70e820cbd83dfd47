// gpushare/model/gpu.hpp — one physical GPU of a node.
//
// Capacities use the library's units: compute in milli-GPU (1000 = one whole GPU) and memory
// in MiB.  A GPU is identified by its `index` on its node (0..n-1, like CUDA device ordinals).
//
// @code
//   gpushare::Gpu g{0, "A100-SXM4-80GB", 1000, 81920};
// @endcode
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace gpushare {

/// @brief One GPU: its position on the node, model, capacity and health.
struct Gpu {
  int index = 0;                 ///< device index on its node, 0..n-1
  std::string model;             ///< GPU model name, e.g. "V100M32"; empty if unknown
  std::int64_t milli_total = 1000;  ///< compute capacity in milli-GPU (1000 = one whole GPU)
  std::int64_t mib_total = 0;    ///< memory capacity in MiB
  bool healthy = true;           ///< unhealthy GPUs take no new work
  int numa_node = -1;            ///< NUMA node of the GPU's PCIe root, -1 if unknown

  friend bool operator==(const Gpu& a, const Gpu& b) {
    return a.index == b.index && a.model == b.model && a.milli_total == b.milli_total &&
           a.mib_total == b.mib_total && a.healthy == b.healthy && a.numa_node == b.numa_node;
  }
  friend bool operator!=(const Gpu& a, const Gpu& b) { return !(a == b); }
};

inline std::ostream& operator<<(std::ostream& os, const Gpu& g) {
  return os << "Gpu(index=" << g.index << ", model='" << g.model << "', milli_total=" << g.milli_total
            << ", mib_total=" << g.mib_total << ", healthy=" << (g.healthy ? "true" : "false")
            << ", numa_node=" << g.numa_node << ")";
}

}  // namespace gpushare
