// gpushare/sim/replay.hpp — trace replay: the FGD paper's experiment protocol (shuffle, resample
// to 1.3x cluster GPU capacity, arrivals only, metrics per 1% of arrived demand) and a timed
// mode that honours creation/deletion times.
//
// Fast by construction: each policy's raw scores are kept per pod shape in a tournament tree over
// the nodes in priority order (ScoreIndex, sim/score_index.hpp), so a decision is a descent of
// about log2(nodes) steps and a pod only re-scores the nodes that changed since that shape was
// last asked (memoised by node state when many change at once); the cluster fragmentation is
// kept incrementally (only the changed node is recomputed).
//
// Faithful by construction: the random numbers come from GoRand (Go's math/rand) drawn in the
// order the study's simulator draws them, so a seed submits the same pods in the same order with
// the same node priorities as the study's run with that seed, and the per-1% metrics are
// aggregated with the study's rounding.
//
// @code
//   auto nodes = gpushare::sim::load_openb_nodes(dir + "/openb_node_list_gpu_node.csv");
//   auto pods  = gpushare::sim::load_openb_pods(dir + "/openb_pod_list_default.csv");
//   gpushare::sim::Replayer r(nodes, pods);
//   gpushare::sim::ReplayResult res = r.run(gpushare::sim::sim_policy("FGD"), 42);
//   double unalloc = res.steps[100].unallocated_pct;
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/sim/go_rand.hpp"
#include "gpushare/sim/learner.hpp"
#include "gpushare/sim/openb.hpp"
#include "gpushare/sim/policies.hpp"
#include "gpushare/sim/score_index.hpp"
#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief Replay settings.
struct ReplayOptions {
  double inflation = 1.3;     ///< resample until arrived GPU demand reaches this x cluster GPU capacity
  bool shuffle = true;        ///< shuffle the trace before submitting (protocol mode)
  bool timed = false;         ///< honour creation/deletion times (departures) instead of the protocol
  double target_coverage = 0.95;  ///< share of tasks the target workload's shapes cover
  int max_pct = 130;          ///< last arrived-demand step reported
  bool resample = true;       ///< protocol mode: resample/trim to inflation x capacity (false: the
                              ///< shuffled trace exactly once; inflation is then unused)
  bool record_decisions = false;  ///< fill ReplayResult::decisions (one entry per submitted pod)
};

/// @brief Where one submitted pod went: node index (input order) and GPUs as a bit mask;
/// node -1 when it fit nowhere.
struct PodDecision {
  int32_t node = -1;
  uint32_t gpus = 0;
  bool operator==(const PodDecision& o) const { return node == o.node && gpus == o.gpus; }
  bool operator!=(const PodDecision& o) const { return !(*this == o); }
};

/// @brief A run's submissions before any decision: the pods in submission order (indices into
/// the trace sorted by name, stable) and each node's tie-break priority (input order; the
/// smaller wins a tie).
struct ReplayPlan {
  std::vector<size_t> pods;
  std::vector<uint32_t> node_priority;
};

/// @brief Metrics at one step of arrived demand (a 1% bin of cluster GPU capacity).
struct StepMetrics {
  int arrived_pct = 0;            ///< arrived GPU demand, % of cluster GPU capacity
  double allocated_pct = 0;       ///< allocated GPU milli, % of cluster GPU capacity
  double unallocated_pct = 0;     ///< 100 - allocated_pct
  double fragmentation_pct = 0;   ///< cluster fragmentation, % of cluster GPU capacity
  double frag_ratio_pct = 0;      ///< fragmentation, % of idle GPU milli
  int rows = 0;                   ///< per-pod samples averaged in this step (0 = no data: NaN)
};

/// @brief How run() evaluates scores: `fast` keeps per-shape score trees (ScoreIndex) and updates
/// the cluster fragmentation incrementally; `reference` is the straightforward loop (every feasible node
/// re-scored for every pod, cluster fragmentation summed over all nodes after every pod). Both
/// make the same decisions; the reference exists for tests and the speed comparison.
enum class Engine { fast, reference };

