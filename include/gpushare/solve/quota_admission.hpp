// gpushare/solve/quota_admission.hpp — admission of one pending workload through the quota
// tree: flavor assignment with fungibility, borrowing, and preemption candidates.
//
// `admit(state, wl)` does not change `state` (it simulates evictions and restores them); the
// decision names the flavor, whether the queue borrows, and the victims, or why not (queue,
// flavor, limit).  `commit(state, wl, decision)` evicts the victims and records the workload.
//
// @code
//   gpushare::QuotaDecision d = gpushare::admit(state, wl);
//   if (d.admit) gpushare::commit(state, wl, d);
//   else std::cerr << d.reason << "\n";
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "gpushare/solve/quota_preemption.hpp"

namespace gpushare {

/// @brief How a flavor could take the workload, best last.
enum class FlavorMode { no_fit = 0, no_candidates = 1, preempt = 2, reclaim = 3, fit = 4 };

/// @brief The outcome of admitting one workload.
struct QuotaDecision {
  bool admit = false;
  std::string flavor;                  ///< chosen flavor ("" when not admitted)
  bool borrows = false;                ///< queue usage of the flavor exceeds nominal afterwards
  std::vector<std::string> preempted;  ///< victims, sorted by name
  FlavorMode mode = FlavorMode::no_fit;
  std::string reason;                  ///< why not admitted: queue, flavor and limit
  /// With victims: -1 if the workload may borrow freely once they are gone, else the height
  /// (0 = the queue) of the subtree whose own quota it must fit in (see docs/QUOTA.md).
  int fit_height = -1;
};

namespace detail {

struct FlavorEval {
  FlavorMode mode = FlavorMode::no_fit;
  int borrow = 0;  // height of borrowing (0 = within nominal)
  std::vector<int> victims;
  std::string reason;
  int fit_height = -1;
};

/// Greedy removal in candidate order, then fill-back (the last removed victim is kept).
inline std::vector<int> minimal_preemptions(QuotaState& st, int q, const FrRequest& req,
                                            const std::vector<int>& frs_need,
                                            const std::vector<Candidate>& cands, bool allow_borrowing,
                                            const int* borrow_below_priority, int reclaim_h,
                                            int* fit_height = nullptr) {
  QuotaTree& t = st.tree_mut();
  const auto& wls = st.workloads();
  std::vector<int> removed;
  bool fit = false;
  for (const auto& c : cands) {
    const QuotaWorkload& w = wls[c.id];
    if (c.other_queue) {
      const int l = lca(t, q, c.queue);
      if (!borrowing_below(t, c.queue, l, frs_need)) continue;
      if (borrow_below_priority && w.priority >= *borrow_below_priority) {
        // Only taken when the incoming workload would then not borrow.
        bool would_borrow = false;
        for (const auto& kr : req)
          if (t.nodes()[q].usage[kr.first] + kr.second > t.nodes()[q].nominal[kr.first]) would_borrow = true;
        if (would_borrow) continue;
        allow_borrowing = false;
      }
    }
    t.add_workload_usage(w, -1);
    removed.push_back(c.id);
    if (fits(t, q, req, allow_borrowing ? -1 : reclaim_h)) { fit = true; break; }
  }
  if (!fit) {
    for (int id : removed) t.add_workload_usage(wls[id], +1);
    return {};
  }
  // fill back, from the second-to-last removed to the first
  std::vector<int> keep(removed.begin(), removed.end());
  for (int i = static_cast<int>(removed.size()) - 2; i >= 0; --i) {
    const QuotaWorkload& w = wls[removed[i]];
    t.add_workload_usage(w, +1);
    if (fits(t, q, req, allow_borrowing ? -1 : reclaim_h)) {
      keep.erase(std::find(keep.begin(), keep.end(), removed[i]));
    } else {
      t.add_workload_usage(w, -1);
    }
  }
  for (int id : keep) t.add_workload_usage(wls[id], +1);
  if (fit_height) *fit_height = allow_borrowing ? -1 : reclaim_h;
  return keep;
}

/// Victim search for `wl` on the flavor whose request is `req`.
inline std::vector<int> find_victims(QuotaState& st, const QuotaWorkload& wl, int q, const std::string& flavor,
                                     const FrRequest& req, const std::vector<int>& frs_need, bool may_reclaim,
                                     int reclaim_h, int* fh) {
  const QuotaTree& t = st.tree();
  const QueueSpec& spec = t.queue_spec(q);
  const auto& wls = st.workloads();
  auto uses = [&](const QuotaWorkload& w) {
    if (w.flavor != flavor) return false;
    for (int k : frs_need) {
      auto it = w.requests.find(t.fr_name(k).second);
      if (it != w.requests.end() && it->second > 0) return true;
    }
    return false;
  };
  std::vector<Candidate> cands;
  for (int id : st.queue_workloads(q)) {
    const QuotaWorkload& w = wls[id];
    if (uses(w) && priority_allows(w.priority, w.creation, wl, spec.preemption.within_queue)) cands.push_back({id, q, false});
  }
  const std::size_t own = cands.size();
  const auto& nodes = t.nodes();
  if (nodes[q].parent >= 0 && spec.preemption.reclaim_within_cohort != ReclaimPolicy::never) {
    const int root = root_of(t, q);
    for (std::size_t n = 0; n < nodes.size(); ++n) {
      const int ni = static_cast<int>(n);
      if (!nodes[n].is_queue || ni == q || root_of(t, ni) != root) continue;
      if (!borrowing_below(t, ni, lca(t, q, ni), frs_need)) continue;
      for (int id : st.queue_workloads(ni)) {
        const QuotaWorkload& w = wls[id];
        if (spec.preemption.reclaim_within_cohort != ReclaimPolicy::any && w.priority >= wl.priority) continue;
        if (uses(w)) cands.push_back({id, ni, true});
      }
    }
  }
  std::stable_sort(cands.begin(), cands.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.other_queue != b.other_queue) return a.other_queue;
    const QuotaWorkload& x = wls[a.id];
    const QuotaWorkload& y = wls[b.id];
    if (x.priority != y.priority) return x.priority < y.priority;
    if (x.admitted_at != y.admitted_at) return x.admitted_at > y.admitted_at;
    return x.name < y.name;
  });
  std::vector<Candidate> own_cands;
  for (const auto& c : cands)
    if (!c.other_queue) own_cands.push_back(c);
  if (own == cands.size()) return minimal_preemptions(st, q, req, frs_need, cands, true, nullptr, reclaim_h, fh);
  if (spec.preemption.borrow_within_cohort) {
    int below = wl.priority;
    const int* bp = nullptr;
    if (!may_reclaim) {
      // In 64 bits: the threshold may be INT_MAX.  When the test holds, threshold + 1 < below fits.
      if (spec.preemption.max_priority_threshold && std::int64_t{*spec.preemption.max_priority_threshold} + 1 < below)
        below = *spec.preemption.max_priority_threshold + 1;
      bp = &below;
    }
    auto v = minimal_preemptions(st, q, req, frs_need, cands, true, bp, reclaim_h, fh);
    if (!v.empty()) return v;
  } else {
    auto v = minimal_preemptions(st, q, req, frs_need, cands, false, nullptr, reclaim_h, fh);
    if (!v.empty()) return v;
  }
  return minimal_preemptions(st, q, req, frs_need, own_cands, true, nullptr, reclaim_h, fh);
}

