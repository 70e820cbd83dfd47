// gpushare/sim/policies/strand_aware_fgd.hpp — StrandAwareFGD: fragmentation gradient
// descent on a target workload learned online from the arrived pods, with the GPU compute that
// the node's CPU cannot feed counted as fragmentation too.
//
// Lives in sim/ because it scores the simulator's NodeState. Registered in policies.hpp under
// "StrandAwareFGD"; the replay feeds it the learned target (SimPolicy::learns_target).
// The alias "best" now names HostReservingFGD, which builds on this measure: see
// gpushare/sim/policies/host_reserving_fgd.hpp.
//
// @code
//   gpushare::sim::Replayer r(nodes, pods);
//   auto res = r.run(gpushare::sim::sim_policy("StrandAwareFGD"), 42);
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief CPU the observed GPU workload needs per whole GPU, in milli-cores: the
/// weight-averaged CPU request of the GPU shapes of `tw` divided by their weight-averaged GPU
/// request (0 when `tw` has no GPU shape).
inline double cpu_per_gpu(const TargetWorkload& tw) {
  double c = 0, g = 0;
  for (const auto& ts : tw.shapes)
    if (ts.shape.num > 0) {
      c += ts.weight * double(ts.shape.cpu);
      g += ts.weight * double(ts.shape.total_milli());
    }
  return g > 0 ? c / g * 1000.0 : 0.0;
}

/// @brief Idle GPU milli of a node that its CPU left cannot feed at `cpg` milli-cores per GPU:
/// max(0, idle GPU milli - cpu_left * 1000 / cpg). These GPUs are stranded by CPU, whatever
/// the GPU shape of the next task (the cpu* traces show the effect).
inline double cpu_stranded_milli(std::int64_t cpu_left, const std::int16_t* left, int gpus, double cpg) {
  if (cpg <= 0) return 0.0;
  std::int64_t L = 0;
  for (int g = 0; g < gpus; ++g) L += left[g];
  return std::max(0.0, double(L) - double(std::max<std::int64_t>(cpu_left, 0)) * 1000.0 / cpg);
}

namespace detail {

/// Node "badness" for the learned workload: FGD fragmentation plus CPU-stranded GPU milli.
inline double strand_aware_frag(std::int64_t cpu_left, const std::int16_t* left, int gpus, int model,
                                const TargetWorkload& tw, double cpg) {
  return node_frag(cpu_left, left, gpus, model, tw) + cpu_stranded_milli(cpu_left, left, gpus, cpg);
}

/// FGD's points for a gradient (milli): int(100 * sigmoid((before - after) / 1000)).
inline std::int64_t gradient_points(double before, double after) {
  return std::int64_t(100.0 / (1.0 + std::exp(-(before - after) / 1000.0)));
}

}  // namespace detail

/// @brief Score of StrandAwareFGD for placing shape `s` on feasible node `n` under the learned
/// workload `tw`; for a GPU-sharing pod also reports the GPU to use in *gpu.
///
/// The idea. FGD (Weng et al., ATC'23) places each task where the node's expected
/// fragmentation under a target workload grows least. Two things it leaves on the table:
///  1. It is told the workload up front. Here the target is the popularity of the shapes of the
///     pods seen so far (Replayer rebuilds it at 1, 2, 4, ... arrivals), so it follows the
///     observed, possibly drifting, mix and needs no knowledge of the future.
///  2. Its measure only sees CPU through "does the next task fit now". A GPU node whose CPU is
///     used up by CPU-heavy or CPU-only tasks strands its idle GPUs for every later task, and
///     greedy FGD does not see this coming until a threshold is crossed. We add to the
///     fragmentation the idle GPU milli the node's remaining CPU cannot feed at the workload's
///     observed CPU-per-GPU ratio (cpu_per_gpu of the learned target). Placements that keep CPU
///     and GPU in the proportion the workload uses them are preferred, so CPU-only tasks go
///     to nodes with surplus CPU or no idle GPU.
/// The score is FGD's sigmoid of the change of that sum (same integer resolution as FGD: ties
/// go to the replay's random node priority). The GPU of a sharing pod is the one with the best
/// score, the lowest index among equals; exclusive pods take the lowest-indexed free GPUs.
inline std::int64_t score_strand_aware_fgd(const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* gpu) {
  const double cpg = cpu_per_gpu(tw);
  auto frag = [&](std::int64_t cpu_left, const std::int16_t* left, int gpus, int model) {
    return detail::strand_aware_frag(cpu_left, left, gpus, model, tw, cpg);
  };
  return gradient_score(n, s, frag, detail::gradient_points, gpu);
}

}  // namespace sim
}  // namespace gpushare
