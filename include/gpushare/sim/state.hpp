// gpushare/sim/state.hpp — the simulator's flat cluster state, the target workload and the
// FGD paper's fragmentation measure (Weng et al., USENIX ATC'23, "Beware of Fragmentation").
//
// Fragmentation of node n for target workload M = sum over shapes t of p_t * F(n, t), where
// F(n, t) is the node's idle GPU milli that a task of shape t cannot use: all of it when t does
// not fit (GPU, CPU or model), only the GPUs with less left than t needs when it does fit.
//
// @code
//   auto tw = gpushare::sim::TargetWorkload::from_pods(pods, 0.95);
//   gpushare::sim::SimState st(nodes);
//   double f = gpushare::sim::node_frag(st.node(0), tw);   // milli-GPU
// @endcode
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/sim/openb.hpp"

namespace gpushare {
namespace sim {

/// @brief Index of a GPU model in known_gpu_models(), or -1 for none/unknown.
inline int gpu_model_id(const std::string& m) {
  const auto& k = known_gpu_models();
  for (size_t i = 0; i < k.size(); ++i)
    if (k[i] == m) return int(i);
  return -1;
}

/// @brief The scheduling-relevant part of a pod: what the policies and the fragmentation measure see.
struct PodShape {
  std::int64_t cpu = 0;        ///< CPU request, milli-cores
  int milli = 0;          ///< milli-GPU per GPU
  int num = 0;            ///< number of GPUs
  std::uint32_t spec_mask = 0; ///< allowed models as a bit set over known_gpu_models(); 0 = any
  /// @brief Does a node of model `model_id` accept this shape's GPU type constraint?
  bool accepts_model(int model_id) const {
    return spec_mask == 0 || (model_id >= 0 && (spec_mask >> model_id) & 1u);
  }
  bool is_share() const { return num == 1 && milli < 1000; }
  std::int64_t total_milli() const { return std::int64_t(milli) * num; }
  bool operator==(const PodShape& o) const {
    return cpu == o.cpu && milli == o.milli && num == o.num && spec_mask == o.spec_mask;
  }
};

/// @brief The shape of a trace pod (unknown models in gpu_spec are rejected by the loader).
inline PodShape shape_of(const SimPod& p) {
  PodShape s;
  s.cpu = p.cpu_milli;
  s.milli = p.num_gpu > 0 ? p.gpu_milli : 0;
  s.num = p.num_gpu;
  for (const auto& m : p.gpu_spec) {
    int id = gpu_model_id(m);
    if (id < 0) throw InvalidArgument("pod '" + p.name + "': unknown GPU model '" + m + "' in gpu_spec");
    s.spec_mask |= 1u << id;
  }
  return s;
}

/// @brief One shape of the target workload with its popularity weight.
struct TargetShape {
  PodShape shape;
  double weight = 0;  ///< p_t; the weights of a workload sum to 1
};

/// @brief Shapes of a target that ask for the same GPUs (milli per GPU, GPU count): a node's
/// GPUs are counted once for all of them.
struct ShapeClass {
  int milli = 0;                    ///< milli-GPU per GPU
  int num = 0;                      ///< number of GPUs
  double weight = 0;                ///< sum of the weights of `shapes`
  std::vector<TargetShape> shapes;  ///< the shapes (CPU request and model constraint differ)
};

/// @brief A task shape whose hosts are running out, with the GPU milli expected to fail for
/// each placement of it that a node gives up.
struct ScarceShape {
  PodShape shape;
  double milli_per_host = 0;
};

/// @brief The target workload M: the most frequent task shapes covering `coverage` of all tasks.
struct TargetWorkload {
  std::vector<TargetShape> shapes;
  double cpu_only_weight = 0;  ///< sum of weights of CPU-only shapes
  // Filled only by policies that adapt their learned target to the cluster (SimPolicy::adapt);
  // node_frag and FGD ignore these.
  std::vector<ShapeClass> gpu_classes;  ///< the GPU shapes grouped by (milli per GPU, GPU count)
  double cpu_per_gpu_milli = 0;         ///< weighted CPU per whole GPU of the GPU shapes, milli-cores
  std::vector<ScarceShape> scarce;      ///< shapes whose hosts are running out

