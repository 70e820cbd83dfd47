// gpushare/solve/node_policies.hpp — the basic node policies: first fit, best fit, binpack,
// spread and random.
//
// A policy is a small value with
//   - `GpuFit gpu_fit`: how GPUs are chosen inside a node (see gpu_choice.hpp), and
//   - `std::optional<Score> score(const NodeView&, const Request&, const GpuChoice&)`:
//     how good the node is for the request given that GPU choice (higher wins; std::nullopt
//     rejects the node).
// `schedule(cluster, request, policy)` (schedule.hpp) evaluates every feasible node and takes
// the best score, lowest node index on ties.  Adding a policy is one struct like these.
//
// @code
//   auto r = gpushare::schedule(cluster, req, gpushare::BinPack{});
//   auto s = gpushare::schedule(cluster, req, gpushare::Random{42});   // seeded
// @endcode
#pragma once

#include <cstdint>
#include <optional>
#include <random>

#include "gpushare/model/cluster.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/score.hpp"

namespace gpushare {

namespace detail {
inline double share(std::int64_t used, std::int64_t total) {
  return total > 0 ? static_cast<double>(used) / static_cast<double>(total) : 0.0;
}
// Allocated shares of a node after placing `r` with `c`: GPU compute, and the mean of CPU and
// host memory.  Unhealthy GPUs count as capacity (they are part of the node) but take no work.
inline Score utilisation_after(const NodeView& v, const Request& r, const GpuChoice& c) {
  std::int64_t gpu_total = 0, gpu_free = 0;
  for (int g = 0; g < v.gpu_count(); ++g) {
    gpu_total += v.gpu(g).milli_total;
    gpu_free += v.free_milli[g];
  }
  gpu_free -= r.gpu.milli * static_cast<std::int64_t>(c.gpus.size());
  const Node& n = *v.node;
  const double cpu = share(n.cpu_milli - v.free_cpu_milli + r.cpu_milli, n.cpu_milli);
  const double mem = share(n.host_mib - v.free_host_mib + r.host_mib, n.host_mib);
  return Score{share(gpu_total - gpu_free, gpu_total), (cpu + mem) / 2};
}
}  // namespace detail

/// @brief First fit: the lowest-indexed node that fits (GPUs by first fit too).
struct FirstFit {
  GpuFit gpu_fit = GpuFit::first;
  /// Every feasible node scores the same, so the tie-break (lowest index) decides and
  /// `schedule` may stop at the first feasible node.
  static constexpr bool first_feasible_wins = true;
  static const char* name() { return "first-fit"; }
  std::optional<Score> score(const NodeView&, const Request&, const GpuChoice&) const { return Score{}; }
};

/// @brief Best fit: the node whose chosen GPUs are left with the least free capacity
/// (remaining milli-GPU, then remaining MiB); for CPU-only requests the node left with the
/// least free CPU, then host memory.  Single-GPU requests use the cluster's FreeGpuIndex.
struct BestFit {
  GpuFit gpu_fit = GpuFit::best;
  static constexpr bool uses_free_gpu_index = true;
  static const char* name() { return "best-fit"; }
  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice& c) const {
    if (r.gpu.count == 0) {
      return Score{-static_cast<double>(v.free_cpu_milli - r.cpu_milli),
                   -static_cast<double>(v.free_host_mib - r.host_mib)};
    }
    return Score{-static_cast<double>(c.remaining_milli), -static_cast<double>(c.remaining_mib)};
  }
};

/// @brief Binpack: the node most allocated after placement — GPU compute share first, then
/// the mean of CPU and host-memory shares.  GPUs inside the node by best fit.
struct BinPack {
  GpuFit gpu_fit = GpuFit::best;
  static const char* name() { return "binpack"; }
  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice& c) const {
    return detail::utilisation_after(v, r, c);
  }
};

/// @brief Spread: the node least allocated after placement (the negation of BinPack's score);
/// GPUs inside the node by worst fit, so load spreads across GPUs too.
struct Spread {
  GpuFit gpu_fit = GpuFit::worst;
  static const char* name() { return "spread"; }
  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice& c) const {
    const Score u = detail::utilisation_after(v, r, c);
    return Score{-u.primary, -u.secondary};
  }
};

/// @brief Random: a uniformly random feasible node, reproducible from `seed`.  GPUs inside
/// the node by first fit.  Each feasible node draws one number; the largest wins, which is
/// uniform over feasible nodes.
struct Random {
  explicit Random(std::uint64_t seed = 0) : rng(seed) {}
  GpuFit gpu_fit = GpuFit::first;
  std::mt19937_64 rng;
  static const char* name() { return "random"; }
  std::optional<Score> score(const NodeView&, const Request&, const GpuChoice&) {
    // 53 random bits scaled to [0, 1): unlike std::uniform_real_distribution this gives the
    // same sequence with every standard library, so seeds reproduce across platforms.
    return Score{static_cast<double>(rng() >> 11) * 0x1.0p-53, 0.0};
  }
};

}  // namespace gpushare
