// gpushare/modes/tencent/policy.hpp — catalogue policy `tencent` (alias `gpu-admission`):
// decide as tkestack gpu-admission (node and GPU choice) does, on the library's Cluster.
//
// A request maps to one container's ask: a whole-GPU request of n GPUs asks vcuda-core n*100, a
// share asks milli/10 cores and its memory in 256 MiB units (rounded up).  Nodes rank as
// gpu-admission tries them: ascending (free cores, free memory) — the least free first — and the
// GPUs on the node are chosen by tencent::place_on_node (shares: the GPU with the least free
// cores, then memory, then index, that fits; whole GPUs: completely free ones in that order).
// gpu-admission breaks equal (cores, memory) by node name; here equal scores go to the lowest
// node index (the same when nodes are added in name order).
//
// @code
//   auto r = gpushare::schedule(cluster, req, gpushare::modes::TencentAdmission{});
// @endcode
#pragma once

#include <algorithm>
#include <optional>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/modes/tencent/admission.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/score.hpp"

namespace gpushare {
namespace modes {

/// @brief tkestack gpu-admission decisions (see the file comment).
struct TencentAdmission {
  static const char* name() { return "tencent"; }
  static constexpr std::int64_t kUnitMib = 256;

  static std::vector<k8s::tencent::GpuState> gpus_of(const NodeView& v) {
    std::vector<k8s::tencent::GpuState> out;
    for (int g = 0; g < v.gpu_count(); ++g) {
      const Gpu& gpu = v.gpu(g);
      k8s::tencent::GpuState s;
      s.core_total = gpu.milli_total / 10;
      s.core_used = gpu.healthy ? (gpu.milli_total - v.free_milli[g] + 9) / 10 : s.core_total;
      s.mem_total = gpu.mib_total / kUnitMib;
      s.mem_used = gpu.healthy ? (gpu.mib_total - v.free_mib[g] + kUnitMib - 1) / kUnitMib : s.mem_total;
      out.push_back(s);
    }
    return out;
  }

  static k8s::tencent::ContainerAsk ask_of(const Request& r) {
    k8s::tencent::ContainerAsk a;
    if (r.gpu.count <= 0) return a;
    if (r.gpu.milli >= 1000) {
      a.cores = 100 * r.gpu.count;
    } else {
      a.cores = (r.gpu.milli + 9) / 10;
      a.memory_units = (r.gpu.mib + kUnitMib - 1) / kUnitMib;
    }
    return a;
  }

  bool choose_gpus(const NodeView& v, const Request& r, GpuChoice& c) const {
    c.gpus.clear();
    c.remaining_milli = c.remaining_mib = 0;
    if (r.gpu.count <= 0) return true;
    const k8s::tencent::ContainerAsk a = ask_of(r);
    if (!a.needs_gpu() || (a.cores < 100 && r.gpu.count != 1)) return false;  // gpu-admission has no such ask
    auto gpus = gpus_of(v);
    std::vector<std::vector<int>> out;
    if (!k8s::tencent::place_on_node(gpus, {a}, out) || out[0].size() != static_cast<std::size_t>(r.gpu.count))
      return false;
    c.gpus = out[0];
    std::sort(c.gpus.begin(), c.gpus.end());
    for (int g : c.gpus) {
      if (!gpu_fits(v, g, r)) return false;
      c.remaining_milli += v.free_milli[g] - r.gpu.milli;
      c.remaining_mib += v.free_mib[g] - r.gpu.mib;
    }
    return true;
  }

  std::optional<Score> score(const NodeView& v, const Request&, const GpuChoice&) const {
    k8s::tencent::NodeState n{v.name(), gpus_of(v)};
    return Score{-static_cast<double>(n.free_cores()), -static_cast<double>(n.free_mem())};
  }
};

}  // namespace modes
}  // namespace gpushare