/// @brief Outcome of one replay.
struct ReplayResult {
  std::string policy;
  uint64_t seed = 0;
  std::vector<StepMetrics> steps;  ///< index k = arrived_pct k, 0..max_pct
  int64_t pods_submitted = 0;
  int64_t pods_placed = 0;
  int64_t pods_failed = 0;
  int64_t arrived_milli = 0;       ///< total GPU demand submitted
  int64_t allocated_milli = 0;     ///< GPU milli allocated at the end
  double fragmentation_milli = 0;  ///< cluster fragmentation (GPU milli) at the end
  std::vector<int64_t> node_used_milli;  ///< GPU milli in use per node at the end, input node order
  std::vector<NodeState> end_nodes;      ///< every node's state after the last event, input node order
  std::vector<std::pair<PodShape, int64_t>> failed_shapes;  ///< pods that found no node, per shape
  std::vector<PodDecision> decisions;    ///< per submitted pod, when ReplayOptions::record_decisions
};

namespace detail {

/// Python's round(x, 2): x rounded to 2 decimals from its exact binary value, ties to even.
/// x * 100 is split into the rounded product and its exact remainder (fma), which decides the
/// cases where the rounded product sits exactly halfway.
inline double python_round2(double x) {
  const double hi = x * 100.0, lo = std::fma(x, 100.0, -hi);
  double n = std::nearbyint(hi);
  if (hi - std::floor(hi) == 0.5 && lo != 0) n = lo > 0 ? std::floor(hi) + 1 : std::floor(hi);
  return n / 100.0;
}

/// numpy's round(x, 2) on a float64: rint(x * 100) / 100 (the product rounded first).
inline double numpy_round2(double x) { return std::nearbyint(x * 100.0) / 100.0; }

/// numpy's float64 sum (np.add.reduce on a contiguous array): pairwise, with 8 accumulators
/// inside blocks of up to 128 values, so the same values give the same double as pandas' mean.
inline double numpy_sum(const double* a, size_t n) {
  if (n < 8) {
    double res = 0.0;
    for (size_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + size_t(j)];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_sum(a, n2) + numpy_sum(a + n2, n - n2);
}

}  // namespace detail

/// @brief Replays a trace on a cluster under any registered policy; reusable across seeds and
/// policies (and thread-safe for concurrent run() calls: run() keeps its state locally).
class Replayer {
 public:
  Replayer(std::vector<SimNode> nodes, std::vector<SimPod> pods, ReplayOptions opt = {})
      : nodes_(std::move(nodes)), opt_(opt), base_(nodes_) {
    if (nodes_.empty()) throw InvalidArgument("replay: the node list is empty");
    if (pods.empty()) throw InvalidArgument("replay: the pod list is empty");
    if (!(opt_.inflation > 0)) throw InvalidArgument("replay: inflation must be > 0");
    if (opt_.max_pct < 0 || opt_.max_pct > 10000) throw InvalidArgument("replay: max_pct outside 0..10000");
    // Pods in name order: the protocol's base order and the resampling pool.
    std::vector<size_t> order(pods.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pods[a].name < pods[b].name; });
    pods_.reserve(pods.size());
    for (size_t i : order) {
      const SimPod& p = pods[i];
      if (p.cpu_milli < 0 || p.memory_mib < 0 || p.num_gpu < 0 || p.gpu_milli < 0 || p.gpu_milli > 1000 ||
          p.num_gpu > kMaxGpusPerNode)
        throw InvalidArgument("replay: pod '" + p.name + "' has a negative or out-of-range request");
      Item it;
      it.shape_id = intern(shape_of(p));
      it.mem = p.memory_mib;
      it.create = p.creation_time;
      it.remove = p.deletion_time;
      pods_.push_back(it);
    }
    if (!opt_.timed && opt_.resample) check_resampling_ends();
    std::map<std::pair<uint32_t, int64_t>, uint32_t> kinds;
    for (Item& it : pods_) {
      auto ins = kinds.emplace(std::make_pair(it.shape_id, it.mem), uint32_t(kinds.size()));
      it.tree = ins.first->second;
    }
    if (kinds.size() <= kMaxExactTrees) {
      trees_.resize(kinds.size());
      for (const auto& k : kinds) trees_[k.second] = {k.first.first, k.first.second};
    } else {
      for (uint32_t i = 0; i < uint32_t(shapes_.size()); ++i) trees_.push_back({i, std::numeric_limits<int64_t>::min()});
      for (Item& it : pods_) it.tree = it.shape_id;
    }
    target_ = TargetWorkload::from_pods(pods, opt_.target_coverage);
    // Node priority base order: by name.
    node_by_name_.resize(nodes_.size());
    std::iota(node_by_name_.begin(), node_by_name_.end(), size_t(0));
    std::stable_sort(node_by_name_.begin(), node_by_name_.end(),
                     [&](size_t a, size_t b) { return nodes_[a].name < nodes_[b].name; });
  }

