// gpushare/solve/quota_model.hpp — multi-tenant quota tree (Kueue-style cohorts and queues).
//
// A QuotaTree holds cohorts (a tree) and queues (leaves).  Each node has, per (flavor,
// resource) pair, a nominal quota and optional borrowing and lending limits.  Flavors are GPU
// models.  Usage is tracked per queue and propagated up: a node reports to its parent only the
// usage beyond its guaranteed (non-lendable) part.  See docs/QUOTA.md for the arithmetic.
//
// @code
//   gpushare::QuotaTree t;
//   t.add_cohort("org", "");
//   gpushare::QueueSpec q; q.name = "team-a"; q.cohort = "org";
//   q.flavors.push_back({"a100", {{"gpu", {4, std::nullopt, std::nullopt}}}});
//   t.add_queue(q);
//   t.finalize();
//   int k = t.fr_index("a100", "gpu");
//   std::int64_t free_now = t.available(t.queue_node("team-a"), k);   // 4
//   // admitted workloads and admission: QuotaState in quota_preemption.hpp, admit() in
//   // quota_admission.hpp
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gpushare/model/errors.hpp"

namespace gpushare {

/// @brief Quota of one resource in one flavor: nominal, optional borrowing and lending limits.
struct ResourceQuota {
  std::int64_t nominal = 0;
  std::optional<std::int64_t> borrowing_limit;  ///< unset = unlimited
  std::optional<std::int64_t> lending_limit;    ///< unset = all of nominal is lendable
};

/// @brief One flavor (GPU model) of a queue or cohort and its per-resource quotas.
struct FlavorQuota {
  std::string name;
  std::map<std::string, ResourceQuota> resources;
};

/// @brief Who may be evicted for an incoming workload (Kueue's preemption policies).
enum class WithinQueuePolicy { never, lower_priority, lower_or_newer_equal_priority };
enum class ReclaimPolicy { never, lower_priority, any };

/// @brief Preemption settings of a queue.
struct PreemptionPolicy {
  WithinQueuePolicy within_queue = WithinQueuePolicy::never;
  ReclaimPolicy reclaim_within_cohort = ReclaimPolicy::never;
  bool borrow_within_cohort = false;  ///< policy LowerPriority
  std::optional<int> max_priority_threshold;
};

/// @brief Flavor fungibility: whether the flavor search stops at borrowing or preemption.
struct FlavorFungibility {
  bool stop_when_can_borrow = true;      ///< Borrow (true) or TryNextFlavor
  bool stop_when_can_preempt = false;    ///< Preempt (true) or TryNextFlavor
  bool preemption_over_borrowing = false;
};

/// @brief A cohort: its parent ("" = root) and the quota it owns itself.
struct CohortSpec {
  std::string name;
  std::string parent;
  std::vector<FlavorQuota> flavors;
};

/// @brief A queue (Kueue ClusterQueue, gpu-admission namespace).
struct QueueSpec {
  std::string name;
  std::string cohort;  ///< "" = no cohort
  std::vector<FlavorQuota> flavors;  ///< order = order tried
  PreemptionPolicy preemption;
  FlavorFungibility fungibility;
};

/// @brief A workload holding (or asking for) quota.
struct QuotaWorkload {
  std::string name;
  std::string queue;
  int priority = 0;
  std::string flavor;  ///< for admitted workloads
  std::map<std::string, std::int64_t> requests;
  std::int64_t creation = 0;
  std::int64_t admitted_at = 0;
};

/// @brief The quota tree and its current usage.
class QuotaTree {
 public:
  /// @brief Node of the tree: a cohort or a queue.
  struct NodeData {
    std::string name;
    bool is_queue = false;
    int parent = -1;
    int depth = 0;
    std::vector<int> children;
    std::vector<std::int64_t> nominal;                      // per fr
    std::vector<std::optional<std::int64_t>> borrowing;     // per fr
    std::vector<std::optional<std::int64_t>> lending;       // per fr
    std::vector<std::int64_t> subtree_quota;                // per fr
    std::vector<std::int64_t> usage;                        // per fr
  };

  /// @brief Adds a cohort; `parent` "" = root.  Parents may be added later (resolved at finalize).
  void add_cohort(const std::string& name, const std::string& parent,
                  const std::vector<FlavorQuota>& flavors = {}) {
    check_open("add_cohort");
    if (name.empty()) throw InvalidArgument("quota: cohort name is empty");
    if (cohort_specs_.count(name)) throw ConflictError("quota: duplicate cohort '" + name + "'");
    cohort_specs_[name] = {parent, flavors};
    cohort_order_.push_back(name);
  }

