// gpushare/sim/policies/host_reserving_fgd.hpp — HostReservingFGD (registry alias `best`): the trace
// simulator's recommended placement policy. StrandAwareFGD (sim/policies/strand_aware_fgd.hpp) plus a
// reservation of the nodes that are the last hosts of a shape still expected to arrive.
//
// It scores the simulator's NodeState (sim/state.hpp) and learns its target online; it is
// registered in sim/policies.hpp as "HostReservingFGD" and "best".
//
// @code
//   gpushare::sim::Replayer r(nodes, pods);
//   auto res = r.run(gpushare::sim::sim_policy("best"), 42);   // or "HostReservingFGD"
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "gpushare/sim/policies/strand_aware_fgd.hpp"
#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief How many tasks of shape `t` fit on a node with `cpu_left` milli-cores and
/// `left[0..gpus)` milli per GPU (CPU, GPUs and model; memory is not counted). 0 for CPU-only shapes.
/// @code
///   int16_t left[2] = {1000, 500};
///   PodShape half; half.cpu = 4000; half.milli = 500; half.num = 1;
///   copies_that_fit(16000, left, 2, -1, half);   // 3
/// @endcode
inline int64_t copies_that_fit(int64_t cpu_left, const int16_t* left, int gpus, int model, const PodShape& t) {
  if (t.num == 0 || t.milli <= 0 || !t.accepts_model(model) || cpu_left < std::max<int64_t>(t.cpu, 0)) return 0;
  // Integer division only where a node offers more than one placement: the cluster look
  // (adapt_host_reservation) calls this for every node.
  int64_t by_gpu = 0;
  if (t.is_share()) {
    for (int g = 0; g < gpus; ++g) by_gpu += left[g] >= t.milli ? left[g] / t.milli : 0;
  } else {
    int enough = 0;
    for (int g = 0; g < gpus; ++g) enough += left[g] >= t.milli;
    by_gpu = enough >= t.num ? enough / t.num : 0;
  }
  if (by_gpu <= 1 || t.cpu <= 0) return by_gpu;  // the CPU check above decides one placement
  return std::min(cpu_left / t.cpu, by_gpu);
}

/// @brief P(N >= k) for N Poisson with mean `mean` (exact sum up to a mean of 30, normal
/// approximation with continuity correction above).
inline double poisson_at_least(double mean, int64_t k) {
  if (k <= 0) return 1.0;
  if (!(mean > 0)) return 0.0;
  if (mean > 30) return 0.5 * std::erfc((double(k) - 0.5 - mean) / std::sqrt(2.0 * mean));
  double term = std::exp(-mean), below = 0;
  for (int64_t i = 0; i < k && term > 0; ++i) {
    below += term;
    term *= mean / double(i + 1);
  }
  return std::max(0.0, 1.0 - below);
}

/// @brief The GPU shapes of `tw` grouped by (milli per GPU, GPU count), in first-seen order.
inline std::vector<ShapeClass> shape_classes(const TargetWorkload& tw) {
  std::vector<ShapeClass> out;
  for (const auto& ts : tw.shapes) {
    if (ts.shape.num == 0) continue;
    auto it = std::find_if(out.begin(), out.end(), [&](const ShapeClass& c) {
      return c.milli == ts.shape.milli && c.num == ts.shape.num;
    });
    if (it == out.end()) it = out.insert(out.end(), ShapeClass{ts.shape.milli, ts.shape.num, 0.0, {}});
    it->weight += ts.weight;
    it->shapes.push_back(ts);
  }
  return out;
}

namespace detail {

/// node_frag(cpu_left, left, gpus, model, tw) computed class by class: the GPUs are counted
/// once per class, not once per shape (same value, fewer passes).
inline double class_frag(int64_t cpu_left, const int16_t* left, int gpus, int model, double cpu_only_weight,
                         const std::vector<ShapeClass>& classes) {
  int64_t L = 0;
  for (int g = 0; g < gpus; ++g) L += left[g];
  if (L == 0) return 0.0;
  double f = cpu_only_weight * double(L);
  for (const auto& c : classes) {
    int enough = 0;
    int64_t small = 0;
    for (int g = 0; g < gpus; ++g) {
      if (left[g] >= c.milli) ++enough;
      else small += left[g];
    }
    if (enough < c.num) { f += c.weight * double(L); continue; }
    for (const auto& ts : c.shapes)
      f += ts.weight * double(cpu_left >= ts.shape.cpu && ts.shape.accepts_model(model) ? small : L);
  }
  return f;
}

/// GPU milli expected to fail because of what the node can no longer host: minus the sum, over
/// the scarce shapes, of (expected failed milli per lost placement) x (placements it still has).
inline double reserved_host_term(int64_t cpu_left, const int16_t* left, int gpus, int model, const TargetWorkload& tw) {
  double r = 0;
  for (const auto& s : tw.scarce) r += s.milli_per_host * double(copies_that_fit(cpu_left, left, gpus, model, s.shape));
  return -r;
}

/// What HostReservingFGD minimises on one node: FGD fragmentation + CPU-stranded GPU milli +
/// reserved-host term.
struct HostReservingMeasure {
  const TargetWorkload& tw;
  std::vector<ShapeClass> own;  // classes when tw was not adapted (scored outside a replay)
  const std::vector<ShapeClass>* classes;
  double cpg;
  explicit HostReservingMeasure(const TargetWorkload& t) : tw(t) {
    const bool adapted = !t.gpu_classes.empty();
    if (!adapted) own = shape_classes(t);
    classes = adapted ? &t.gpu_classes : &own;
    cpg = adapted ? t.cpu_per_gpu_milli : cpu_per_gpu(t);
  }
  double operator()(int64_t cpu_left, const int16_t* left, int gpus, int model) const {
    return class_frag(cpu_left, left, gpus, model, tw.cpu_only_weight, *classes) +
           cpu_stranded_milli(cpu_left, left, gpus, cpg) + reserved_host_term(cpu_left, left, gpus, model, tw);
  }
};

}  // namespace detail

