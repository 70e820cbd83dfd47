// gpushare/modes/nvidia/policy.hpp — catalogue policy `nvidia`: whole-GPU sets chosen as
// NVIDIA's go-gpuallocator BestEffort policy does (what the NVIDIA device plugin answers to
// GetPreferredAllocation), on the library's Cluster.
//
// Whole GPUs only (a share fits nowhere).  On a node whose topology is known (NodeTopologies, by
// node name, e.g. from gpushare-extender --topology) the set is nvidia_besteffort over the
// completely free healthy GPUs; without a topology every pair scores the same and BestEffort's
// order gives the lowest-indexed free GPUs.  The device plugin does not choose nodes: the node
// score here is the set's go-gpuallocator score (better-connected sets first), then the fewest
// free GPUs left (pack), equal scores to the lowest node index.
//
// @code
//   auto topos = std::make_shared<gpushare::NodeTopologies>();
//   auto r = gpushare::schedule(cluster, req, gpushare::modes::NvidiaBestEffort{topos});
// @endcode
#pragma once

#include <memory>
#include <algorithm>
#include <optional>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/score.hpp"
#include "gpushare/solve/topology_score.hpp"

namespace gpushare {
namespace modes {

/// @brief go-gpuallocator BestEffort GPU sets (see the file comment).
struct NvidiaBestEffort {
  std::shared_ptr<const NodeTopologies> topologies;

  static const char* name() { return "nvidia"; }

  const Topology* topology_of(const NodeView& v) const {
    if (!topologies) return nullptr;
    auto it = topologies->find(v.name());
    return it == topologies->end() || it->second.size() != v.gpu_count() ? nullptr : &it->second;
  }

  bool choose_gpus(const NodeView& v, const Request& r, GpuChoice& c) const {
    c.gpus.clear();
    c.remaining_milli = c.remaining_mib = 0;
    if (r.gpu.count <= 0) return true;
    std::vector<int> free;
    for (int g = 0; g < v.gpu_count(); ++g)
      if (v.free_milli[g] == v.gpu(g).milli_total && v.free_milli[g] >= r.gpu.milli && gpu_fits(v, g, r)) free.push_back(g);
    if (r.gpu.milli < 1000 || static_cast<int>(free.size()) < r.gpu.count) return false;
    if (const Topology* t = topology_of(v)) c.gpus = nvidia_besteffort(*t, free, {}, r.gpu.count);
    else c.gpus.assign(free.begin(), free.begin() + r.gpu.count);
    if (static_cast<int>(c.gpus.size()) != r.gpu.count) return false;
    std::sort(c.gpus.begin(), c.gpus.end());
    for (int g : c.gpus) {
      c.remaining_milli += v.free_milli[g] - r.gpu.milli;
      c.remaining_mib += v.free_mib[g] - r.gpu.mib;
    }
    return true;
  }

  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice& c) const {
    double links = 0;
    if (const Topology* t = topology_of(v))
      for (std::size_t i = 0; i < c.gpus.size(); ++i)
        for (std::size_t j = i + 1; j < c.gpus.size(); ++j) links += gpuallocator_pair_score(*t, c.gpus[i], c.gpus[j]);
    int free_after = -r.gpu.count;
    for (int g = 0; g < v.gpu_count(); ++g) free_after += v.free_milli[g] == v.gpu(g).milli_total;
    return Score{links, -static_cast<double>(free_after)};
  }
};

}  // namespace modes
}  // namespace gpushare
