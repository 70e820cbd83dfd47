// gpushare/sim/live_policy.hpp — a simulator policy (fgd, best, ...) deciding on the library's
// live Cluster, through schedule() and the extender, with the simulator's own score function.
//
// There is one implementation of the scoring: LivePolicy holds the SimPolicy (sim/policies.hpp)
// and calls its `score` and `adapt` on a NodeState built from the node's free capacities, so a
// pod fed through schedule() gets exactly the score the replay gives it.  What the replay knows
// up front the live policy learns from the pods it sees (observe()): the target workload
// (sim/learner.hpp, the same schedule as the replay) and, for best, the cluster-dependent
// host-reserving term, recomputed from the live cluster every 0.25% of its GPU capacity.
// A restarted service rebuilds it by observing the recovered pods again.
//
// Scores are cached per (node, request shape) and reused while the node's free CPU and GPU
// milli and the learned target are unchanged and the adapt hook has not named the node (what
// the replay's score trees re-score, sim/score_index.hpp, keyed by content instead).
//
// Ties: the highest points win; equal points go to the smaller node priority when one was set
// (set_node_priority: the replay's per-seed priorities), else to the lowest node index.
//
// Limits (the simulator's model): nodes with more than 8 GPUs or GPUs whose capacity is not
// 1000 milli are not scored (the policy rejects them); a multi-GPU request must ask for whole
// GPUs; the GPUs chosen must also have the requested GPU memory, or the node is rejected.  A
// request for GPU memory without compute (aliyun.com/gpu-mem) is scored as the pod the compute
// measure sees (CPU only) and gets its GPUs by best fit.
//
// @code
//   gpushare::sim::LivePolicy best(gpushare::sim::sim_policy("best"), "best");
//   best.observe(cluster, request);                  // learn from every pod seen
//   auto r = gpushare::schedule(cluster, request, best);
//   if (r) cluster.allocate(*r.placement);
// @endcode
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "gpushare/model/cluster.hpp"
#include "gpushare/model/errors.hpp"
#include "gpushare/model/request.hpp"
#include "gpushare/sim/learner.hpp"
#include "gpushare/sim/policies.hpp"
#include "gpushare/sim/state.hpp"
#include "gpushare/solve/gpu_choice.hpp"
#include "gpushare/solve/score.hpp"

namespace gpushare {
namespace sim {

/// @brief A simulator policy on the live Cluster (see the file comment).
class LivePolicy {
 public:
  /// @param policy a simulator policy that scores nodes one by one (not normalised, not random)
  /// @param name   the catalogue name reported in rejections
  /// @param target_coverage share of tasks the learned target covers (the replay's default)
  LivePolicy(const SimPolicy& policy, std::string name, double target_coverage = 0.95)
      : policy_(&policy), name_(std::move(name)), learner_(target_coverage) {
    if (policy.normalize || policy.random_node)
      throw InvalidArgument("policy " + name_ + ": a normalised or random simulator policy cannot score one node at a time");
  }

  const char* name() const { return name_.c_str(); }
  const SimPolicy& sim() const { return *policy_; }

  /// @brief Score against a fixed target workload instead of learning one (the paper's FGD,
  /// told the workload up front).  Ignored by policies that learn their target (best).
  void set_target(TargetWorkload tw) {
    fixed_ = std::move(tw);
    ++generation_;
  }

  /// @brief Break score ties by `priority[node index]` (smaller wins) instead of the index.
  void set_node_priority(std::vector<std::uint32_t> priority) { priority_ = std::move(priority); }

  /// @brief Register the shape of `r` without counting an arrival.  Shapes are numbered in the
  /// order they are first seen and equally frequent shapes rank by that number when the target
  /// is learned; registering a trace's shapes first gives the replay's numbering.
  std::uint32_t register_shape(const Request& r) { return intern(shape_of_request(r)); }

  /// @brief Learn from a pod seen by the service (filter, bind, or recovered after a restart):
  /// counts its shape and, as the replay does per arrival, rebuilds the target when the mix has
  /// moved and lets an adapting policy look at `cluster`.
  void observe(const Cluster& cluster, const Request& r) {
    if (!learns()) return;
    const PodShape s = shape_of_request(r);
    const std::uint32_t id = intern(s);
    if (learner_.observe(shapes_, id)) {
      ++generation_;  // a new target: every score changes
      if (policy_->adapt) adapt_now(cluster);
    }
    if (policy_->adapt && learner_.adapt_due(s.total_milli(), cluster_gpu_milli(cluster))) adapt_now(cluster);
  }