  /// @brief Build it from a trace as the paper does: count pods per (cpu, gpu milli, gpu count,
  /// gpu spec) — CPU-only tasks included, memory ignored — sort by count (ties: the larger key
  /// first), take shapes until the cumulative count reaches `coverage` of all pods (the crossing
  /// shape included), and weight each by count / covered count. The weights are computed in the
  /// study's floating-point steps ((count / total) / (covered / total), no renormalisation when
  /// every shape is taken), so FGD scores match its simulator bit for bit.
  static TargetWorkload from_pods(const std::vector<SimPod>& pods, double coverage = 0.95) {
    if (!(coverage > 0 && coverage <= 1))
      throw InvalidArgument("target workload: coverage must be in (0, 1], got " + std::to_string(coverage));
    using Key = std::tuple<std::int64_t, int, int, std::string>;
    std::map<Key, std::pair<std::int64_t, PodShape>> counts;
    for (const auto& p : pods) {
      std::string spec;
      for (size_t i = 0; i < p.gpu_spec.size(); ++i) spec += (i ? "|" : "") + p.gpu_spec[i];
      PodShape s = shape_of(p);
      auto& e = counts[Key{s.cpu, s.milli, s.num, spec}];
      e.first++;
      e.second = s;
    }
    std::vector<std::pair<Key, std::pair<std::int64_t, PodShape>>> v(counts.begin(), counts.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      if (a.second.first != b.second.first) return a.second.first > b.second.first;
      return a.first > b.first;
    });
    TargetWorkload tw;
    const double total = double(pods.size());
    // The study: threshold% * total / 100, its threshold an integer percentage (0.57 -> 57, not
    // 56.99999999999999).
    const double need = std::nearbyint(coverage * 1e6) / 1e4 * total / 100.0;
    std::int64_t cum = 0;
    std::vector<std::pair<PodShape, std::int64_t>> taken;
    for (const auto& e : v) {
      if (double(cum) >= need) break;
      cum += e.second.first;
      taken.push_back({e.second.second, e.second.first});
    }
    const bool all = taken.size() == v.size();
    for (const auto& t : taken) {
      const double share = double(t.second) / total;
      const double w = all ? share : share / (double(cum) / total);
      tw.shapes.push_back({t.first, w});
      if (t.first.num == 0) tw.cpu_only_weight += w;
    }
    return tw;
  }

  /// @brief The same construction from shape counts (count[i] tasks of shape shapes[i]); ties in
  /// count go to the lower index. Used to learn the workload online from arrived pods.
  static TargetWorkload from_counts(const std::vector<PodShape>& shapes, const std::vector<std::int64_t>& count,
                                    double coverage = 0.95) {
    std::vector<size_t> idx;
    std::int64_t total = 0;
    for (size_t i = 0; i < count.size() && i < shapes.size(); ++i)
      if (count[i] > 0) idx.push_back(i), total += count[i];
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return count[a] > count[b]; });
    TargetWorkload tw;
    const double need = coverage * double(total);
    std::int64_t cum = 0;
    size_t k = 0;
    for (; k < idx.size() && double(cum) < need; ++k) cum += count[idx[k]];
    for (size_t j = 0; j < k; ++j) {
      const double w = double(count[idx[j]]) / double(cum);
      tw.shapes.push_back({shapes[idx[j]], w});
      if (shapes[idx[j]].num == 0) tw.cpu_only_weight += w;
    }
    return tw;
  }
};

/// @brief Maximum GPUs per node the flat state supports.
constexpr int kMaxGpusPerNode = 8;

/// @brief Mutable state of one simulated node.
struct NodeState {
  std::int64_t cpu_left = 0;
  std::int64_t mem_left = 0;
  std::int64_t cpu_cap = 0;
  int gpus = 0;
  int model = -1;
  std::array<std::int16_t, kMaxGpusPerNode> left{};  ///< milli-GPU left per GPU, index order
  /// Placed GPU pods per affinity tag: [0] share-gpu, [n] n-gpu (whole GPUs).
  std::array<std::int32_t, kMaxGpusPerNode + 1> affinity{};
  int affinity_tags = 0;  ///< number of tags with a nonzero count
  std::uint32_t version = 0;   ///< bumped on every change (cache stamp)

  std::int64_t idle_milli() const {
    std::int64_t s = 0;
    for (int g = 0; g < gpus; ++g) s += left[g];
    return s;
  }
  std::int64_t used_milli() const { return std::int64_t(gpus) * 1000 - idle_milli(); }
};

/// @brief Affinity tag index of a GPU pod: 0 for GPU-sharing, else its GPU count; -1 for CPU-only.
inline int affinity_tag(const PodShape& s) {
  if (s.num == 0) return -1;
  return s.is_share() ? 0 : s.num;
}

