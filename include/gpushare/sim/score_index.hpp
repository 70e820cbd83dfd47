// gpushare/sim/score_index.hpp — the replay's per-shape index of node scores: one decision in
// O(log nodes) instead of a pass over every node.
//
// A scheduling decision of the replay is "the feasible node with the highest score, ties to the
// smallest per-seed priority". ScoreIndex keeps, per request kind (a task shape and, where the
// trace has few distinct values, its memory request), a tournament tree (a max segment tree)
// over the nodes laid out in priority order: a leaf holds the node's score for the shape, or
// kNone when the request does not fit the node (CPU, GPUs, model, memory); an inner slot holds
// the largest score below it. A second tree over the same layout holds the largest memory left
// below each slot, so a tree that does not check memory (built for a shape with any memory)
// prunes the subtrees without room for the pod. The best node is found by a descent that visits
// the larger child first and skips subtrees that cannot beat the best leaf found (the leftmost
// among equals, i.e. the smallest priority): about log2(nodes) steps when memory does not bind.
//
// Updates are lazy. Every placement or departure appends the node to a change log; a shape's
// tree replays the log entries since its last query when it is next asked (re-scoring only
// nodes whose state changed since their leaf was computed), so a placement costs one log entry
// and rarely used shapes pay only when used. When many leaves need new scores at once (the
// first query of a shape, a rebuilt target workload, a policy's stale nodes), the scores are
// memoised by node state: nodes with the same (CPU left and capacity, GPU count, model,
// per-GPU milli left as a multiset, affinity counts) score the same, so a cluster of repeated
// node types is scored once per distinct state. (Memory does not enter a score; it is only
// checked against the request.)
//
// @code
//   ScoreIndex idx;
//   idx.reset(state, prio, shapes.size());   // one tree per shape, memory checked at the query
//   auto score = [&](size_t i) { return policy.score(state.node(i), shapes[k], target, nullptr); };
//   int64_t node = idx.best(state, k, shapes[k], INT64_MIN, pod_mem, score);   // -1: fits nowhere
//   state.place(node, ...);  idx.touch(state, node);
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>
#include <vector>

#include "gpushare/sim/state.hpp"

namespace gpushare {
namespace sim {

/// @brief Per-shape tournament trees of node scores in priority order (see the file comment).
class ScoreIndex {
 public:
  /// Leaf value of a node the shape does not fit.
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();

  /// @brief Lay the nodes out by (priority, index) and forget every score; `n_trees` request
  /// kinds (tree ids 0..n_trees-1).
  void reset(const SimState& st, const std::vector<uint32_t>& prio, size_t n_trees) {
    n_ = st.size();
    m_ = 1;
    while (m_ < n_) m_ <<= 1;
    at_.resize(n_);
    std::iota(at_.begin(), at_.end(), uint32_t(0));
    std::stable_sort(at_.begin(), at_.end(), [&](uint32_t a, uint32_t b) { return prio[a] < prio[b]; });
    pos_.assign(n_, 0);
    for (size_t p = 0; p < n_; ++p) pos_[at_[p]] = uint32_t(p);
    mem_.assign(2 * m_, kNone);
    for (size_t i = 0; i < n_; ++i) mem_[m_ + pos_[i]] = st.node(i).mem_left;
    for (size_t k = m_ - 1; k >= 1; --k) mem_[k] = std::max(mem_[2 * k], mem_[2 * k + 1]);
    epoch_.assign(n_, 1);
    log_.clear();
    classes_.clear();
    class_key_.clear();
    class_count_.clear();
    free_classes_.clear();
    cls_.assign(n_, 0);
    for (size_t i = 0; i < n_; ++i) cls_[i] = intern(st.node(i));
    trees_.assign(n_trees, Tree{});
    gen_ = 1;
  }

  bool ready() const { return m_ > 0 && at_.size() == n_ && n_ > 0; }

  /// @brief Node i changed (`changed`) or only its scores did: its leaves are recomputed on
  /// the next query of each tree.
  void touch(const SimState& st, size_t i, bool changed = true) {
    epoch_[i]++;
    log_.push_back(uint32_t(i));
    if (!changed) return;
    release(cls_[i]);
    cls_[i] = intern(st.node(i));
    size_t k = m_ + pos_[i];
    mem_[k] = st.node(i).mem_left;
    for (k >>= 1; k >= 1; k >>= 1) mem_[k] = std::max(mem_[2 * k], mem_[2 * k + 1]);
  }

  /// @brief Every score changed (the target workload was rebuilt).
  void invalidate_all() { ++gen_; }