/// @brief SimPolicy::adapt of HostReservingFGD: finds the shapes whose hosts are running out
/// and stores, in `tw.scarce`, the GPU milli expected to fail per placement a node gives up.
///
/// Everything comes from the cluster state and the pods that have arrived:
///  - R, the pods still to come before the cluster is full: idle GPU milli over the mean GPU
///    request per arrived pod, or idle CPU over the mean CPU request, whichever is smaller;
///  - per group of multi-GPU shapes and of model-pinned shapes (same GPU request and model constraint, hosted by the same
///    node types — (CPU capacity, GPU count, model) — when empty; the group stands for its most
///    CPU-hungry member), the expected arrivals A = R x its share of the arrived pods, and K,
///    the placements of it the nodes still offer (copies_that_fit summed over nodes);
///  - its pressure P(Poisson(A) >= K): the chance that its last host is needed, i.e. that one
///    placement fewer makes one of its pods fail. milli_per_host = pressure x the group's GPU milli.
/// Only tasks that need several GPUs of one node are protected: a one-GPU task, or a small
/// CPU-only one, can take away a whole 8-GPU host, while whatever one-GPU placements a task
/// takes away it takes away about equally on every node; that general filling up is what the
/// fragmentation and stranding terms already weigh (protecting one-GPU shapes too was tried:
/// it cost 0.3 points at 100% arrived on cpu250, docs/BEST_POLICY.md). The exception is a
/// task pinned to GPU models: its hosts are a subset of the cluster that unpinned tasks may
/// fill first, so pinned shapes of any size are protected too (without that, the variant with
/// 30% of the pods pinned uniformly over the models was 2.5 points behind FGD).
/// Pressures are rounded to 1/50 so that the score cache survives small moves; the nodes that
/// can host a shape whose value changed are appended to `stale`. Also fills tw.gpu_classes and
/// tw.cpu_per_gpu_milli when the target was just rebuilt.
inline void adapt_host_reservation(const SimState& st, const std::vector<PodShape>& shapes,
                                   const std::vector<int64_t>& arrived, TargetWorkload& tw,
                                   std::vector<uint32_t>& stale) {
  if (tw.gpu_classes.empty()) {
    tw.gpu_classes = shape_classes(tw);
    tw.cpu_per_gpu_milli = cpu_per_gpu(tw);
  }
  int64_t pods = 0;
  double gpu_demand = 0, cpu_demand = 0;
  for (size_t i = 0; i < arrived.size() && i < shapes.size(); ++i) {
    pods += arrived[i];
    gpu_demand += double(arrived[i]) * double(shapes[i].total_milli());
    cpu_demand += double(arrived[i]) * double(shapes[i].cpu);
  }
  if (pods == 0 || gpu_demand <= 0) return;
  double idle_cpu = 0;
  std::vector<std::tuple<int64_t, int, int>> types;  // (cpu capacity, gpus, model) of the nodes
  for (size_t i = 0; i < st.size(); ++i) {
    const NodeState& n = st.node(i);
    idle_cpu += double(std::max<int64_t>(n.cpu_left, 0));
    const auto key = std::make_tuple(n.cpu_cap, n.gpus, n.model);
    if (std::find(types.begin(), types.end(), key) == types.end()) types.push_back(key);
  }
  double to_come = double(st.total_gpu_milli() - st.used_gpu_milli()) / (gpu_demand / double(pods));
  if (cpu_demand > 0) to_come = std::min(to_come, idle_cpu / (cpu_demand / double(pods)));

  struct Group { PodShape shape; double expected = 0; };
  std::map<std::tuple<int, int, uint32_t, uint64_t>, Group> groups;
  for (size_t i = 0; i < arrived.size() && i < shapes.size(); ++i) {
    const PodShape& t = shapes[i];
    // Tasks that need several GPUs of one node, and tasks pinned to GPU models (whatever their
    // size: their hosts are a subset of the cluster that other tasks may take first).
    if (arrived[i] == 0 || (t.num < 2 && t.spec_mask == 0)) continue;
    uint64_t hosts = 0;  // node types (the first 64) that could host t when empty
    for (size_t k = 0; k < types.size() && k < 64; ++k)
      if (std::get<0>(types[k]) >= t.cpu && std::get<1>(types[k]) >= t.num && t.accepts_model(std::get<2>(types[k])))
        hosts |= uint64_t(1) << k;
    Group& g = groups[std::make_tuple(t.num, t.milli, t.spec_mask, hosts)];
    if (g.expected == 0 || t.cpu > g.shape.cpu) g.shape = t;
    g.expected += double(arrived[i]) / double(pods) * to_come;
  }
  std::vector<ScarceShape> scarce;
  for (const auto& e : groups) {
    const double a = e.second.expected;
    const double plenty = a + 12.0 * std::sqrt(a) + 20.0;  // P(Poisson(a) >= plenty) < 1e-30
    int64_t k = 0;
    for (size_t i = 0; i < st.size() && double(k) <= plenty; ++i) {
      const NodeState& n = st.node(i);
      k += copies_that_fit(n.cpu_left, n.left.data(), n.gpus, n.model, e.second.shape);
    }
    if (k == 0) continue;  // no host left: nothing to protect
    const double pressure = std::round(poisson_at_least(a, k) * 50.0) / 50.0;
    if (pressure > 0) scarce.push_back({e.second.shape, pressure * double(e.second.shape.total_milli())});
  }
  auto same = [](const ScarceShape& x, const ScarceShape& y) {
    return x.shape == y.shape && x.milli_per_host == y.milli_per_host;
  };
  std::vector<PodShape> changed;
  for (const auto& x : scarce)
    if (std::none_of(tw.scarce.begin(), tw.scarce.end(), [&](const ScarceShape& y) { return same(x, y); }))
      changed.push_back(x.shape);
  for (const auto& y : tw.scarce)
    if (std::none_of(scarce.begin(), scarce.end(), [&](const ScarceShape& x) { return same(x, y); }))
      changed.push_back(y.shape);
  if (changed.empty()) return;
  tw.scarce = std::move(scarce);
  for (size_t i = 0; i < st.size(); ++i) {
    const NodeState& n = st.node(i);
    for (const auto& t : changed)
      if (copies_that_fit(n.cpu_left, n.left.data(), n.gpus, n.model, t) > 0) {
        stale.push_back(uint32_t(i));
        break;
      }
  }
}

