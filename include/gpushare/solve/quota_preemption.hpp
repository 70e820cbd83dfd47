// gpushare/solve/quota_preemption.hpp — QuotaState (tree + admitted workloads) and the
// classical Kueue-style victim search used by admission.
//
// Victim order and the meaning of "minimal" are documented in docs/QUOTA.md: candidates are
// sorted (other queues first, lower priority first, most recently admitted first, then name),
// removed one by one until the incoming workload fits, then every removed victim but the last
// is put back if the workload still fits without it.  The result is minimal in the sense that
// no single victim can be dropped from it.
//
// @code
//   gpushare::QuotaState st(std::move(tree));
//   st.admit_existing(w);             // record an already-admitted workload
//   gpushare::QuotaDecision d = gpushare::admit(st, incoming);
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gpushare/solve/quota_model.hpp"

namespace gpushare {

/// @brief A quota tree with its admitted workloads.
class QuotaState {
 public:
  QuotaState() = default;
  explicit QuotaState(QuotaTree tree) : tree_(std::move(tree)) {
    if (!tree_.finalized()) tree_.finalize();
    by_queue_.assign(tree_.nodes().size(), {});
  }

  const QuotaTree& tree() const { return tree_; }
  QuotaTree& tree_mut() { return tree_; }

  /// @brief Records an admitted workload (usage is added without limit checks).
  void admit_existing(const QuotaWorkload& w) {
    if (index_.count(w.name)) throw ConflictError("quota: workload '" + w.name + "' already admitted");
    const int q = tree_.queue_node(w.queue);
    tree_.add_workload_usage(w, +1);
    index_[w.name] = static_cast<int>(workloads_.size());
    workloads_.push_back(w);
    active_.push_back(true);
    by_queue_[q].push_back(static_cast<int>(workloads_.size() - 1));
  }

  /// @brief Removes an admitted workload (finished or evicted) and returns its quota.
  void finish(const std::string& name) {
    auto it = index_.find(name);
    if (it == index_.end()) throw NotFound("quota: no admitted workload '" + name + "'");
    const int i = it->second;
    tree_.add_workload_usage(workloads_[i], -1);
    active_[i] = false;
    index_.erase(it);
    auto& v = by_queue_[tree_.queue_node(workloads_[i].queue)];
    v.erase(std::find(v.begin(), v.end(), i));
  }

  bool is_admitted(const std::string& name) const { return index_.count(name) != 0; }
  std::size_t admitted_count() const { return index_.size(); }
  /// @brief Workload ids (indices into workloads()) admitted in queue node `q`.
  const std::vector<int>& queue_workloads(int q) const { return by_queue_[q]; }
  const std::vector<QuotaWorkload>& workloads() const { return workloads_; }
  std::vector<QuotaWorkload> admitted() const {
    std::vector<QuotaWorkload> out;
    for (std::size_t i = 0; i < workloads_.size(); ++i)
      if (active_[i]) out.push_back(workloads_[i]);
    return out;
  }

 private:
  QuotaTree tree_;
  std::vector<QuotaWorkload> workloads_;
  std::vector<bool> active_;
  std::unordered_map<std::string, int> index_;
  std::vector<std::vector<int>> by_queue_;
};

namespace detail {

/// Request of one workload as (fr index, quantity) for one flavor.
using FrRequest = std::vector<std::pair<int, std::int64_t>>;

inline bool priority_allows(int victim, std::int64_t victim_creation, const QuotaWorkload& wl, WithinQueuePolicy p) {
  switch (p) {
    case WithinQueuePolicy::never: return false;
    case WithinQueuePolicy::lower_priority: return victim < wl.priority;
    case WithinQueuePolicy::lower_or_newer_equal_priority:
      return victim < wl.priority || (victim == wl.priority && wl.creation < victim_creation);
  }
  return false;
}

/// Lowest common ancestor of two nodes (-1 if in different trees).
inline int lca(const QuotaTree& t, int a, int b) {
  const auto& n = t.nodes();
  while (n[a].depth > n[b].depth) a = n[a].parent;
  while (n[b].depth > n[a].depth) b = n[b].parent;
  while (a != b && a >= 0 && b >= 0) { a = n[a].parent; b = n[b].parent; }
  return a == b ? a : -1;
}

inline int root_of(const QuotaTree& t, int a) {
  while (t.nodes()[a].parent >= 0) a = t.nodes()[a].parent;
  return a;
}

/// True if the subtree holding queue `cq` just below the common ancestor `stop` uses more than
/// its subtree quota in one of `frs` (for a flat cohort: the queue itself borrows).
inline bool borrowing_below(const QuotaTree& t, int cq, int stop, const std::vector<int>& frs) {
  int n = cq;
  while (t.nodes()[n].parent >= 0 && t.nodes()[n].parent != stop) n = t.nodes()[n].parent;
  for (int k : frs)
    if (t.nodes()[n].usage[k] > t.nodes()[n].subtree_quota[k]) return true;
  return false;
}

/// Height (0 = the queue itself) of the lowest node on the queue's path whose own subtree could
/// hold its usage plus `req`, ignoring what others borrow from it; -1 if none below the root.
inline int reclaim_height(const QuotaTree& t, int q, const FrRequest& req) {
  int h = 0;
  for (int n = q; n >= 0 && (n == q || t.nodes()[n].parent >= 0); n = t.nodes()[n].parent, ++h) {
    bool ok = true;
    for (const auto& kr : req)
      if (t.nodes()[n].usage[kr.first] + kr.second > t.nodes()[n].subtree_quota[kr.first]) { ok = false; break; }
    if (ok) return h;
  }
  return -1;
}

/// Whether `req` fits queue `q` now; with `max_height >= 0` it must also fit within the subtree
/// of the node that many levels up.
inline bool fits(const QuotaTree& t, int q, const FrRequest& req, int max_height) {
  for (const auto& kr : req)
    if (kr.second > t.available(q, kr.first)) return false;
  if (max_height >= 0) {
    int n = q;
    for (int h = 0; h < max_height && t.nodes()[n].parent >= 0; ++h) n = t.nodes()[n].parent;
    for (const auto& kr : req)
      if (t.nodes()[n].usage[kr.first] + kr.second > t.nodes()[n].subtree_quota[kr.first]) return false;
  }
  return true;
}

struct Candidate {
  int id;
  int queue;
  bool other_queue;
};

}  // namespace detail
}  // namespace gpushare