  /// @brief Bring tree k, for requests of shape `s` with `mem` MiB (INT64_MIN: memory not
  /// checked in the leaves), up to date. `score(i)` is the policy's raw score of node i for the
  /// shape (called only for nodes the request fits).
  template <class ScoreFn>
  void sync(const SimState& st, uint32_t k, const PodShape& s, int64_t mem, ScoreFn&& score) {
    Tree& t = trees_[k];
    if (t.gen != gen_ || t.val.empty()) {
      if (t.val.empty()) {
        t.val.assign(2 * m_, kNone);
        t.stamp.assign(n_, 0);
      }
      pending_.resize(n_);
      std::iota(pending_.begin(), pending_.end(), uint32_t(0));
      rescore(st, t, s, mem, score, pending_, /*many=*/true);
      t.gen = gen_;
      t.log_pos = log_.size();
      return;
    }
    if (t.log_pos == log_.size()) return;
    pending_.clear();
    if (log_.size() - t.log_pos > n_) {  // cheaper to compare every node's stamp
      for (uint32_t i = 0; i < n_; ++i)
        if (t.stamp[i] != epoch_[i]) pending_.push_back(i);
    } else {
      for (size_t e = t.log_pos; e < log_.size(); ++e) {
        const uint32_t i = log_[e];
        if (t.stamp[i] != epoch_[i]) {
          t.stamp[i] = epoch_[i];  // dedupe; rescore() sets it again
          pending_.push_back(i);
        }
      }
    }
    t.log_pos = log_.size();
    rescore(st, t, s, mem, score, pending_, pending_.size() * 8 > n_);
  }

  /// @brief Tree k's score of node i (after sync), kNone when the request does not fit it.
  int64_t score(uint32_t k, size_t i) const { return trees_[k].val[m_ + pos_[i]]; }

  /// @brief The node with the highest score in tree k (shape `s`, memory `tree_mem` as in sync)
  /// among those with `mem` MiB of memory left, the smallest priority among equals; -1 when
  /// none. Syncs the tree first.
  template <class ScoreFn>
  int64_t best(const SimState& st, uint32_t k, const PodShape& s, int64_t tree_mem, int64_t mem, ScoreFn&& score_fn) {
    sync(st, k, s, tree_mem, score_fn);
    const std::vector<int64_t>& v = trees_[k].val;
    if (v[1] == kNone || mem_[1] < mem) return -1;
    best_score_ = kNone;
    best_pos_ = std::numeric_limits<size_t>::max();
    descend(v, 1, 0, m_, mem);
    return best_pos_ == std::numeric_limits<size_t>::max() ? -1 : int64_t(at_[best_pos_]);
  }

  /// @brief Bytes held by the trees (for the benchmarks).
  size_t bytes() const {
    size_t b = mem_.size() * 8 + (at_.size() + pos_.size() + epoch_.size() + log_.size() + cls_.size()) * 4 +
               class_key_.size() * (sizeof(Key) + 48);
    for (const Tree& t : trees_) b += t.val.size() * 8 + t.stamp.size() * 4;
    return b;
  }

 private:
  struct Tree {
    uint64_t gen = 0;            ///< generation of the scores (0: never built)
    size_t log_pos = 0;          ///< change-log entries already applied
    std::vector<int64_t> val;    ///< 2m slots: leaves at [m, m + n) in priority order, inner = max below
    std::vector<uint32_t> stamp; ///< per node: its epoch when the leaf was computed
  };

  /// Node state as far as a score can see it (memory aside), GPUs as a sorted multiset.
  struct Key {
    int64_t cpu_left, cpu_cap;
    int32_t gpus, model;
    int16_t left[kMaxGpusPerNode];
    int32_t affinity[kMaxGpusPerNode + 1];
    bool operator==(const Key& o) const {
      return cpu_left == o.cpu_left && cpu_cap == o.cpu_cap && gpus == o.gpus && model == o.model &&
             std::memcmp(left, o.left, sizeof left) == 0 && std::memcmp(affinity, o.affinity, sizeof affinity) == 0;
    }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      uint64_t h = 1469598103934665603ull;
      auto mix = [&h](uint64_t x) { h = (h ^ x) * 1099511628211ull; h ^= h >> 29; };
      mix(uint64_t(k.cpu_left));
      mix(uint64_t(k.cpu_cap));
      mix(uint64_t(uint32_t(k.gpus)) << 32 | uint32_t(k.model));
      for (int g = 0; g < kMaxGpusPerNode; g += 4)
        mix(uint64_t(uint16_t(k.left[g])) | uint64_t(uint16_t(k.left[g + 1])) << 16 |
            uint64_t(uint16_t(k.left[g + 2])) << 32 | uint64_t(uint16_t(k.left[g + 3])) << 48);
      for (int a = 0; a <= kMaxGpusPerNode; ++a) mix(uint64_t(uint32_t(k.affinity[a])));
      return size_t(h);
    }
  };
  static Key key_of(const NodeState& n) {
    Key k;
    std::memset(&k, 0, sizeof k);
    k.cpu_left = n.cpu_left;
    k.cpu_cap = n.cpu_cap;
    k.gpus = n.gpus;
    k.model = n.model;
    for (int g = 0; g < n.gpus; ++g) k.left[g] = n.left[g];
    std::sort(k.left, k.left + n.gpus);
    for (int a = 0; a <= kMaxGpusPerNode; ++a) k.affinity[a] = n.affinity[a];
    return k;
  }

