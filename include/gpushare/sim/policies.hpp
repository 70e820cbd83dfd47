// gpushare/sim/policies.hpp — the trace simulator's node-scoring policies, as values in a
// registry selectable by name: Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD, exactly
// as the FGD paper's simulator scores them (integer truncation and normalisation included).
//
// A policy is a plain value: a raw score function of (node state, pod shape, target workload),
// whether the raw scores are min-max normalised over the feasible nodes, and how a GPU-sharing
// pod's GPU is chosen. The replay picks the node with the highest score; ties go to the node
// with the smallest per-seed priority. Adding a policy = its score function, one entry in
// simulator_policies() and one row in the catalogue (gpushare/catalogue.hpp), which names it.
//
// @code
//   const gpushare::sim::SimPolicy& p = *gpushare::sim::find_simulator_policy("FGD");
//   int gpu = -1;
//   std::int64_t s = p.score(state.node(0), shape, target, &gpu);
// @endcode
#pragma once

#include <cstdint>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/sim/policies/strand_aware_fgd.hpp"
#include "gpushare/sim/state.hpp"
#include "gpushare/sim/policies/host_reserving_fgd.hpp"

namespace gpushare {
namespace sim {

/// @brief How a GPU-sharing pod's GPU is chosen on the selected node.
enum class GpuSelect {
  best_fit,    ///< least milli left among GPUs with enough, lowest index on ties
  random,      ///< uniform among GPUs with enough left
  from_score,  ///< the GPU the score function reported (FGD)
};

/// @brief A node-scoring policy of the simulator, as a value.
struct SimPolicy {
  std::string name;
  /// Raw score of placing `s` on feasible node `n`; may set *gpu for GPU-sharing pods (from_score).
  /// The score must depend only on (n, s, target), and not on the order of the GPUs (only on
  /// their milli left as a multiset; *gpu may), so the replay may keep it per node state
  /// (sim/score_index.hpp).
  std::function<std::int64_t(const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* gpu)> score;
  bool normalize = false;       ///< min-max normalise raw scores over the feasible nodes (integer)
  bool random_node = false;     ///< ignore scores: pick a feasible node uniformly at random
  GpuSelect gpu_select = GpuSelect::best_fit;
  std::string description;
  /// When true the replay passes, instead of the trace's up-front target workload, a target
  /// learned online from the pods that have arrived so far (see Replayer::run).
  bool learns_target = false;
  /// Optional, for learns_target policies: called by the replay with the cluster state, the
  /// shapes it knows and how many pods of each have arrived, each time another 0.25% of the
  /// cluster's GPU capacity has arrived and right after the learned target is rebuilt. It may
  /// update the target's cluster-dependent part (TargetWorkload::scarce) and then appends to
  /// `stale` the nodes whose scores that changes (the replay re-scores those).
  std::function<void(const SimState& st, const std::vector<PodShape>& shapes,
                     const std::vector<std::int64_t>& arrived_count, TargetWorkload& learned,
                     std::vector<std::uint32_t>& stale)> adapt = nullptr;
};

namespace detail {

constexpr double kMaxSpecCpu = 128000.0;
constexpr double kMaxSpecGpu = 8000.0;

inline std::int64_t score_zero(const NodeState&, const PodShape&, const TargetWorkload&, int*) { return 0; }

inline std::int64_t score_dotprod(const NodeState& n, const PodShape& s, const TargetWorkload&, int*) {
  if (n.cpu_left < s.cpu) return 0;
  const double nc = double(n.cpu_left) / kMaxSpecCpu, ng = double(n.idle_milli()) / kMaxSpecGpu;
  const double pc = double(s.cpu) / kMaxSpecCpu, pg = double(s.total_milli()) / kMaxSpecGpu;
  const double v = 1.0 - (nc * pc + ng * pg) / 2.0;
  return std::int64_t(100.0 * v);
}

inline std::int64_t score_clustering(const NodeState& n, const PodShape& s, const TargetWorkload&, int*) {
  const int tag = affinity_tag(s);
  if (tag < 0) return 0;
  const std::int64_t base = 25 * (8000 - n.idle_milli()) / 8000;
  if (n.affinity[tag] > 0) return n.affinity_tags == 1 ? base + 75 : base + 50;
  return n.affinity_tags == 0 ? base + 25 : base;
}

inline std::int64_t score_packing(const NodeState& n, const PodShape& s, const TargetWorkload&, int*) {
  if (s.num == 0) return 0;
  int free = 0;
  for (int g = 0; g < n.gpus; ++g) free += n.left[g] == 1000;
  if (free == n.gpus) return std::max(33 - free, free);
  // GPUs in ascending order of left (stable), first s.num with enough.
  int idx[kMaxGpusPerNode];
  for (int g = 0; g < n.gpus; ++g) idx[g] = g;
  std::stable_sort(idx, idx + n.gpus, [&](int a, int b) { return n.left[a] < n.left[b]; });
  int taken = 0, k = 0;
  std::int64_t sum = 0;
  for (int i = 0; i < n.gpus && taken < s.num; ++i) {
    const int g = idx[i];
    if (n.left[g] >= s.milli) {
      ++taken;
      k += n.left[g] == 1000;
      sum += std::int64_t(n.left[g]) * 100 / 1000;
    }
  }
  if (k > 0) return std::max<std::int64_t>(50 - k, 33);
  return std::max<std::int64_t>(100 - sum / 10, 50);
}

inline std::int64_t score_bestfit(const NodeState& n, const PodShape& s, const TargetWorkload&, int*) {
  const double raw = 0.5 * double(n.cpu_left - s.cpu) / kMaxSpecCpu +
                     0.5 * double(n.idle_milli() - s.total_milli()) / kMaxSpecGpu;
  return std::int64_t((1.0 - raw) * 100.0);
}

inline std::int64_t fgd_points(double f0, double f1) {
  const double x = (f0 - f1) / 1000.0;
  return std::int64_t(1.0 / (1.0 + std::exp(-x)) * 100.0);  // sigmoid first, then x100, as upstream rounds
}

inline std::int64_t score_fgd(const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* gpu) {
  auto frag = [&](std::int64_t cpu_left, const std::int16_t* left, int gpus, int model) {
    return node_frag(cpu_left, left, gpus, model, tw);
  };
  return gradient_score(n, s, frag, fgd_points, gpu);
}

}  // namespace detail

/// @brief The simulator's policies, immutable; the catalogue (gpushare/catalogue.hpp) names
/// them (sim_policy("fgd"), sim_policy("FGD"), ...).  Index order: Random, DotProd,
/// GpuClustering, GpuPacking, BestFit, FGD (the paper's six), StrandAwareFGD, HostReservingFGD.
inline const std::vector<SimPolicy>& simulator_policies() {
  static const std::vector<SimPolicy> t = [] {
    using namespace detail;
    std::vector<SimPolicy> m;
    m.push_back({"Random", &score_zero, false, true, GpuSelect::random,
                 "uniform over feasible nodes; sharing pods on a uniform GPU with enough left"});
    m.push_back({"DotProd", &score_dotprod, false, false, GpuSelect::best_fit,
                 "int(100*(1 - <node free, pod demand>/2)) over (cpu/128000, gpu/8000): smallest alignment wins"});
    m.push_back({"GpuClustering", &score_clustering, false, false, GpuSelect::best_fit,
                 "prefer nodes already running GPU pods of the same kind (share / n-GPU), then fuller nodes"});
    m.push_back({"GpuPacking", &score_packing, false, false, GpuSelect::best_fit,
                 "prefer partly used GPUs, then partly used nodes, then idle nodes"});
    m.push_back({"BestFit", &score_bestfit, true, false, GpuSelect::best_fit,
                 "least CPU+GPU left after placing, min-max normalised over feasible nodes"});
    m.push_back({"FGD", &score_fgd, false, false, GpuSelect::from_score,
                 "fragmentation gradient descent: int(100*sigmoid((frag before - frag after)/1000))"});
    m.push_back({"StrandAwareFGD", &score_strand_aware_fgd, false, false, GpuSelect::from_score,
                 "FGD on a workload learned online from arrived pods, CPU-stranded GPU milli counted as "
                 "fragmentation (sim/policies/strand_aware_fgd.hpp)", true});
    m.push_back({"HostReservingFGD", &score_host_reserving_fgd, false, false, GpuSelect::from_score,
                 "StrandAwareFGD plus the GPU milli expected to fail when a node gives up a placement of a "
                 "shape whose hosts are running out (sim/policies/host_reserving_fgd.hpp)", true,
                 &adapt_host_reservation});
    return m;
  }();
  return t;
}

/// @brief The simulator policy labelled `label` (SimPolicy::name), or null.
inline const SimPolicy* find_simulator_policy(const std::string& label) {
  for (const auto& p : simulator_policies())
    if (p.name == label) return &p;
  return nullptr;
}

}  // namespace sim
}  // namespace gpushare
