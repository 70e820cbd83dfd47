// gpushare/sim/replay.hpp — trace replay: the FGD paper's experiment protocol (shuffle, resample
// to 1.3x cluster GPU capacity, arrivals only, metrics per 1% of arrived demand) and a timed
// mode that honours creation/deletion times.
//
// Fast by construction: each policy's raw score is cached per (node, pod shape) and stamped
// with the node's version, so a pod only re-scores nodes that changed since that shape was last
// scored; the cluster fragmentation is kept incrementally (only the changed node is recomputed).
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
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/sim/openb.hpp"
#include "gpushare/sim/policies.hpp"
#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief Portable seeded RNG: std::mt19937_64 with our own bounded draw and shuffle, so the
/// same seed gives the same replay with every standard library.
class SimRng {
 public:
  explicit SimRng(uint64_t seed) : g_(seed) {}
  /// @brief Uniform integer in [0, n), n > 0 (rejection sampling, no modulo bias).
  uint64_t bounded(uint64_t n) {
    const uint64_t lim = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % n;
    uint64_t x = g_();
    while (x >= lim) x = g_();
    return x % n;
  }
  /// @brief Fisher-Yates: for i = n-1..1, swap v[i] with v[bounded(i+1)].
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[bounded(i)]);
  }

 private:
  std::mt19937_64 g_;
};