  /// Class id of a node state (a new one if no node is in that state), counted.
  uint32_t intern(const NodeState& n) {
    auto ins = classes_.emplace(key_of(n), 0);
    if (ins.second) {
      uint32_t id;
      if (!free_classes_.empty()) {
        id = free_classes_.back();
        free_classes_.pop_back();
        class_key_[id] = ins.first->first;
      } else {
        id = uint32_t(class_key_.size());
        class_key_.push_back(ins.first->first);
        class_count_.push_back(0);
      }
      ins.first->second = id;
    }
    class_count_[ins.first->second]++;
    return ins.first->second;
  }
  /// One node fewer in class c; the class is forgotten when empty.
  void release(uint32_t c) {
    if (--class_count_[c] > 0) return;
    classes_.erase(class_key_[c]);
    free_classes_.push_back(c);
  }

  /// New leaves for the nodes in `ids`; memoised by node state (class) when many, then the
  /// inner slots.
  template <class ScoreFn>
  void rescore(const SimState& st, Tree& t, const PodShape& s, int64_t mem, ScoreFn& score,
               const std::vector<uint32_t>& ids, bool many) {
    if (many) {
      ++memo_gen_;
      if (memo_stamp_.size() < class_key_.size()) {
        memo_stamp_.resize(class_key_.size(), 0);
        memo_val_.resize(class_key_.size(), 0);
      }
    }
    for (uint32_t i : ids) {
      const NodeState& n = st.node(i);
      int64_t v = kNone;
      if (fits(n, s, mem)) {
        if (many) {
          const uint32_t c = cls_[i];
          if (memo_stamp_[c] != memo_gen_) {
            memo_stamp_[c] = memo_gen_;
            memo_val_[c] = score(size_t(i));
          }
          v = memo_val_[c];
        } else {
          v = score(size_t(i));
        }
      }
      t.val[m_ + pos_[i]] = v;
      t.stamp[i] = epoch_[i];
      if (many) continue;
      for (size_t k = (m_ + pos_[i]) >> 1; k >= 1; k >>= 1) {  // the tree was consistent before this leaf
        const int64_t up = std::max(t.val[2 * k], t.val[2 * k + 1]);
        if (t.val[k] == up) break;
        t.val[k] = up;
      }
    }
    if (many)
      for (size_t k = m_ - 1; k >= 1; --k) t.val[k] = std::max(t.val[2 * k], t.val[2 * k + 1]);
  }

  /// Larger child first (left on ties); a subtree is skipped when it cannot beat the best leaf
  /// found (lower maximum, or an equal one lying after it) or no node in it has `mem` left.
  void descend(const std::vector<int64_t>& v, size_t k, size_t lo, size_t width, int64_t mem) {
    if (v[k] == kNone || mem_[k] < mem) return;
    if (v[k] < best_score_ || (v[k] == best_score_ && lo > best_pos_)) return;
    if (width == 1) {
      if (lo < n_) best_score_ = v[k], best_pos_ = lo;  // the checks above: it fits and beats the best
      return;
    }
    const size_t half = width / 2;
    if (v[2 * k] >= v[2 * k + 1]) {
      descend(v, 2 * k, lo, half, mem);
      descend(v, 2 * k + 1, lo + half, half, mem);
    } else {
      descend(v, 2 * k + 1, lo + half, half, mem);
      descend(v, 2 * k, lo, half, mem);
    }
  }

  size_t n_ = 0, m_ = 0;
  std::vector<uint32_t> at_, pos_;  // position -> node, node -> position
  std::vector<int64_t> mem_;        // max memory left below each slot
  std::vector<uint32_t> epoch_;     // per node, bumped by touch()
  std::vector<uint32_t> log_;       // touched nodes, in order
  std::vector<Tree> trees_;
  uint64_t gen_ = 1;
  std::vector<uint32_t> pending_;
  // Node states in use: id per distinct state, its key and node count; ids of empty classes.
  std::unordered_map<Key, uint32_t, KeyHash> classes_;
  std::vector<Key> class_key_;
  std::vector<uint32_t> class_count_, free_classes_, cls_;  // cls_: class of each node
  std::vector<uint64_t> memo_stamp_;  // per class: memo_gen_ when memo_val_ was filled
  std::vector<int64_t> memo_val_;
  uint64_t memo_gen_ = 0;
  int64_t best_score_ = kNone;
  size_t best_pos_ = 0;
};

}  // namespace sim
}  // namespace gpushare