  const TargetWorkload& target() const { return target_; }

  /// @brief The submissions and node priorities run(policy, seed) uses (protocol mode draws the
  /// same Go random stream), so the same run can be fed through another API pod by pod.
  ReplayPlan plan(uint64_t seed) const {
    GoRand rng(static_cast<int64_t>(seed));
    ReplayPlan p;
    p.pods = start_sequence(rng);
    p.node_priority = start_priorities(rng);
    return p;
  }
  const ReplayOptions& options() const { return opt_; }
  int64_t cluster_gpu_milli() const { return base_.total_gpu_milli(); }

  /// @brief One replay of `policy` with `seed` (taken as Go's int64 seed).
  ReplayResult run(const SimPolicy& policy, uint64_t seed, Engine engine = Engine::fast) const {
    // One Go math/rand stream, drawn in the study simulator's order: after rand.Seed it logs one
    // rand.Int(), shuffles the pods, resamples, then (kDrawsBeforeNodePerm later) draws the node
    // priorities with rand.Perm, then per pod the scheduler's and the policy's draws.
    GoRand rng(static_cast<int64_t>(seed));
    const std::vector<size_t> seq = start_sequence(rng);
    const std::vector<uint32_t> prio = start_priorities(rng);
    const std::vector<Event> events = make_events(seq);
    RunState rs(*this, policy, engine, seq.size());
    const int64_t cap = base_.total_gpu_milli();
    Bins bins(opt_.max_pct, double(cap));
    ReplayResult res;
    res.policy = policy.name;
    res.seed = seed;
    int64_t arrived = 0;
    std::vector<int64_t> failed(shapes_.size(), 0);
    for (const Event& ev : events) {
      const Item& it = pods_[ev.pod];
      if (ev.kind != Event::arrival) {
        rs.depart(ev.seq_pos, it);
        continue;
      }
      res.pods_submitted++;
      arrived += shapes_[it.shape_id].total_milli();
      const bool ok = rs.arrive(ev.seq_pos, it, prio, rng);
      if (ok) {
        res.pods_placed++;
      } else {
        res.pods_failed++;
        failed[it.shape_id]++;
      }
      if (opt_.record_decisions) res.decisions.push_back(ok ? PodDecision{int32_t(rs.last_pick), rs.last_gpus} : PodDecision{});
      const int64_t used = rs.st.used_gpu_milli();
      bins.add(arrived, used, rs.frag_sum, cap - used);
    }
    res.arrived_milli = arrived;
    res.allocated_milli = rs.st.used_gpu_milli();
    res.fragmentation_milli = rs.frag_sum;
    res.node_used_milli.resize(rs.st.size());
    for (size_t i = 0; i < rs.st.size(); ++i) res.node_used_milli[i] = rs.st.node(i).used_milli();
    for (size_t i = 0; i < rs.st.size(); ++i) res.end_nodes.push_back(rs.st.node(i));
    for (size_t k = 0; k < failed.size(); ++k)
      if (failed[k] > 0) res.failed_shapes.push_back({shapes_[k], failed[k]});
    res.steps = bins.finish();
    return res;
  }