/// @brief Replay settings.
struct ReplayOptions {
  double inflation = 1.3;     ///< resample until arrived GPU demand reaches this x cluster GPU capacity
  bool shuffle = true;        ///< shuffle the trace before submitting (protocol mode)
  bool timed = false;         ///< honour creation/deletion times (departures) instead of the protocol
  double target_coverage = 0.95;  ///< share of tasks the target workload's shapes cover
  int max_pct = 130;          ///< last arrived-demand step reported
  bool resample = true;       ///< protocol mode: resample/trim to inflation x capacity (false: the
                              ///< shuffled trace exactly once; inflation is then unused)
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

/// @brief How run() evaluates scores: `fast` caches per (node, shape) and updates the cluster
/// fragmentation incrementally; `reference` is the straightforward loop (every feasible node
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
};

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
    target_ = TargetWorkload::from_pods(pods, opt_.target_coverage);
    // Node priority base order: by name.
    node_by_name_.resize(nodes_.size());
    std::iota(node_by_name_.begin(), node_by_name_.end(), size_t(0));
    std::stable_sort(node_by_name_.begin(), node_by_name_.end(),
                     [&](size_t a, size_t b) { return nodes_[a].name < nodes_[b].name; });
  }

  const TargetWorkload& target() const { return target_; }
  const ReplayOptions& options() const { return opt_; }
  int64_t cluster_gpu_milli() const { return base_.total_gpu_milli(); }

  /// @brief One replay of `policy` with `seed`.
  ReplayResult run(const SimPolicy& policy, uint64_t seed, Engine engine = Engine::fast) const {
    SimRng rng(seed);
    // The draws come in a fixed order: shuffle and resampling, node priorities, then the
    // policy's own draws (Random) pod by pod.
    const std::vector<size_t> seq = submission_order(rng);
    const std::vector<uint32_t> prio = node_priority(rng);
    const std::vector<Event> events = make_events(seq);
    RunState rs(*this, policy, engine, seq.size());
    const int64_t cap = base_.total_gpu_milli();
    Bins bins(opt_.max_pct, double(cap));
    ReplayResult res;
    res.policy = policy.name;
    res.seed = seed;
    int64_t arrived = 0;
    bins.add(0, 0, rs.frag_sum, 0, cap);
    for (const Event& ev : events) {
      const Item& it = pods_[ev.pod];
      if (ev.kind != Event::arrival) {
        rs.depart(ev.seq_pos, it);
        continue;
      }
      res.pods_submitted++;
      arrived += shapes_[it.shape_id].total_milli();
      if (rs.arrive(ev.seq_pos, it, prio, rng)) res.pods_placed++;
      else res.pods_failed++;
      const int64_t used = rs.st.used_gpu_milli();
      bins.add(arrived, used, rs.frag_sum, cap - used, cap);
    }
    res.arrived_milli = arrived;
    res.allocated_milli = rs.st.used_gpu_milli();
    res.fragmentation_milli = rs.frag_sum;
    res.node_used_milli.resize(rs.st.size());
    for (size_t i = 0; i < rs.st.size(); ++i) res.node_used_milli[i] = rs.st.node(i).used_milli();
    res.steps = bins.finish();
    return res;
  }

 private:
  struct Item { uint32_t shape_id = 0; int64_t mem = 0; int64_t create = -1; int64_t remove = -1; };

  /// A submission (arrival) or a departure; at equal times departures come first, except a
  /// zero-length pod's own departure, which follows its arrival.
  struct Event {
    enum Kind { departure = 0, arrival = 1, late_departure = 2 };
    int64_t t;
    Kind kind;
    size_t pod;      ///< index into pods_
    size_t seq_pos;  ///< position in the submission sequence
  };

  /// Protocol mode: shuffle the name-ordered trace, then resample with replacement (appending)
  /// until the next pick would pass inflation x capacity; the check adds the pick's per-GPU milli,
  /// as the study's simulator does. Above the target, drop random pods instead. Timed: as is.
  std::vector<size_t> submission_order(SimRng& rng) const {
    std::vector<size_t> seq(pods_.size());
    std::iota(seq.begin(), seq.end(), size_t(0));
    if (opt_.timed) return seq;
    if (opt_.shuffle) rng.shuffle(seq);
    if (!opt_.resample) return seq;
    int64_t total = 0;
    for (size_t i : seq) total += shapes_[pods_[i].shape_id].total_milli();
    const double target = opt_.inflation * double(base_.total_gpu_milli());
    if (double(total) < target) {
      for (;;) {
        const size_t idx = size_t(rng.bounded(pods_.size()));
        const PodShape& s = shapes_[pods_[idx].shape_id];
        if (double(total + s.milli) > target) break;
        total += s.total_milli();
        seq.push_back(idx);
      }
    } else {
      while (double(total) > target && !seq.empty()) {
        const size_t k = size_t(rng.bounded(seq.size()));
        total -= shapes_[pods_[seq[k]].shape_id].total_milli();
        seq.erase(seq.begin() + std::ptrdiff_t(k));
      }
    }
    return seq;
  }

  /// Per-seed node priority: a random permutation over the name-ordered nodes (inside-out
  /// Fisher-Yates). Among equal scores the node with the smaller priority wins.
  std::vector<uint32_t> node_priority(SimRng& rng) const {
    std::vector<uint32_t> perm(nodes_.size()), prio(nodes_.size());
    for (size_t i = 0; i < perm.size(); ++i) {
      const size_t j = size_t(rng.bounded(i + 1));
      perm[i] = perm[j];
      perm[j] = uint32_t(i);
    }
    for (size_t i = 0; i < perm.size(); ++i) prio[node_by_name_[i]] = perm[i];
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

  /// The mutable state of one run: cluster, score cache, per-node fragmentation.
  struct RunState {
    struct CacheEntry { uint32_t stamp = 0; int32_t gpu = -1; int64_t score = 0; };
    struct Placed { int64_t node = -1; int gpus[kMaxGpusPerNode] = {}; };
    const Replayer& r;
    const SimPolicy& policy;
    const bool fast;
    SimState st;
    std::vector<CacheEntry> cache;  // [node * shapes + shape], valid when stamp == version + 1
    std::vector<double> frag;
    double frag_sum = 0;
    std::vector<Placed> placed;     // timed mode only
    std::vector<uint32_t> feas;
    std::vector<int64_t> score;
    // Online target workload (policies with learns_target): shape counts of the arrived pods,
    // checked at 1, 256, 512, 1024 arrivals and then every 512; the target is rebuilt (and the
    // score cache dropped) when the shape mix moved by more than 10% (total variation) since the
    // last rebuild. Policies with an adapt hook also see the cluster every 0.25% of GPU capacity
    // arrived and name the nodes to re-score. The cluster fragmentation metric keeps using the
    // trace's target.
    std::vector<int64_t> seen, adopted;
    TargetWorkload learned;
    int64_t next_refresh = 1, arrivals = 0, adopted_n = 0;
    int64_t arrived_milli = 0, next_adapt = 0;  // for SimPolicy::adapt
    std::vector<uint32_t> stale;

    RunState(const Replayer& rep, const SimPolicy& pol, Engine engine, size_t n_seq)
        : r(rep), policy(pol), fast(engine == Engine::fast), st(rep.base_),
          cache(fast ? rep.base_.size() * rep.shapes_.size() : 1), frag(rep.base_.size()),
          placed(rep.opt_.timed ? n_seq : 0), score(rep.base_.size()),
          seen(pol.learns_target ? rep.shapes_.size() : 0), adopted(seen.size()) {
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

    /// Raw policy score of node i for the shape, from the cache when the node is unchanged.
    int64_t scored(size_t i, uint32_t shape_id, int* gpu) {
      CacheEntry& c = cache[fast ? i * r.shapes_.size() + shape_id : 0];
      const uint32_t stamp = st.node(i).version + 1;
      if (!fast || c.stamp != stamp) {
        int g = -1;
        c.score = policy.score(st.node(i), r.shapes_[shape_id], policy.learns_target ? learned : r.target_, &g);
        c.gpu = g;
        c.stamp = stamp;
      }
      if (gpu) *gpu = c.gpu;
      return c.score;
    }

    /// Highest (normalised) score wins; ties go to the smaller node priority.
    size_t choose_node(uint32_t shape_id, const std::vector<uint32_t>& prio, SimRng& rng) {
      if (policy.random_node) return feas[size_t(rng.bounded(feas.size()))];
      if (feas.size() == 1) return feas[0];  // chosen without scoring, as in the study
      int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
      for (uint32_t i : feas) {
        score[i] = scored(i, shape_id, nullptr);
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
    void choose_gpus(size_t pick, uint32_t shape_id, SimRng& rng, int* ids) {
      const NodeState& n = st.node(pick);
      const PodShape& s = r.shapes_[shape_id];
      if (!s.is_share()) {
        exclusive_gpus(n, s, ids);
      } else if (policy.gpu_select == GpuSelect::from_score) {
        int hint = -1;
        scored(pick, shape_id, &hint);
        ids[0] = hint >= 0 && n.left[hint] >= s.milli ? hint : best_fit_gpu(n, s);
      } else if (policy.gpu_select == GpuSelect::random) {
        int cand[kMaxGpusPerNode], c = 0;
        for (int g = 0; g < n.gpus; ++g)
          if (n.left[g] >= s.milli) cand[c++] = g;
        ids[0] = cand[rng.bounded(uint64_t(c))];
      } else {
        ids[0] = best_fit_gpu(n, s);
      }
    }

    /// Count an arrived pod's shape and rebuild the learned target when the mix has moved.
    void observe(uint32_t shape_id) {
      seen[shape_id]++;
      if (++arrivals < next_refresh) return;
      // After the first pod, the next check waits for 256 arrivals: rebuilding from a handful of
      // pods only re-scores nodes that are still empty (and costs a third of the replay time).
      next_refresh = arrivals < 256 ? 256 : arrivals < 1024 ? arrivals * 2 : arrivals + 512;
      double tv = 0;  // total-variation distance between the mix seen now and the one in use
      for (size_t k = 0; k < seen.size(); ++k)
        tv += std::abs(double(seen[k]) / double(arrivals) - (adopted_n ? double(adopted[k]) / double(adopted_n) : 0.0));
      if (tv / 2 > 0.1 || adopted_n == 0) {
        learned = TargetWorkload::from_counts(r.shapes_, seen, r.opt_.target_coverage);
        adopted = seen;
        adopted_n = arrivals;
        if (policy.adapt) policy.adapt(st, r.shapes_, seen, learned, stale);  // all re-scored below
        for (auto& c : cache) c.stamp = 0;
      }
    }

    /// Let an adapting policy look at the cluster every 0.25% of GPU capacity arrived.
    void adapt(int64_t milli) {
      arrived_milli += milli;
      if (!policy.adapt || arrived_milli < next_adapt) return;
      next_adapt = arrived_milli + std::max<int64_t>(1, st.total_gpu_milli() / 400);
      stale.clear();
      policy.adapt(st, r.shapes_, seen, learned, stale);
      if (!fast) return;
      for (uint32_t i : stale)
        for (size_t k = 0; k < r.shapes_.size(); ++k) cache[i * r.shapes_.size() + k].stamp = 0;
    }

    /// Submit one pod; false when no node can take it (it stays unallocated).
    bool arrive(size_t seq_pos, const Item& it, const std::vector<uint32_t>& prio, SimRng& rng) {
      const PodShape& s = r.shapes_[it.shape_id];
      if (policy.learns_target) {
        observe(it.shape_id);
        adapt(s.total_milli());
      }
      feas.clear();
      for (size_t i = 0; i < st.size(); ++i)
        if (fits(st.node(i), s, it.mem)) feas.push_back(uint32_t(i));
      if (feas.empty()) return false;
      const size_t pick = choose_node(it.shape_id, prio, rng);
      int ids[kMaxGpusPerNode] = {};
      choose_gpus(pick, it.shape_id, rng, ids);
      st.place(pick, s, it.mem, ids);
      refrag(pick);
      if (!placed.empty()) {
        placed[seq_pos].node = int64_t(pick);
        std::copy(ids, ids + kMaxGpusPerNode, placed[seq_pos].gpus);
      }
      return true;
    }

    void depart(size_t seq_pos, const Item& it) {
      Placed& pl = placed[seq_pos];
      if (pl.node < 0) return;
      st.remove(size_t(pl.node), r.shapes_[it.shape_id], it.mem, pl.gpus);
      refrag(size_t(pl.node));
      pl.node = -1;
    }
  };

  /// Per-1% aggregation of the per-pod rows, as the study's scripts do it: a row goes to bin
  /// round(arrived %) (half to even); an empty bin takes the rows of bins k-1..k+1.
  struct Bins {
    int max_pct;
    double cap;
    std::vector<double> alloc, fr, ratio;
    std::vector<int> n;
    Bins(int m, double c) : max_pct(m), cap(c), alloc(size_t(m) + 3), fr(size_t(m) + 3), ratio(size_t(m) + 3),
                            n(size_t(m) + 3) {}
    static double round2(double x) { return std::nearbyint(x * 100.0) / 100.0; }
    void add(int64_t arrived, int64_t used, double frag, int64_t idle, int64_t c) {
      const double pct = double(arrived) * 100.0 / double(c);
      const double k = std::nearbyint(pct);
      if (k < 0 || k > double(max_pct + 1)) return;
      const size_t b = size_t(k);
      alloc[b] += round2(double(used) * 100.0 / double(c));
      fr[b] += frag * 100.0 / double(c);
      ratio[b] += idle > 0 ? 100.0 * frag / double(idle) : 0.0;
      n[b]++;
    }
    std::vector<StepMetrics> finish() const {
      std::vector<StepMetrics> out(size_t(max_pct) + 1);
      for (int k = 0; k <= max_pct; ++k) {
        double a = alloc[size_t(k)], f = fr[size_t(k)], r = ratio[size_t(k)];
        int c = n[size_t(k)];
        if (c == 0)
          for (int j = std::max(0, k - 1); j <= k + 1; ++j) a += alloc[size_t(j)], f += fr[size_t(j)], r += ratio[size_t(j)], c += n[size_t(j)];
        StepMetrics& m = out[size_t(k)];
        m.arrived_pct = k;
        m.rows = c;
        const double nan = std::numeric_limits<double>::quiet_NaN();
        m.allocated_pct = c ? round2(a / c) : nan;
        m.unallocated_pct = c ? 100.0 - m.allocated_pct : nan;
        m.fragmentation_pct = c ? round2(f / c) : nan;
        m.frag_ratio_pct = c ? r / c : nan;
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