/// @brief Score of HostReservingFGD for placing `s` on feasible node `n` under the learned
/// (and adapted) workload `tw`; for a GPU-sharing pod also reports the GPU to use in *gpu.
///
/// The idea. FGD (Weng et al., ATC'23) places each task where the node's expected
/// fragmentation under a target workload grows least. StrandAwareFGD (sim/policies/strand_aware_fgd.hpp)
/// learns that target online from the arrived pods and counts GPUs the node's CPU can no
/// longer feed as fragmentation. Both judge a node alone: a G3 node with 128 cores is, to FGD,
/// one more 8-GPU node, even when it is one of the 39 nodes that can take the 8-GPU tasks
/// asking for 120 cores, and those keep arriving. HostReservingFGD adds what a placement costs
/// the rest of the workload: for every multi-GPU shape whose hosts are running out (see
/// adapt_host_reservation: expected arrivals until the cluster is full against the placements
/// the nodes still offer), each placement of it the node gives up counts as the GPU milli
/// expected to fail because of it. Shapes with plenty of hosts cost nothing, so the policy is
/// StrandAwareFGD until some shape's hosts get scarce; then the other tasks go elsewhere.
///
/// The score is FGD's sigmoid of the change of (fragmentation + CPU-stranded GPU milli +
/// reserved-host term), with FGD's integer resolution (ties go to the replay's random node
/// priority). The GPU of a sharing pod is the one with the best score, the lowest index among
/// equals; exclusive pods take the lowest-indexed free GPUs.
/// @param n a node on which `s` fits
/// @param s the pod's shape
/// @param tw the learned target, adapted by adapt_host_reservation (a plain target works too:
///        no shape is scarce then)
/// @param gpu receives the GPU for a GPU-sharing pod (may be null)
/// @return points in 0..100, higher is better
inline int64_t score_host_reserving_fgd(const NodeState& n, const PodShape& s, const TargetWorkload& tw, int* gpu) {
  return gradient_score(n, s, detail::HostReservingMeasure(tw), detail::gradient_points, gpu);
}

}  // namespace sim
}  // namespace gpushare