/// Height of borrowing if `req` were added: 0 when the queue stays within nominal, else the
/// number of levels up to the lowest node whose subtree holds it (depth+1 if none).
inline int borrow_height(const QuotaTree& t, int q, const FrRequest& req) {
  const int h = reclaim_height(t, q, req);
  return h < 0 ? t.nodes()[q].depth + 1 : h;
}

inline FlavorEval evaluate_flavor(QuotaState& st, const QuotaWorkload& wl, int q, const FlavorQuota& f) {
  const QuotaTree& t = st.tree();
  FlavorEval e;
  FrRequest req;
  for (const auto& kv : wl.requests) {
    if (kv.second == 0) continue;
    const int k = f.resources.count(kv.first) ? t.fr_index(f.name, kv.first) : -1;
    if (k < 0) {
      e.reason = "queue " + wl.queue + " flavor " + f.name + ": resource " + kv.first + " not defined";
      return e;
    }
    req.emplace_back(k, kv.second);
  }
  std::vector<int> need;
  const int rh = reclaim_height(t, q, req);
  for (const auto& kr : req) {
    const int k = kr.first;
    if (kr.second <= t.available(q, k)) continue;
    const std::int64_t pot = t.potential_available(q, k);
    if (kr.second > pot) {
      e.reason = "queue " + wl.queue + " flavor " + f.name + " resource " + t.fr_name(k).second + ": request " +
                 std::to_string(kr.second) + " exceeds the most the queue can reach (" + std::to_string(pot) +
                 ", nominal plus borrowing limit and cohort capacity)";
      return e;
    }
    need.push_back(k);
  }
  e.borrow = borrow_height(t, q, req);
  if (need.empty()) {
    e.mode = FlavorMode::fit;
    return e;
  }
  const QueueSpec& spec = t.queue_spec(q);
  bool within_nominal = true;
  for (int k : need) {
    std::int64_t v = 0;
    for (const auto& kr : req)
      if (kr.first == k) v = kr.second;
    if (v > t.nodes()[q].nominal[k]) within_nominal = false;
  }
  const bool may_reclaim = rh >= 0;
  if (!(within_nominal || may_reclaim || spec.preemption.borrow_within_cohort)) {
    e.reason = "queue " + wl.queue + " flavor " + f.name + ": request exceeds nominal quota and free cohort capacity; " +
               "preemption while borrowing is not allowed";
    return e;
  }
  e.victims = find_victims(st, wl, q, f.name, req, need, may_reclaim, rh < 0 ? 0 : rh, &e.fit_height);
  if (e.victims.empty()) {
    e.mode = FlavorMode::no_candidates;
    e.reason = "queue " + wl.queue + " flavor " + f.name + ": quota full and no preemption candidates";
    return e;
  }
  bool all_other = true;
  for (int id : e.victims)
    if (st.workloads()[id].queue == wl.queue) all_other = false;
  e.mode = all_other ? FlavorMode::reclaim : FlavorMode::preempt;
  // borrowing height once the victims are gone
  QuotaTree& tm = st.tree_mut();
  for (int id : e.victims) tm.add_workload_usage(st.workloads()[id], -1);
  e.borrow = borrow_height(tm, q, req);
  for (int id : e.victims) tm.add_workload_usage(st.workloads()[id], +1);
  return e;
}