  /// @brief Pods observed so far.
  std::int64_t observed() const { return learner_.arrivals; }
  /// @brief The target workload the scores use now.
  const TargetWorkload& target() const { return learns() ? learner_.learned : fixed_; }

  /// @brief GPUs for `r` on the node (schedule.hpp's policy hook): the GPUs the simulator
  /// policy chooses; false when the node cannot take it.
  bool choose_gpus(const NodeView& v, const Request& r, GpuChoice& c) {
    last_node_ = static_cast<std::size_t>(-1);
    NodeState n;
    if (!state_of(v, n)) return false;
    const PodShape s = shape_of_request(r);
    if (!supported(s) || !fits(n, s, 0)) return false;
    int gpu = -1;
    const std::int64_t points = scored(v.index, n, s, &gpu);
    if (s.num == 0 && r.gpu.count > 0) {
      // GPU memory only (no compute, e.g. aliyun.com/gpu-mem): the compute measure sees a pod
      // that takes none; its GPUs are chosen by best fit on memory.
      if (!gpushare::choose_gpus(v, r, GpuFit::best, c)) return false;
      last_node_ = v.index;
      last_points_ = points;
      return true;
    }
    int ids[kMaxGpusPerNode] = {};
    int k = 0;
    if (!s.is_share()) {
      k = exclusive_gpus(n, s, ids);
      if (k < s.num) return false;
    } else {
      ids[0] = policy_->gpu_select == GpuSelect::from_score && gpu >= 0 && n.left[gpu] >= s.milli ? gpu : best_fit_gpu(n, s);
      k = ids[0] >= 0 ? 1 : 0;
      if (k == 0) return false;
    }
    c.gpus.assign(ids, ids + k);
    c.remaining_milli = c.remaining_mib = 0;
    for (int g : c.gpus) {
      if (!gpu_fits(v, g, r)) return false;
      c.remaining_milli += v.free_milli[g] - r.gpu.milli;
      c.remaining_mib += v.free_mib[g] - r.gpu.mib;
    }
    last_node_ = v.index;
    last_points_ = points;
    return true;
  }

  /// @brief The node's score (schedule.hpp's policy hook): (points, -priority).
  std::optional<Score> score(const NodeView& v, const Request& r, const GpuChoice&) {
    std::int64_t points = last_points_;
    if (last_node_ != v.index) {
      NodeState n;
      if (!state_of(v, n)) return std::nullopt;
      const PodShape s = shape_of_request(r);
      if (!supported(s) || !fits(n, s, 0)) return std::nullopt;
      points = scored(v.index, n, s, nullptr);
    }
    const double tie = v.index < priority_.size() ? -static_cast<double>(priority_[v.index]) : 0.0;
    return Score{static_cast<double>(points), tie};
  }

 private:
  struct Cached {
    std::uint64_t generation = 0;  // 0 = empty
    std::uint32_t epoch = 0;       // node_epoch_ of the node when scored
    std::int64_t cpu_left = 0;
    int gpus = 0, model = -1, gpu = -1;
    std::array<std::int16_t, kMaxGpusPerNode> left{};
    std::int64_t points = 0;
  };

  bool learns() const { return policy_->learns_target || fixed_.shapes.empty(); }

  static std::int64_t cluster_gpu_milli(const Cluster& c) {
    std::int64_t t = 0;
    for (std::size_t i = 0; i < c.size(); ++i) t += 1000 * static_cast<std::int64_t>(c.nodes()[i].gpus.size());
    return t;
  }

  /// GPU models as ids: the simulator's known models first (their ids are the replay's), then
  /// every other model in the order first seen.
  int model_id(const std::string& m) {
    const int known = gpu_model_id(m);
    if (known >= 0) return known;
    auto it = extra_models_.find(m);
    if (it != extra_models_.end()) return it->second;
    const int id = static_cast<int>(known_gpu_models().size() + extra_models_.size());
    extra_models_.emplace(m, id);
    return id;
  }

