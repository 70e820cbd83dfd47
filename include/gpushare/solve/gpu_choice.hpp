// gpushare/solve/gpu_choice.hpp — which GPUs of one node a demand gets.
//
// Three rules, each deterministic:
//  - best fit: the GPUs left with the least room after placement, measured first by remaining
//    milli-GPU, then by remaining MiB; ties go to the lowest GPU index.
//  - worst fit (spread): the GPUs left with the most room, same measure; ties to lowest index.
//  - first fit: the lowest-indexed GPUs that fit.
// A GPU fits when it is healthy, its model is accepted by the request, and it has at least
// `milli` compute and `mib` memory free.
//
// @code
//   gpushare::GpuChoice c;
//   if (gpushare::choose_gpus(cluster.view(3), request, gpushare::GpuFit::best, c))
//     use(c.gpus);   // ascending GPU indices
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/model/request.hpp"

namespace gpushare {

/// @brief Rule for choosing GPUs inside one node.
enum class GpuFit { best, worst, first };

/// @brief Name of a GpuFit ("best", "worst", "first").
inline const char* to_string(GpuFit f) {
  switch (f) {
    case GpuFit::best: return "best";
    case GpuFit::worst: return "worst";
    case GpuFit::first: return "first";
  }
  return "?";
}

/// @brief GPUs chosen on one node, with what would remain on them afterwards.
struct GpuChoice {
  std::vector<int> gpus;               ///< ascending GPU indices
  std::int64_t remaining_milli = 0;    ///< sum over chosen GPUs of free milli after placement
  std::int64_t remaining_mib = 0;      ///< sum over chosen GPUs of free MiB after placement
};

/// @brief True if GPU g of the node can take one share of the request's GPU demand.
inline bool gpu_fits(const NodeView& v, int g, const Request& r) {
  const Gpu& gpu = v.gpu(g);
  return gpu.healthy && v.free_milli[g] >= r.gpu.milli && v.free_mib[g] >= r.gpu.mib &&
         (!r.constrains_models() || r.accepts_model(gpu.model));
}

namespace detail {
// Orders two fitting GPUs by the rule: true if a should be chosen before b.
inline bool gpu_before(const NodeView& v, int a, int b, GpuFit fit) {
  if (fit == GpuFit::first) return a < b;
  const std::int64_t ma = v.free_milli[a], mb = v.free_milli[b];
  const std::int64_t ya = v.free_mib[a], yb = v.free_mib[b];
  if (ma != mb) return fit == GpuFit::best ? ma < mb : ma > mb;
  if (ya != yb) return fit == GpuFit::best ? ya < yb : ya > yb;
  return a < b;
}
}  // namespace detail

/// @brief Chooses `r.gpu.count` distinct GPUs of the node by `fit`.  Returns false (and leaves
/// `out` unspecified) if fewer GPUs fit.  A request with no GPUs always succeeds with none.
inline bool choose_gpus(const NodeView& v, const Request& r, GpuFit fit, GpuChoice& out) {
  out.gpus.clear();
  out.remaining_milli = out.remaining_mib = 0;
  const int need = r.gpu.count;
  if (need == 0) return true;
  const int n = v.gpu_count();
  if (need > n) return false;
  if (need == 1) {  // one pass, no sort: the common case on shared GPUs
    int best = -1;
    for (int g = 0; g < n; ++g) {
      if (!gpu_fits(v, g, r)) continue;
      if (best < 0 || detail::gpu_before(v, g, best, fit)) best = g;
      if (fit == GpuFit::first) break;
    }
    if (best < 0) return false;
    out.gpus.push_back(best);
  } else {
    for (int g = 0; g < n; ++g)
      if (gpu_fits(v, g, r)) out.gpus.push_back(g);
    if (static_cast<int>(out.gpus.size()) < need) return false;
    std::partial_sort(out.gpus.begin(), out.gpus.begin() + need, out.gpus.end(),
                      [&](int a, int b) { return detail::gpu_before(v, a, b, fit); });
    out.gpus.resize(static_cast<std::size_t>(need));
    std::sort(out.gpus.begin(), out.gpus.end());
  }
  for (int g : out.gpus) {
    out.remaining_milli += v.free_milli[g] - r.gpu.milli;
    out.remaining_mib += v.free_mib[g] - r.gpu.mib;
  }
  return true;
}

}  // namespace gpushare