/// @brief Can the node host the shape now? CPU, memory, model and GPUs (the upstream filter).
inline bool fits(const NodeState& n, const PodShape& s, std::int64_t mem) {
  if (s.cpu > n.cpu_left || mem > n.mem_left) return false;
  if (s.num == 0) return true;
  if (n.gpus == 0 || !s.accepts_model(n.model)) return false;
  int c = 0;
  for (int g = 0; g < n.gpus; ++g) c += n.left[g] >= s.milli;
  return c >= s.num;
}

/// @brief Fragmentation of a node state for the target workload, in milli-GPU (paper §3.2).
/// `cpu_left`, `left[0..gpus)` describe the node; memory does not enter the measure.
///
/// Summed the way the study's simulator sums it, so the value is the same double: each shape's
/// term goes to one of its categories (lack both, lack GPU, satisfied, lack CPU, CPU-only fits,
/// CPU-only lacks CPU, wrong model), and the category totals are added in that order, skipping
/// "satisfied". The order matters: FGD truncates 100·sigmoid(Δ/1000), so a Δ that is zero in exact
/// arithmetic but −1e-13 after rounding scores 49 instead of 50.
inline double node_frag(std::int64_t cpu_left, const std::int16_t* left, int gpus, int model, const TargetWorkload& tw) {
  std::int64_t L = 0;
  for (int g = 0; g < gpus; ++g) L += left[g];
  if (L == 0) return 0.0;
  enum { lack_both, lack_gpu, satisfied, lack_cpu, cpu_fits, cpu_lacks, no_access, n_categories };
  double cat[n_categories] = {};  // "satisfied" stays 0: it is left out of the sum
  for (const auto& ts : tw.shapes) {
    const PodShape& t = ts.shape;
    const bool cpu_ok = cpu_left >= t.cpu;
    if (t.num == 0) { cat[cpu_ok ? cpu_fits : cpu_lacks] += ts.weight * double(L); continue; }
    if (!t.accepts_model(model)) { cat[no_access] += ts.weight * double(L); continue; }
    int cnt = 0;
    std::int64_t small = 0;
    for (int g = 0; g < gpus; ++g) {
      if (left[g] >= t.milli) ++cnt;
      else small += left[g];
    }
    if (cnt < t.num) cat[cpu_ok ? lack_gpu : lack_both] += ts.weight * double(L);
    else if (!cpu_ok) cat[lack_cpu] += ts.weight * double(L);
    else cat[lack_gpu] += ts.weight * double(small);  // GPUs too small for t; the rest is "satisfied"
  }
  double f = 0;
  for (int c = 0; c < n_categories; ++c)
    if (c != satisfied) f += cat[c];
  return f;
}

/// @brief node_frag on a NodeState.
inline double node_frag(const NodeState& n, const TargetWorkload& tw) {
  return node_frag(n.cpu_left, n.left.data(), n.gpus, n.model, tw);
}

/// @brief GPUs an exclusive (or CPU-only) pod takes on a node: the lowest-indexed fully free ones.
inline int exclusive_gpus(const NodeState& n, const PodShape& s, int* out) {
  int k = 0;
  for (int g = 0; g < n.gpus && k < s.num; ++g)
    if (n.left[g] >= s.milli && n.left[g] == 1000) out[k++] = g;
  return k;
}

/// @brief FGD-style gradient score, shared by FGD and the policies built on it: the points
/// `points(before, after)` of a node measure `frag(cpu_left, left, gpus, model)` taken before
/// and after placing `s` on `n`.  A sharing pod tries every GPU with room (GPUs with equal left
/// give equal scores, so only the lowest-indexed of them is tried), keeps the best, the lowest
/// index among equals, and reports it in `*gpu` (if not null); an exclusive pod takes the
/// lowest-indexed free GPUs (exclusive_gpus).
template <class Measure, class Points>
std::int64_t gradient_score(const NodeState& n, const PodShape& s, const Measure& frag, Points points, int* gpu) {
  const double before = frag(n.cpu_left, n.left.data(), n.gpus, n.model);
  std::int16_t left[kMaxGpusPerNode];
  for (int g = 0; g < n.gpus; ++g) left[g] = n.left[g];
  const std::int64_t cpu_after = n.cpu_left - s.cpu;
  if (s.is_share()) {
    std::int64_t best = -1;
    int best_g = -1;
    for (int g = 0; g < n.gpus; ++g) {
      if (n.left[g] < s.milli) continue;
      bool seen = false;
      for (int h = 0; h < g; ++h) seen = seen || n.left[h] == n.left[g];
      if (seen) continue;
      left[g] = std::int16_t(n.left[g] - s.milli);
      const std::int64_t sc = points(before, frag(cpu_after, left, n.gpus, n.model));
      left[g] = n.left[g];
      if (sc > best) { best = sc; best_g = g; }
    }
    if (gpu) *gpu = best_g;
    return best;
  }
  int ids[kMaxGpusPerNode];
  const int k = exclusive_gpus(n, s, ids);
  for (int i = 0; i < k; ++i) left[ids[i]] = std::int16_t(left[ids[i]] - s.milli);
  return points(before, frag(cpu_after, left, n.gpus, n.model));
}

