// gpushare/modes/aliyun/policy.hpp — catalogue policy `aliyun-binpack`: decide as the Aliyun
// gpushare-scheduler-extender does, on the library's Cluster.
//
// The whole pod goes on ONE GPU (a request for several GPUs fits nowhere); a node passes iff a
// healthy GPU has free memory >= the request (aliyun::filter); the GPU is the healthy one with
// the least free memory that fits, lowest index on ties (aliyun::bind); the node score is
// aliyun::score, the memory left on that GPU negated (tighter wins; equal scores go to the lowest
// node index).  Memory is compared in MiB (the dialect converts gpu-mem GiB at the edge); the
// chosen GPU must also have the request's compute, so the cluster is never over-allocated.
//
// @code
//   auto r = gpushare::schedule(cluster, req, gpushare::modes::AliyunBinpack{});
// @endcode
#pragma once

#include <optional>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/modes/aliyun/aliyun.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/score.hpp"

namespace gpushare {
namespace modes {

/// @brief Aliyun gpushare-scheduler-extender decisions (see the file comment).
struct AliyunBinpack {
  static const char* name() { return "aliyun-binpack"; }

  static std::vector<k8s::aliyun::GpuState> gpus_of(const NodeView& v) {
    std::vector<k8s::aliyun::GpuState> out;
    for (int g = 0; g < v.gpu_count(); ++g)
      out.push_back({v.gpu(g).mib_total, v.gpu(g).mib_total - v.free_mib[g], v.gpu(g).healthy});
    return out;
  }

  bool choose_gpus(const NodeView& v, const Request& r, GpuChoice& c) const {
    if (r.gpu.count != 1) return false;
    const auto gpus = gpus_of(v);
    if (!k8s::aliyun::filter(gpus, r.gpu.mib).pass) return false;
    const k8s::aliyun::BindResult b = k8s::aliyun::bind(gpus, r.gpu.mib);
    if (!b.ok() || !gpu_fits(v, b.gpu, r)) return false;
    c.gpus = {b.gpu};
    c.remaining_milli = v.free_milli[b.gpu] - r.gpu.milli;
    c.remaining_mib = v.free_mib[b.gpu] - r.gpu.mib;
    return true;
  }

  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice&) const {
    return Score{static_cast<double>(k8s::aliyun::score(gpus_of(v), r.gpu.mib)), 0.0};
  }
};

}  // namespace modes
}  // namespace gpushare