  /// @brief Adds a queue.  An unknown cohort name becomes a root cohort with no quota.
  void add_queue(const QueueSpec& q) {
    check_open("add_queue");
    if (q.name.empty()) throw InvalidArgument("quota: queue name is empty");
    for (const auto& s : queues_)
      if (s.name == q.name) throw ConflictError("quota: duplicate queue '" + q.name + "'");
    queues_.push_back(q);
  }

  /// @brief Builds the tree; no more cohorts or queues after this.
  void finalize() {
    check_open("finalize");
    for (const auto& q : queues_)
      if (!q.cohort.empty() && !cohort_specs_.count(q.cohort)) {
        cohort_specs_[q.cohort] = {"", {}};
        cohort_order_.push_back(q.cohort);
      }
    for (const auto& c : cohort_order_) {
      const auto& p = cohort_specs_[c].first;
      if (!p.empty() && !cohort_specs_.count(p)) {
        throw NotFound("quota: cohort '" + c + "' names unknown parent '" + p + "'");
      }
    }
    auto fr_of = [&](const std::string& f, const std::string& r) { return intern(f, r); };
    for (const auto& c : cohort_order_)
      for (const auto& f : cohort_specs_[c].second)
        for (const auto& kv : f.resources) fr_of(f.name, kv.first);
    for (const auto& q : queues_)
      for (const auto& f : q.flavors)
        for (const auto& kv : f.resources) fr_of(f.name, kv.first);
    const std::size_t nfr = frs_.size();
    auto make = [&](const std::string& name, bool is_q, const std::vector<FlavorQuota>& fl) {
      NodeData n;
      n.name = name;
      n.is_queue = is_q;
      n.nominal.assign(nfr, 0);
      n.borrowing.assign(nfr, std::nullopt);
      n.lending.assign(nfr, std::nullopt);
      n.subtree_quota.assign(nfr, 0);
      n.usage.assign(nfr, 0);
      for (const auto& f : fl)
        for (const auto& kv : f.resources) {
          const int k = fr_index(f.name, kv.first);
          if (kv.second.nominal < 0) throw InvalidArgument("quota: " + name + " nominal < 0");
          n.nominal[k] = kv.second.nominal;
          n.borrowing[k] = kv.second.borrowing_limit;
          n.lending[k] = kv.second.lending_limit;
        }
      nodes_.push_back(std::move(n));
      return static_cast<int>(nodes_.size() - 1);
    };
    std::map<std::string, int> cidx;
    for (const auto& c : cohort_order_) cidx[c] = make(c, false, cohort_specs_[c].second);
    for (const auto& c : cohort_order_) {
      const auto& p = cohort_specs_[c].first;
      if (!p.empty()) {
        nodes_[cidx[c]].parent = cidx[p];
        nodes_[cidx[p]].children.push_back(cidx[c]);
      }
    }
    for (const auto& q : queues_) {
      const int i = make(q.name, true, q.flavors);
      queue_index_[q.name] = i;
      queue_spec_index_[i] = static_cast<int>(&q - queues_.data());
      if (!q.cohort.empty()) {
        nodes_[i].parent = cidx[q.cohort];
        nodes_[cidx[q.cohort]].children.push_back(i);
      }
    }
    // depth and cycle check
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      int d = 0;
      for (int p = nodes_[i].parent; p >= 0; p = nodes_[p].parent) {
        if (++d > static_cast<int>(nodes_.size())) throw InvalidArgument("quota: cohort cycle at '" + nodes_[i].name + "'");
      }
      nodes_[i].depth = d;
    }
    std::vector<int> order(nodes_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return nodes_[a].depth > nodes_[b].depth; });
    for (int i : order) {
      NodeData& n = nodes_[i];
      for (std::size_t k = 0; k < nfr; ++k) {
        std::int64_t s = n.nominal[k];
        for (int c : n.children) s += nodes_[c].subtree_quota[k] - guaranteed(c, static_cast<int>(k));
        n.subtree_quota[k] = s;
      }
    }
    finalized_ = true;
  }

  bool finalized() const { return finalized_; }
  const std::vector<NodeData>& nodes() const { return nodes_; }
  const std::vector<QueueSpec>& queue_specs() const { return queues_; }
  /// @brief The cohorts in the order added (after finalize, implicit ones named by queues too).
  std::vector<CohortSpec> cohort_specs() const {
    std::vector<CohortSpec> out;
    for (const auto& c : cohort_order_) {
      const auto& spec = cohort_specs_.at(c);
      out.push_back({c, spec.first, spec.second});
    }
    return out;
  }

  /// @brief Node index of queue `name`; throws NotFound.
  int queue_node(const std::string& name) const {
    auto it = queue_index_.find(name);
    if (it == queue_index_.end()) throw NotFound("quota: unknown queue '" + name + "'");
    return it->second;
  }
  /// @brief The spec of the queue at node `node`.
  const QueueSpec& queue_spec(int node) const { return queues_[queue_spec_index_.at(node)]; }

  /// @brief Index of (flavor, resource), or -1 if no node defines it.
  int fr_index(const std::string& flavor, const std::string& resource) const {
    auto it = fr_map_.find(flavor + '\x1f' + resource);
    return it == fr_map_.end() ? -1 : it->second;
  }
  std::size_t fr_count() const { return frs_.size(); }
  const std::pair<std::string, std::string>& fr_name(int k) const { return frs_[k]; }

  /// @brief Part of a node's quota it never lends (nominal beyond lendingLimit).
  std::int64_t guaranteed(int node, int k) const {
    const NodeData& n = nodes_[node];
    if (!n.lending[k]) return 0;
    return std::max<std::int64_t>(0, n.subtree_quota[k] - *n.lending[k]);
  }

  /// @brief Quantity of fr `k` that `node` can use right now (including borrowing).
  std::int64_t available(int node, int k) const {
    const NodeData& n = nodes_[node];
    if (n.parent < 0) return n.subtree_quota[k] - n.usage[k];
    const std::int64_t g = guaranteed(node, k);
    const std::int64_t local = std::max<std::int64_t>(0, g - n.usage[k]);
    std::int64_t from_parent = available(n.parent, k);
    if (n.borrowing[k]) {
      const std::int64_t stored = n.subtree_quota[k] - g;
      const std::int64_t used = std::max<std::int64_t>(0, n.usage[k] - g);
      from_parent = std::min(from_parent, stored - used + *n.borrowing[k]);
    }
    return local + from_parent;
  }

  /// @brief Most of fr `k` that `node` could ever use if every other node used nothing.
  std::int64_t potential_available(int node, int k) const {
    const NodeData& n = nodes_[node];
    if (n.parent < 0) return n.subtree_quota[k];
    std::int64_t a = guaranteed(node, k) + potential_available(n.parent, k);
    if (n.borrowing[k]) a = std::min(a, n.subtree_quota[k] + *n.borrowing[k]);
    return a;
  }

  /// @brief Adds `delta` of fr `k` to `node` (a queue) and propagates to the ancestors.
  void add_usage(int node, int k, std::int64_t delta) {
    while (node >= 0 && delta != 0) {
      NodeData& n = nodes_[node];
      const std::int64_t g = guaranteed(node, k);
      const std::int64_t before = std::max<std::int64_t>(0, n.usage[k] - g);
      n.usage[k] += delta;
      const std::int64_t after = std::max<std::int64_t>(0, n.usage[k] - g);
      delta = after - before;
      node = n.parent;
    }
  }

  /// @brief Records an admitted workload's usage (no limit check; see QuotaState::admit).
  void add_workload_usage(const QuotaWorkload& w, int sign) {
    const int q = queue_node(w.queue);
    for (const auto& kv : w.requests)  // check every resource first: a throw changes nothing
      if (kv.second != 0 && fr_index(w.flavor, kv.first) < 0)
        throw NotFound("quota: workload '" + w.name + "' uses undefined flavor/resource " + w.flavor + "/" + kv.first);
    for (const auto& kv : w.requests)
      if (kv.second != 0) add_usage(q, fr_index(w.flavor, kv.first), sign * kv.second);
  }

 private:
  void check_open(const char* what) const {
    if (finalized_) throw ConflictError(std::string("quota: ") + what + " after finalize()");
  }
  int intern(const std::string& f, const std::string& r) {
    const std::string key = f + '\x1f' + r;
    auto it = fr_map_.find(key);
    if (it != fr_map_.end()) return it->second;
    frs_.emplace_back(f, r);
    fr_map_[key] = static_cast<int>(frs_.size() - 1);
    return static_cast<int>(frs_.size() - 1);
  }

  bool finalized_ = false;
  std::map<std::string, std::pair<std::string, std::vector<FlavorQuota>>> cohort_specs_;
  std::vector<std::string> cohort_order_;
  std::vector<QueueSpec> queues_;
  std::vector<NodeData> nodes_;
  std::unordered_map<std::string, int> queue_index_;
  std::unordered_map<int, int> queue_spec_index_;
  std::unordered_map<std::string, int> fr_map_;
  std::vector<std::pair<std::string, std::string>> frs_;
};

}  // namespace gpushare