/// @brief The "best" GPU for a sharing pod: least left among GPUs with enough, lowest index on ties.
inline int best_fit_gpu(const NodeState& n, const PodShape& s) {
  int best = -1;
  for (int g = 0; g < n.gpus; ++g)
    if (n.left[g] >= s.milli && (best < 0 || n.left[g] < n.left[best])) best = g;
  return best;
}

/// @brief Whole simulated cluster: flat node states built from SimNode rows.
class SimState {
 public:
  explicit SimState(const std::vector<SimNode>& nodes) {
    nodes_.reserve(nodes.size());
    for (const auto& sn : nodes) {
      if (sn.gpus < 0 || sn.gpus > kMaxGpusPerNode)
        throw InvalidArgument("node '" + sn.name + "': gpu count " + std::to_string(sn.gpus) + " outside 0..8");
      if (sn.cpu_milli < 0 || sn.memory_mib < 0)
        throw InvalidArgument("node '" + sn.name + "': negative cpu_milli or memory_mib");
      NodeState n;
      n.cpu_left = n.cpu_cap = sn.cpu_milli;
      n.mem_left = sn.memory_mib;
      n.gpus = sn.gpus;
      n.model = sn.gpus > 0 ? gpu_model_id(sn.model) : -1;
      if (sn.gpus > 0 && n.model < 0)
        throw InvalidArgument("node '" + sn.name + "': unknown GPU model '" + sn.model + "'");
      for (int g = 0; g < n.gpus; ++g) n.left[g] = 1000;
      total_gpu_milli_ += std::int64_t(n.gpus) * 1000;
      nodes_.push_back(n);
    }
  }
  /// @brief A state from node states as they are now (a live cluster's view, sim/live_policy.hpp).
  explicit SimState(std::vector<NodeState> nodes) : nodes_(std::move(nodes)) {
    for (const auto& n : nodes_) {
      total_gpu_milli_ += std::int64_t(n.gpus) * 1000;
      used_gpu_milli_ += n.used_milli();
    }
  }
  size_t size() const { return nodes_.size(); }
  const NodeState& node(size_t i) const { return nodes_[i]; }
  std::int64_t total_gpu_milli() const { return total_gpu_milli_; }
  std::int64_t used_gpu_milli() const { return used_gpu_milli_; }

  /// @brief Place a pod of shape `s` (memory `mem`) on node i, on GPUs gpu_ids[0..s.num).
  void place(size_t i, const PodShape& s, std::int64_t mem, const int* gpu_ids) {
    NodeState& n = nodes_[i];
    n.cpu_left -= s.cpu;
    n.mem_left -= mem;
    for (int k = 0; k < s.num; ++k) n.left[gpu_ids[k]] = std::int16_t(n.left[gpu_ids[k]] - s.milli);
    int tag = affinity_tag(s);
    if (tag >= 0 && n.affinity[tag]++ == 0) n.affinity_tags++;
    used_gpu_milli_ += s.total_milli();
    n.version++;
  }
  /// @brief Undo place() (a departure in timed mode).
  void remove(size_t i, const PodShape& s, std::int64_t mem, const int* gpu_ids) {
    NodeState& n = nodes_[i];
    n.cpu_left += s.cpu;
    n.mem_left += mem;
    for (int k = 0; k < s.num; ++k) n.left[gpu_ids[k]] = std::int16_t(n.left[gpu_ids[k]] + s.milli);
    int tag = affinity_tag(s);
    if (tag >= 0 && --n.affinity[tag] == 0) n.affinity_tags--;
    used_gpu_milli_ -= s.total_milli();
    n.version++;
  }

 private:
  std::vector<NodeState> nodes_;
  std::int64_t total_gpu_milli_ = 0;
  std::int64_t used_gpu_milli_ = 0;
};

}  // namespace sim
}  // namespace gpushare