 private:
  friend class TenantReplayer;  // tenant_replay.hpp drives run()'s machinery with a quota gate
  /// Draws the study's simulator makes between the resampling and rand.Perm of the node
  /// priorities: the ten informers its scheduler starts then (pods, nodes, services, PVs, PVCs,
  /// CSI nodes, replica sets, replication controllers, stateful sets, PDBs: our reading of its
  /// vendored kube-scheduler 1.20) each draw one rand.Float64 for their first watch's timeout.
  /// With 10, every per-seed result of the five deterministic policies equals the study's
  /// (docs/REPRODUCTION.md); 0..9 and 11..40 do not (checked on FGD, seeds 42 and 43).
  static constexpr int kDrawsBeforeNodePerm = 10;

  /// A trace pod: its shape, memory, times and score tree (ScoreIndex; trees_ names its request).
  struct Item { uint32_t shape_id = 0; int64_t mem = 0; int64_t create = -1; int64_t remove = -1; uint32_t tree = 0; };

  /// A score tree's request kind: a shape and the memory its leaves check (INT64_MIN: none, the
  /// query checks it instead).
  struct TreeKind { uint32_t shape_id; int64_t mem; };

  /// Up to this many distinct (shape, memory) requests get a score tree each (openb's traces
  /// have at most 151); beyond, one tree per shape and memory is checked at the query.
  static constexpr size_t kMaxExactTrees = 2048;

  /// A submission (arrival) or a departure; at equal times departures come first, except a
  /// zero-length pod's own departure, which follows its arrival.
  struct Event {
    enum Kind { departure = 0, arrival = 1, late_departure = 2 };
    int64_t t;
    Kind kind;
    size_t pod;      ///< index into pods_
    size_t seq_pos;  ///< position in the submission sequence
  };

  /// Longest submission sequence protocol-mode resampling may build (8 bytes per pod).
  static constexpr double kMaxResampledPods = 20e6;

  /// Protocol mode resamples until the arrived GPU demand reaches inflation x capacity: refuse a
  /// trace for which that never happens (no pod asks for a GPU) or needs an absurd number of pods.
  void check_resampling_ends() const {
    int64_t demand = 0;
    for (const Item& it : pods_) demand += shapes_[it.shape_id].total_milli();
    const double target = opt_.inflation * double(base_.total_gpu_milli());
    if (target <= double(demand)) return;  // trimmed, not resampled
    if (demand == 0)
      throw InvalidArgument("replay: no pod of the trace asks for a GPU, so resampling to inflation x cluster "
                            "GPU capacity would never end; replay it with resample=false or timed=true");
    const double expected = target / (double(demand) / double(pods_.size()));
    if (expected > kMaxResampledPods)
      throw InvalidArgument("replay: resampling to inflation x cluster GPU capacity needs about " +
                            std::to_string(int64_t(expected)) + " pods (the trace's mean GPU demand is " +
                            std::to_string(double(demand) / double(pods_.size())) +
                            " milli per pod); the limit is 20,000,000");
  }

  /// A run's first draws, after rand.Seed: one logged rand.Int(), then the submission order.
  std::vector<size_t> start_sequence(GoRand& rng) const {
    rng.int63();
    return submission_order(rng);
  }

  /// The draws that follow start_sequence: the informers' kDrawsBeforeNodePerm, then the node
  /// priorities (rand.Perm).
  std::vector<uint32_t> start_priorities(GoRand& rng) const {
    for (int k = 0; k < kDrawsBeforeNodePerm; ++k) rng.int63();
    return node_priority(rng);
  }

