// gpushare/sim/learner.hpp — the workload a learning policy (best, or fgd without a given
// target) learns online from the pods it sees: counts per pod shape and, when the mix has moved,
// a rebuilt TargetWorkload.  One implementation, used by the trace replay (sim/replay.hpp) and by
// the live policies on the library's Cluster (sim/live_policy.hpp), so both learn the same target
// from the same arrivals.
//
// Schedule: the mix is checked at 1, 256, 512, 1024 arrivals and then every 512; the target is
// rebuilt when the shape mix moved by more than 10% (total variation) since the last rebuild.
// Policies that adapt the target to the cluster (best) look at it every 0.25% of the cluster's
// GPU capacity arrived (adapt_due).
//
// @code
//   gpushare::sim::WorkloadLearner l(0.95);
//   std::vector<gpushare::sim::PodShape> shapes = {{4000, 500, 1, 0}};
//   l.resize(shapes.size());
//   if (l.observe(shapes, 0)) { /* l.learned was rebuilt */ }
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief Online target workload: arrived shape counts and the target learned from them.
struct WorkloadLearner {
  explicit WorkloadLearner(double target_coverage = 0.95) : coverage(target_coverage) {}

  double coverage;                  ///< share of tasks the learned target's shapes cover
  std::vector<std::int64_t> seen;   ///< arrived pods per shape id
  std::vector<std::int64_t> adopted;  ///< `seen` when the target was last rebuilt
  TargetWorkload learned;           ///< the target in use
  std::int64_t next_refresh = 1, arrivals = 0, adopted_n = 0;
  std::int64_t arrived_milli = 0, next_adapt = 0;

  /// @brief Make room for shape ids below `n` (new shapes start with no arrivals).
  void resize(std::size_t n) {
    if (seen.size() < n) {
      seen.resize(n, 0);
      adopted.resize(n, 0);
    }
  }

  /// @brief Count an arrived pod of shape `shapes[id]` (resize() first); true when the learned
  /// target was rebuilt (from `shapes` and the counts).
  bool observe(const std::vector<PodShape>& shapes, std::uint32_t id) {
    seen[id]++;
    if (++arrivals < next_refresh) return false;
    // After the first pod, the next check waits for 256 arrivals: rebuilding from a handful of
    // pods only re-scores nodes that are still empty (and costs a third of the replay time).
    next_refresh = arrivals < 256 ? 256 : arrivals < 1024 ? arrivals * 2 : arrivals + 512;
    double tv = 0;  // total-variation distance between the mix seen now and the one in use
    for (std::size_t k = 0; k < seen.size(); ++k)
      tv += std::abs(double(seen[k]) / double(arrivals) - (adopted_n ? double(adopted[k]) / double(adopted_n) : 0.0));
    if (!(tv / 2 > 0.1 || adopted_n == 0)) return false;
    learned = TargetWorkload::from_counts(shapes, seen, coverage);
    adopted = seen;
    adopted_n = arrivals;
    return true;
  }

  /// @brief Add `milli` arrived GPU demand; true when another 0.25% of `capacity_milli` has
  /// arrived since the last time this returned true (time for an adapting policy to look).
  bool adapt_due(std::int64_t milli, std::int64_t capacity_milli) {
    arrived_milli += milli;
    if (arrived_milli < next_adapt) return false;
    next_adapt = arrived_milli + std::max<std::int64_t>(1, capacity_milli / 400);
    return true;
  }
};

}  // namespace sim
}  // namespace gpushare