inline bool better(const FlavorEval& a, const FlavorEval& b, bool pob) {
  auto ma = static_cast<int>(a.mode), mb = static_cast<int>(b.mode);
  const bool a_real = a.mode >= FlavorMode::preempt, b_real = b.mode >= FlavorMode::preempt;
  if (a_real != b_real) return a_real;
  if (!a_real) return ma > mb;
  if (pob) {
    if (a.borrow != b.borrow) return a.borrow < b.borrow;
    return ma > mb;
  }
  if (ma != mb) return ma > mb;
  return a.borrow < b.borrow;
}

}  // namespace detail

/// @brief Decides whether `wl` can be admitted to its queue.  `state` is left unchanged.
/// `flavor_ok`, if given, excludes flavors the workload itself cannot use (e.g. GPU models its
/// request denies); excluded flavors are skipped as if the queue did not list them.
inline QuotaDecision admit(QuotaState& state, const QuotaWorkload& wl,
                           const std::function<bool(const std::string&)>& flavor_ok = nullptr) {
  const int q = state.tree().queue_node(wl.queue);
  const QueueSpec& spec = state.tree().queue_spec(q);
  const FlavorFungibility& ff = spec.fungibility;
  detail::FlavorEval best;
  int best_i = -1;
  std::string reasons;
  for (std::size_t i = 0; i < spec.flavors.size(); ++i) {
    if (flavor_ok && !flavor_ok(spec.flavors[i].name)) {
      reasons += (reasons.empty() ? "" : "; ") + ("queue " + wl.queue + " flavor " + spec.flavors[i].name +
                                                  ": not allowed by the workload");
      continue;
    }
    detail::FlavorEval e = detail::evaluate_flavor(state, wl, q, spec.flavors[i]);
    if (!e.reason.empty()) reasons += (reasons.empty() ? "" : "; ") + e.reason;
    const bool borrow = e.borrow > 0;
    bool stop = false;
    if ((e.mode == FlavorMode::preempt || e.mode == FlavorMode::reclaim) && ff.stop_when_can_preempt &&
        (!borrow || ff.stop_when_can_borrow))
      stop = true;
    if (e.mode == FlavorMode::fit && (!borrow || ff.stop_when_can_borrow)) stop = true;
    if (best_i < 0 || detail::better(e, best, ff.preemption_over_borrowing)) {
      best = e;
      best_i = static_cast<int>(i);
    }
    if (stop) { best = e; best_i = static_cast<int>(i); break; }
  }
  QuotaDecision d;
  if (best_i < 0 || best.mode < FlavorMode::preempt) {
    d.reason = reasons.empty() ? "queue " + wl.queue + ": no flavors" : reasons;
    return d;
  }
  d.admit = true;
  d.mode = best.mode;
  d.fit_height = best.fit_height;
  d.flavor = spec.flavors[best_i].name;
  QuotaTree& t = state.tree_mut();
  for (int id : best.victims) {
    d.preempted.push_back(state.workloads()[id].name);
    t.add_workload_usage(state.workloads()[id], -1);
  }
  for (const auto& kv : wl.requests) {
    if (kv.second == 0) continue;
    const int k = t.fr_index(d.flavor, kv.first);
    if (t.nodes()[q].usage[k] + kv.second > t.nodes()[q].nominal[k]) d.borrows = true;
  }
  for (int id : best.victims) t.add_workload_usage(state.workloads()[id], +1);
  std::sort(d.preempted.begin(), d.preempted.end());
  return d;
}

/// @brief Applies an admitting decision: evicts its victims and records `wl` on its flavor.
inline void commit(QuotaState& state, QuotaWorkload wl, const QuotaDecision& d) {
  if (!d.admit) throw InvalidArgument("quota: commit of a decision that does not admit '" + wl.name + "'");
  for (const auto& v : d.preempted) state.finish(v);
  wl.flavor = d.flavor;
  state.admit_existing(wl);
}

}  // namespace gpushare