  PodShape shape_of_request(const Request& r) {
    PodShape s;
    s.cpu = r.cpu_milli;
    if (r.gpu.count > 0 && r.gpu.milli > 0) {
      s.milli = static_cast<int>(r.gpu.milli);
      s.num = r.gpu.count;
    }
    for (const auto& m : r.allowed_models) {
      const int id = model_id(m);
      if (id < 32) s.spec_mask |= 1u << id;
    }
    return s;
  }

  static bool supported(const PodShape& s) {
    return s.milli >= 0 && s.milli <= 1000 && s.num >= 0 && s.num <= kMaxGpusPerNode && (s.num <= 1 || s.milli == 1000);
  }

  std::uint32_t intern(const PodShape& s) {
    const auto key = std::make_tuple(s.cpu, s.milli, s.num, s.spec_mask);
    auto it = shape_ids_.find(key);
    if (it != shape_ids_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(shapes_.size());
    shapes_.push_back(s);
    shape_ids_.emplace(key, id);
    learner_.resize(shapes_.size());
    return id;
  }

  /// The simulator's view of a node now; false if it cannot be scored (see the file comment).
  bool state_of(const NodeView& v, NodeState& n) {
    const int g = v.gpu_count();
    if (g > kMaxGpusPerNode) return false;
    n.cpu_left = v.free_cpu_milli;
    n.mem_left = v.free_host_mib;
    n.cpu_cap = v.node->cpu_milli;
    n.gpus = g;
    n.model = g > 0 ? model_id(v.gpu(0).model) : -1;
    for (int i = 0; i < g; ++i) {
      if (v.gpu(i).milli_total != 1000) return false;
      n.left[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(v.gpu(i).healthy ? v.free_milli[i] : 0);
    }
    return true;
  }

  std::int64_t scored(std::size_t node, const NodeState& n, const PodShape& s, int* gpu) {
    const std::uint32_t id = intern(s);
    Cached& c = cache_[(static_cast<std::uint64_t>(node) << 32) | id];
    if (node >= node_epoch_.size()) node_epoch_.resize(node + 1, 0);
    if (c.generation != generation_ || c.epoch != node_epoch_[node] || c.cpu_left != n.cpu_left || c.gpus != n.gpus ||
        c.model != n.model || c.left != n.left) {
      c.generation = generation_;
      c.epoch = node_epoch_[node];
      c.cpu_left = n.cpu_left;
      c.gpus = n.gpus;
      c.model = n.model;
      c.left = n.left;
      c.gpu = -1;
      c.points = policy_->score(n, s, target(), &c.gpu);
    }
    if (gpu) *gpu = c.gpu;
    return c.points;
  }

  /// Run the policy's adapt hook on the live cluster; the nodes whose scores it changed get
  /// re-scored (their epoch moves), as the replay re-scores them in its score trees.
  void adapt_now(const Cluster& cluster) {
    std::vector<NodeState> nodes;
    nodes.reserve(cluster.size());
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      NodeState n;
      if (!state_of(cluster.view(i), n)) {
        n = NodeState{};  // not scored by this policy: counts as a node without GPUs
        n.cpu_left = n.cpu_cap = cluster.view(i).free_cpu_milli;
      }
      nodes.push_back(n);
    }
    std::vector<std::uint32_t> stale;
    policy_->adapt(SimState(std::move(nodes)), shapes_, learner_.seen, learner_.learned, stale);
    if (node_epoch_.size() < cluster.size()) node_epoch_.resize(cluster.size(), 0);
    for (std::uint32_t i : stale) ++node_epoch_[i];
  }

  const SimPolicy* policy_;
  std::string name_;
  WorkloadLearner learner_;
  TargetWorkload fixed_;
  std::vector<PodShape> shapes_;
  std::map<std::tuple<std::int64_t, int, int, std::uint32_t>, std::uint32_t> shape_ids_;
  std::map<std::string, int> extra_models_;
  std::vector<std::uint32_t> priority_;
  std::unordered_map<std::uint64_t, Cached> cache_;
  std::vector<std::uint32_t> node_epoch_;
  std::uint64_t generation_ = 1;
  std::size_t last_node_ = static_cast<std::size_t>(-1);
  std::int64_t last_points_ = 0;
};

}  // namespace sim
}  // namespace gpushare