  /// Protocol mode: shuffle the name-ordered trace (rand.Shuffle), then resample with replacement
  /// from the name-ordered trace (rand.Intn, appending) until the next pick would pass inflation x
  /// capacity; the check adds the pick's per-GPU milli, as the study's simulator does. Above the
  /// target, drop random pods (rand.Intn over the current list) instead. Timed: as is.
  std::vector<size_t> submission_order(GoRand& rng) const {
    std::vector<size_t> seq(pods_.size());
    std::iota(seq.begin(), seq.end(), size_t(0));
    if (opt_.timed) return seq;
    if (opt_.shuffle) rng.shuffle(seq.size(), [&](size_t i, size_t j) { std::swap(seq[i], seq[j]); });
    if (!opt_.resample) return seq;
    int64_t total = 0;
    for (size_t i : seq) total += shapes_[pods_[i].shape_id].total_milli();
    const double target = opt_.inflation * double(base_.total_gpu_milli());
    if (double(total) < target) {
      for (;;) {
        const size_t idx = size_t(rng.intn(int64_t(pods_.size())));
        const PodShape& s = shapes_[pods_[idx].shape_id];
        if (double(total + s.milli) > target) break;
        total += s.total_milli();
        seq.push_back(idx);
      }
    } else {
      while (double(total) > target && !seq.empty()) {
        const size_t k = size_t(rng.intn(int64_t(seq.size())));
        total -= shapes_[pods_[seq[k]].shape_id].total_milli();
        seq.erase(seq.begin() + std::ptrdiff_t(k));
      }
    }
    return seq;
  }

  /// Per-seed node priority: rand.Perm over the name-ordered nodes; the study prefixes the i-th
  /// node's name with perm[i] and breaks score ties by the smaller name, so the smaller priority wins.
  std::vector<uint32_t> node_priority(GoRand& rng) const {
    const std::vector<int64_t> perm = rng.perm(int64_t(nodes_.size()));
    std::vector<uint32_t> prio(nodes_.size());
    for (size_t i = 0; i < perm.size(); ++i) prio[node_by_name_[i]] = uint32_t(perm[i]);
    return prio;
  }

