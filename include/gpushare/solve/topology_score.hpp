// Topology-aware node scoring for multi-GPU requests, combined with any existing node policy.
// `TopologyAware<Base>` keeps a per-node Topology (by node name). For a request of k >= 2 GPUs on
// a node with a known topology of matching size, it picks the GPUs with best_gpu_set among the
// GPUs that fit the request, and scores the node by tightness = set score / (pairs * best pair
// weight of the node) in [0, 1]: Score{weight * tightness + base.primary, base.secondary}.
// With the default weight (1000) tighter sets always win and the base policy breaks ties.
// Nodes without a topology, and single-GPU requests, get tightness 0 and the base GPU choice.
//
// @code
//   auto topos = std::make_shared<gpushare::NodeTopologies>();
//   (*topos)["dgx-1"] = gpushare::topology_from_json(j);
//   auto r = gpushare::schedule(cluster, req, gpushare::TopologyAware<gpushare::BinPack>{{}, topos});
// @endcode
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/model/topology.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/schedule.hpp"
#include "gpushare/solve/score.hpp"
#include "gpushare/solve/topology_set.hpp"

namespace gpushare {

/// @brief Node name -> topology of its GPUs (GPU i of the node = index i of the topology).
using NodeTopologies = std::map<std::string, Topology>;

/// @brief Tightness in [0, 1] of `gpus` on topology t: set score / (pairs * best pair weight).
inline double topology_tightness(const Topology& t, const std::vector<int>& gpus) {
  const std::int64_t pairs = static_cast<std::int64_t>(gpus.size()) * (static_cast<std::int64_t>(gpus.size()) - 1) / 2;
  std::int64_t best = 0;
  for (int i = 0; i < t.size(); ++i)
    for (int j = i + 1; j < t.size(); ++j) best = std::max(best, topology_pair_weight(t, i, j));
  if (pairs == 0 || best == 0) return 0.0;
  return static_cast<double>(topology_set_score(t, gpus)) / static_cast<double>(pairs * best);
}

/// @brief A node policy that prefers nodes where the best k-GPU set is tighter.
template <class Base>
struct TopologyAware {
  Base base{};
  std::shared_ptr<const NodeTopologies> topologies;
  TopologySetOptions options{};
  double weight = 1000.0;  ///< weight of tightness against the base primary score
  GpuFit gpu_fit = Base{}.gpu_fit;

  static const char* name() { return "topology-aware"; }

  /// @brief The node's topology if known and sized like the node, else nullptr.
  const Topology* topology_of(const NodeView& v) const {
    if (!topologies) return nullptr;
    auto it = topologies->find(v.name());
    if (it == topologies->end() || it->second.size() != v.gpu_count()) return nullptr;
    return &it->second;
  }

  bool choose_gpus(const NodeView& v, const Request& r, GpuChoice& c) {
    const Topology* t = topology_of(v);
    if (r.gpu.count < 2 || !t) return policy_choose_gpus(base, v, r, c);
    std::vector<int> fit;
    for (int g = 0; g < v.gpu_count(); ++g)
      if (gpu_fits(v, g, r)) fit.push_back(g);
    auto best = best_gpu_set(*t, fit, r.gpu.count, {}, options);
    if (!best.found) return false;
    c.gpus = best.gpus;
    c.remaining_milli = c.remaining_mib = 0;
    for (int g : c.gpus) {
      c.remaining_milli += v.free_milli[g] - r.gpu.milli;
      c.remaining_mib += v.free_mib[g] - r.gpu.mib;
    }
    return true;
  }

  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice& c) const {
    std::optional<Score> b = base.score(v, r, c);
    if (!b) return std::nullopt;
    const Topology* t = topology_of(v);
    const double tight = (r.gpu.count >= 2 && t) ? topology_tightness(*t, c.gpus) : 0.0;
    return Score{weight * tight + b->primary, b->secondary};
  }
};

}  // namespace gpushare
