// gpushare/k8s/fragmentation.hpp — the FGD fragmentation measure (sim/state.hpp, Weng et al.,
// ATC'23) of every node of a model Cluster, for a target workload learned from the pods the
// cluster holds and waits for.  What the extender's /inspect reports per node.
//
// The measure of a node is the idle GPU compute (milli-GPU) that the typical task cannot use,
// weighted over the target workload's shapes: all of a node's idle GPUs for a shape that does
// not fit there (GPUs, CPU or model), the GPUs with too little left for a shape that does.
// The target is the shapes (CPU, milli per GPU, GPU count, model constraint) of the allocated
// and pending pods, the most frequent first until 95% of them are covered
// (sim::TargetWorkload::from_counts).  GPU memory does not enter the measure (as in FGD).
//
// @code
//   gpushare::k8s::ObservedWorkload w(cluster, pending_requests);
//   double f = w.node_frag(cluster.view(0));   // milli-GPU, 0 for a node with no idle GPU
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/model/request.hpp"
#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace k8s {

/// @brief The target workload of a live cluster and the per-node FGD measure under it.
class ObservedWorkload {
 public:
  /// @brief Learns the target from `c`'s allocations and the `pending` requests.  The GPU
  /// models of the cluster are numbered in order of first appearance (at most 31 distinct;
  /// further models count as unknown: only unconstrained shapes fit them).
  ObservedWorkload(const Cluster& c, const std::vector<Request>& pending, double coverage = 0.95) {
    for (std::size_t i = 0; i < c.size(); ++i)
      for (const Gpu& g : c.nodes()[i].gpus)
        if (!model_id_.count(g.model) && model_id_.size() < kMaxModels)
          model_id_.emplace(g.model, static_cast<int>(model_id_.size()));
    std::vector<sim::PodShape> shapes;
    std::vector<std::int64_t> counts;
    auto count = [&](const sim::PodShape& s) {
      auto it = std::find(shapes.begin(), shapes.end(), s);
      if (it == shapes.end()) {
        shapes.push_back(s);
        counts.push_back(1);
      } else {
        ++counts[static_cast<std::size_t>(it - shapes.begin())];
      }
    };
    for (const Placement& p : c.allocations()) {
      sim::PodShape s;
      s.cpu = p.cpu_milli;
      s.num = static_cast<int>(p.gpus.size());
      s.milli = s.num > 0 ? static_cast<int>(std::min<std::int64_t>(p.milli_per_gpu, 32767)) : 0;
      count(s);  // a placement does not keep its model constraint: any model
    }
    for (const Request& r : pending) count(shape_of(r));
    shapes_ = static_cast<int>(shapes.size());
    pods_ = 0;
    for (auto n : counts) pods_ += n;
    target_ = sim::TargetWorkload::from_counts(shapes, counts, coverage);
  }

  /// @brief The FGD shape of a request: its CPU, GPU count and milli per GPU, and its model
  /// constraint over the cluster's models.
  sim::PodShape shape_of(const Request& r) const {
    sim::PodShape s;
    s.cpu = r.cpu_milli;
    s.num = r.gpu.count;
    s.milli = r.gpu.count > 0 ? static_cast<int>(std::min<std::int64_t>(r.gpu.milli, 32767)) : 0;
    if (r.constrains_models()) {
      for (const auto& kv : model_id_)
        if (r.accepts_model(kv.first)) s.spec_mask |= 1u << kv.second;
      if (s.spec_mask == 0) s.spec_mask = 1u << kNoModelBit;  // accepts none of the cluster's models
    }
    return s;
  }

  /// @brief FGD fragmentation of one node in milli-GPU.  Unhealthy GPUs count as having
  /// nothing left; the node's model is its GPU 0's.
  double node_frag(const NodeView& v) const {
    const int n = v.gpu_count();
    std::vector<std::int16_t> left(static_cast<std::size_t>(n));
    for (int g = 0; g < n; ++g)
      left[static_cast<std::size_t>(g)] =
          v.gpu(g).healthy ? static_cast<std::int16_t>(std::clamp<std::int64_t>(v.free_milli[g], 0, 32767)) : 0;
    int model = -1;
    if (n > 0)
      if (auto it = model_id_.find(v.gpu(0).model); it != model_id_.end()) model = it->second;
    return sim::node_frag(v.free_cpu_milli, left.data(), n, model, target_);
  }

  const sim::TargetWorkload& target() const { return target_; }
  /// @brief Distinct shapes seen and pods counted (the target keeps the most frequent).
  int shapes_seen() const { return shapes_; }
  std::int64_t pods_counted() const { return pods_; }

 private:
  static constexpr std::size_t kMaxModels = 31;
  static constexpr int kNoModelBit = 31;
  std::map<std::string, int> model_id_;
  sim::TargetWorkload target_;
  int shapes_ = 0;
  std::int64_t pods_ = 0;
};

}  // namespace k8s
}  // namespace gpushare