  std::vector<Event> make_events(const std::vector<size_t>& seq) const {
    std::vector<Event> events;
    events.reserve(seq.size() * (opt_.timed ? 2 : 1));
    for (size_t k = 0; k < seq.size(); ++k) {
      const Item& it = pods_[seq[k]];
      if (!opt_.timed) {
        events.push_back({0, Event::arrival, seq[k], k});
        continue;
      }
      const int64_t at = std::max<int64_t>(it.create, 0);
      events.push_back({at, Event::arrival, seq[k], k});
      if (it.remove >= 0)
        events.push_back({std::max(it.remove, at), it.remove <= at ? Event::late_departure : Event::departure, seq[k], k});
    }
    if (opt_.timed)
      std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        return a.t != b.t ? a.t < b.t : a.kind < b.kind;
      });
    return events;
  }

  /// The mutable state of one run: cluster, score index, per-node fragmentation.
  struct RunState {
    struct Placed { int64_t node = -1; int gpus[kMaxGpusPerNode] = {}; };
    const Replayer& r;
    const SimPolicy& policy;
    const bool fast;
    SimState st;
    ScoreIndex idx;          // fast engine: per-shape score trees, laid out on the first placement
    bool idx_ready = false;
    std::vector<double> frag;
    double frag_sum = 0;
    std::vector<Placed> placed;     // timed mode only
    std::vector<uint32_t> feas;
    std::vector<int64_t> score;
    // Online target workload (policies with learns_target; WorkloadLearner, sim/learner.hpp, the
    // same learner as the live path): shape counts of the arrived pods, checked at 1, 256, 512,
    // 1024 arrivals and then every 512; the target is rebuilt (and the score index invalidated)
    // when the shape mix moved by more than 10% (total variation) since the last rebuild.
    // Policies with an adapt hook also see the cluster every 0.25% of GPU capacity arrived and
    // name the nodes to re-score. The cluster fragmentation metric keeps using the trace's target.
    WorkloadLearner learner;
    std::vector<uint32_t> stale;
    int64_t last_pick = -1;          // node of the last placed pod
    uint32_t last_gpus = 0;          // its GPUs, as a bit mask

    RunState(const Replayer& rep, const SimPolicy& pol, Engine engine, size_t n_seq)
        : r(rep), policy(pol), fast(engine == Engine::fast), st(rep.base_), frag(rep.base_.size()),
          placed(rep.opt_.timed ? n_seq : 0), score(rep.base_.size()),
          learner(rep.opt_.target_coverage) {
      if (pol.learns_target) learner.resize(rep.shapes_.size());
      feas.reserve(st.size());
      refrag_all();
    }

    void refrag_all() {
      frag_sum = 0;
      for (size_t i = 0; i < st.size(); ++i) frag_sum += (frag[i] = node_frag(st.node(i), r.target_));
    }
    void refrag(size_t i) {
      if (!fast) return refrag_all();
      frag_sum -= frag[i];
      frag_sum += (frag[i] = node_frag(st.node(i), r.target_));
    }

    const TargetWorkload& scoring_target() const { return policy.learns_target ? learner.learned : r.target_; }

    /// The policy's raw score of node i for the shape (and, if `gpu`, its GPU for a sharing pod).
    int64_t scored(size_t i, uint32_t shape_id, int* gpu) const {
      int g = -1;
      const int64_t v = policy.score(st.node(i), r.shapes_[shape_id], scoring_target(), &g);
      if (gpu) *gpu = g;
      return v;
    }

    /// Fast engine: lay out the score index on first use (it needs the run's node priorities).
    void ready_index(const std::vector<uint32_t>& prio) {
      if (idx_ready) return;
      idx.reset(st, prio, r.trees_.size());
      idx_ready = true;
    }
    /// Fast engine: node i changed (`changed`), or only its scores did.
    void touch(size_t i, bool changed = true) {
      if (idx_ready) idx.touch(st, i, changed);
    }
    /// Fast engine: the score tree of the item's request brought up to date.
    void sync_index(const Item& it) {
      const PodShape& s = r.shapes_[it.shape_id];
      idx.sync(st, it.tree, s, r.trees_[it.tree].mem,
               [&](size_t i) { return policy.score(st.node(i), s, scoring_target(), nullptr); });
    }

    /// Highest (normalised) score wins; ties go to the smaller node priority.
    size_t choose_node(const Item& it, const std::vector<uint32_t>& prio, GoRand& rng) {
      const uint32_t shape_id = it.shape_id;
      if (feas.size() == 1) return feas[0];  // chosen without scoring (or drawing), as in the study
      // Random: rand.Intn over the feasible nodes, here in node order; the study's list is in the
      // order its parallel filter finished, so the same draw may name another node there.
      if (policy.random_node) return feas[size_t(rng.intn(int64_t(feas.size())))];
      if (fast) sync_index(it);
      int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
      for (uint32_t i : feas) {
        score[i] = fast ? idx.score(it.tree, i) : scored(i, shape_id, nullptr);
        lo = std::min(lo, score[i]);
        hi = std::max(hi, score[i]);
      }
      size_t pick = feas[0];
      int64_t best = std::numeric_limits<int64_t>::min();
      for (uint32_t i : feas) {
        int64_t v = score[i];
        if (policy.normalize) v = hi == lo ? 0 : (v - lo) * 100 / (hi - lo);  // integer, as upstream
        if (v > best || (v == best && prio[i] < prio[pick])) { best = v; pick = i; }
      }
      return pick;
    }

    /// GPUs on the chosen node: sharing pods per the policy, whole-GPU pods the lowest free ones.
    void choose_gpus(size_t pick, uint32_t shape_id, GoRand& rng, int* ids) {
      const NodeState& n = st.node(pick);
      const PodShape& s = r.shapes_[shape_id];
      if (!s.is_share()) {
        exclusive_gpus(n, s, ids);
      } else if (policy.gpu_select == GpuSelect::from_score) {
        int hint = -1;
        scored(pick, shape_id, &hint);
        ids[0] = hint >= 0 && n.left[hint] >= s.milli ? hint : best_fit_gpu(n, s);
      } else if (policy.gpu_select == GpuSelect::random) {
        // Reservoir sampling over the GPUs with enough left, one rand.Intn(c) per candidate, as
        // the study's random GPU selection draws.
        int c = 0;
        for (int g = 0; g < n.gpus; ++g)
          if (n.left[g] >= s.milli && rng.intn(++c) == 0) ids[0] = g;
      } else {
        ids[0] = best_fit_gpu(n, s);
      }
    }

    /// Count an arrived pod's shape and rebuild the learned target when the mix has moved.
    void observe(uint32_t shape_id) {
      if (!learner.observe(r.shapes_, shape_id)) return;
      if (policy.adapt) policy.adapt(st, r.shapes_, learner.seen, learner.learned, stale);  // all re-scored below
      idx.invalidate_all();
    }

    /// Let an adapting policy look at the cluster every 0.25% of GPU capacity arrived.
    void adapt(int64_t milli) {
      if (!policy.adapt || !learner.adapt_due(milli, st.total_gpu_milli())) return;
      stale.clear();
      policy.adapt(st, r.shapes_, learner.seen, learner.learned, stale);
      if (!fast) return;
      for (uint32_t i : stale) touch(i, false);
    }

    /// Submit one pod; false when no node can take it (it stays unallocated).
    bool arrive(size_t seq_pos, const Item& it, const std::vector<uint32_t>& prio, GoRand& rng) {
      if (policy.learns_target) learn(it.shape_id);
      return place(seq_pos, it, prio, rng);
    }

    /// What a learning policy sees of an arriving pod: its shape (observe) and, every 0.25% of
    /// capacity, the cluster (adapt).
    void learn(uint32_t shape_id) {
      observe(shape_id);
      adapt(r.shapes_[shape_id].total_milli());
    }

    /// Place one pod with the policy (one scheduling cycle); false when no node can take it.
    /// `only_model` >= 0 restricts it to nodes of that GPU model (the tenant replay's flavor).
    bool place(size_t seq_pos, const Item& it, const std::vector<uint32_t>& prio, GoRand& rng, int only_model = -1) {
      const PodShape& s = r.shapes_[it.shape_id];
      // The study's scheduler draws rand.Intn(100) per scheduling cycle (metrics sampling) and,
      // for a pod that fits nowhere, rand.Int31n(node count) (the preemption pass's start
      // offset). They change no decision here; they keep Random's later draws on Go's stream.
      rng.intn(100);
      if (fast && !policy.random_node && only_model < 0) {
        // The feasible node with the highest raw score, the smallest priority among equals: min-max
        // normalisation (BestFit) keeps that node on top, since (v - lo) * 100 / (hi - lo) reaches
        // 100 only at v = hi and is 0 for all when hi = lo.
        ready_index(prio);
        const int64_t best = idx.best(st, it.tree, s, r.trees_[it.tree].mem, it.mem, [&](size_t i) {
          return policy.score(st.node(i), s, scoring_target(), nullptr);
        });
        if (best < 0) {
          rng.int31n(int32_t(st.size()));
          return false;
        }
        commit(seq_pos, size_t(best), it, rng);
        return true;
      }
      if (fast) ready_index(prio);
      feas.clear();
      for (size_t i = 0; i < st.size(); ++i)
        if (fits(st.node(i), s, it.mem) && (only_model < 0 || st.node(i).model == only_model)) feas.push_back(uint32_t(i));
      if (feas.empty()) {
        rng.int31n(int32_t(st.size()));
        return false;
      }
      commit(seq_pos, choose_node(it, prio, rng), it, rng);
      return true;
    }

    /// Put the pod on the chosen node: its GPUs, the state, the fragmentation, the index.
    void commit(size_t seq_pos, size_t pick, const Item& it, GoRand& rng) {
      int ids[kMaxGpusPerNode] = {};
      choose_gpus(pick, it.shape_id, rng, ids);
      st.place(pick, r.shapes_[it.shape_id], it.mem, ids);
      refrag(pick);
      touch(pick);
      last_pick = int64_t(pick);
      last_gpus = 0;
      for (int k = 0; k < r.shapes_[it.shape_id].num; ++k) last_gpus |= 1u << ids[k];
      if (!placed.empty()) {
        placed[seq_pos].node = int64_t(pick);
        std::copy(ids, ids + kMaxGpusPerNode, placed[seq_pos].gpus);
      }
    }

    void depart(size_t seq_pos, const Item& it) {
      Placed& pl = placed[seq_pos];
      if (pl.node < 0) return;
      st.remove(size_t(pl.node), r.shapes_[it.shape_id], it.mem, pl.gpus);
      refrag(size_t(pl.node));
      touch(size_t(pl.node));
      pl.node = -1;
    }
  };

  /// Per-1% aggregation of the per-pod rows, computed as the study's merge script computes it
  /// (pandas/numpy), so equal decisions give equal numbers: a row (one per submitted pod, none
  /// before the first) goes to bin round(arrived / gpus / 10) (half to even); its allocation is
  /// round(used / gpus / 10, 2) (Python's correctly rounded round); a bin's value is numpy's mean
  /// (pairwise sum / count) rounded by numpy (rint(x * 100) / 100); an empty bin takes the rows of
  /// bins k-1..k+1. Fragmentation is averaged the same way but from unrounded rows.
  struct Bins {
    int max_pct;
    double gpus;  // cluster GPU count (capacity / 1000), as the study's log reports it
    std::vector<std::vector<double>> alloc;  // per bin: the rows' allocation %, in row order
    std::vector<double> fr, ratio;
    Bins(int m, double cap) : max_pct(m), gpus(cap / 1000.0), alloc(size_t(m) + 3), fr(size_t(m) + 3), ratio(size_t(m) + 3) {}
    void add(int64_t arrived, int64_t used, double frag, int64_t idle) {
      const double k = std::nearbyint(double(arrived) / gpus / 10.0);
      if (!(k >= 0 && k <= double(max_pct + 1))) return;  // also NaN: a cluster without GPUs
      const size_t b = size_t(k);
      alloc[b].push_back(detail::python_round2(double(used) / gpus / 10.0));
      fr[b] += frag / gpus / 10.0;
      ratio[b] += idle > 0 ? 100.0 * frag / double(idle) : 0.0;
    }
    std::vector<StepMetrics> finish() const {
      std::vector<StepMetrics> out(size_t(max_pct) + 1);
      std::vector<double> rows;
      for (int k = 0; k <= max_pct; ++k) {
        rows = alloc[size_t(k)];
        double f = fr[size_t(k)], r = ratio[size_t(k)];
        if (rows.empty())
          for (int j = std::max(0, k - 1); j <= k + 1; ++j) {
            rows.insert(rows.end(), alloc[size_t(j)].begin(), alloc[size_t(j)].end());
            f += fr[size_t(j)];
            r += ratio[size_t(j)];
          }
        const double c = double(rows.size());
        StepMetrics& m = out[size_t(k)];
        m.arrived_pct = k;
        m.rows = int(rows.size());
        const double nan = std::numeric_limits<double>::quiet_NaN();
        m.allocated_pct = c > 0 ? detail::numpy_round2(detail::numpy_sum(rows.data(), rows.size()) / c) : nan;
        m.unallocated_pct = c > 0 ? 100.0 - m.allocated_pct : nan;
        m.fragmentation_pct = c > 0 ? detail::numpy_round2(f / c) : nan;
        m.frag_ratio_pct = c > 0 ? r / c : nan;
      }
      return out;
    }
  };

  uint32_t intern(const PodShape& s) {
    auto key = std::make_tuple(s.cpu, s.milli, s.num, s.spec_mask);
    auto it = shape_ids_.find(key);
    if (it != shape_ids_.end()) return it->second;
    const uint32_t id = uint32_t(shapes_.size());
    shapes_.push_back(s);
    shape_ids_[key] = id;
    return id;
  }

  std::vector<SimNode> nodes_;
  ReplayOptions opt_;
  SimState base_;
  std::vector<Item> pods_;
  std::vector<PodShape> shapes_;
  std::vector<TreeKind> trees_;
  std::map<std::tuple<int64_t, int, int, uint32_t>, uint32_t> shape_ids_;
  TargetWorkload target_;
  std::vector<size_t> node_by_name_;
};

/// @brief Median of `v` (NaN when empty).
inline double median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2.0;
}

}  // namespace sim
}  // namespace gpushare
