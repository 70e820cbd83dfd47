// gpushare/sim/tenant_replay.hpp — trace replay with tenants and quota: every GPU pod first
// passes quota admission (its tenant's queue, a flavor = a GPU model it may use), then placement
// by the simulator policy; per tenant it reports admitted and waiting GPU demand.
//
// Tenants: pod p goes to tenant i with probability weight_i / sum of weights, decided by a hash
// of (pod name, assignment seed) — independent of the replay seed and of the submission order,
// so resampled copies of a pod keep its tenant.  Quota: any QuotaTree whose queues are the
// tenants (from the Kueue loader, or tenant_quota_from_shares), resource "gpu" in milli-GPU, and
// flavors named after GPU models, or "any" for every model.  The rules (flavor fallback, waiting,
// retries in timed mode) are in docs/QUOTA.md, "Simulator with tenants".
//
// @code
//   std::vector<gpushare::sim::TenantShare> tenants{{"team-a", 2}, {"team-b", 1}};
//   gpushare::QuotaTree q = gpushare::sim::tenant_quota_from_shares(nodes, tenants);
//   gpushare::sim::TenantReplayer r(nodes, pods, tenants, q);
//   gpushare::sim::TenantReplayResult res = r.run(gpushare::sim::sim_policy("FGD"), 42);
//   res.tenants[0].waiting_milli;   // GPU demand team-a could not get
// @endcode
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <queue>
#include <string>
#include <tuple>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/sim/replay.hpp"
#include "gpushare/solve/quota_admission.hpp"

namespace gpushare {
namespace sim {

/// @brief A tenant and its share of the pods (any positive weight).
struct TenantShare {
  std::string name;
  double weight = 1;
};

/// @brief Index of the tenant pod `pod_name` belongs to: FNV-1a of the name, mixed with the
/// seed by SplitMix64, read as a uniform number u in [0, 1); the first tenant whose cumulative
/// weight share exceeds u.
inline size_t tenant_of_pod(const std::string& pod_name, const std::vector<TenantShare>& tenants, std::uint64_t seed) {
  if (tenants.empty()) throw InvalidArgument("tenant replay: no tenants");
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : pod_name) h = (h ^ c) * 1099511628211ull;
  std::uint64_t z = h + seed * 0x9E3779B97F4A7C15ull + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const double u = double(z >> 11) * (1.0 / 9007199254740992.0);  // 53 bits
  double total = 0;
  for (const auto& t : tenants) total += t.weight;
  double cum = 0;
  for (size_t i = 0; i < tenants.size(); ++i) {
    cum += tenants[i].weight;
    if (u * total < cum) return i;
  }
  return tenants.size() - 1;
}

/// @brief How tenant_quota_from_shares builds the quota.
struct TenantQuotaOptions {
  bool any_model = false;   ///< one flavor "any" (all GPU models pooled) instead of one per model
  bool cohort = true;       ///< queues share a cohort "cluster" and may borrow unused quota
  std::optional<std::int64_t> borrowing_limit_milli;  ///< per queue and flavor; unset = unlimited
  double capacity_share = 1.0;  ///< part of each model's capacity handed out as nominal quota
};

/// @brief A quota tree with one queue per tenant: per GPU model present in `nodes` (most GPUs
/// first, ties by name), nominal = floor(model capacity in milli-GPU x capacity_share x weight /
/// total weight).
inline QuotaTree tenant_quota_from_shares(const std::vector<SimNode>& nodes, const std::vector<TenantShare>& tenants,
                                          const TenantQuotaOptions& opt = {}) {
  if (!opt.cohort && opt.borrowing_limit_milli)
    throw InvalidArgument("tenant quota: a borrowing limit needs the shared cohort (cohort = true)");
  if (opt.borrowing_limit_milli && *opt.borrowing_limit_milli < 0)
    throw InvalidArgument("tenant quota: borrowing_limit_milli < 0");
  if (!(opt.capacity_share >= 0) || !std::isfinite(opt.capacity_share))
    throw InvalidArgument("tenant quota: capacity_share must be a finite number >= 0");
  for (const auto& t : tenants)
    if (!(t.weight > 0) || !std::isfinite(t.weight))
      throw InvalidArgument("tenant quota: tenant '" + t.name + "' weight must be positive and finite");
  std::map<std::string, std::int64_t> cap;
  for (const auto& n : nodes)
    if (n.gpus > 0) cap[opt.any_model ? "any" : n.model] += std::int64_t(n.gpus) * 1000;
  std::vector<std::pair<std::string, std::int64_t>> models(cap.begin(), cap.end());
  std::stable_sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  double total = 0;
  for (const auto& t : tenants) total += t.weight;
  QuotaTree tree;
  for (const auto& t : tenants) {
    QueueSpec q;
    q.name = t.name;
    q.cohort = opt.cohort ? "cluster" : "";
    for (const auto& m : models) {
      const auto nominal = static_cast<std::int64_t>(std::floor(double(m.second) * opt.capacity_share * t.weight / total));
      q.flavors.push_back({m.first, {{"gpu", {nominal, opt.borrowing_limit_milli, std::nullopt}}}});
    }
    tree.add_queue(q);
  }
  tree.finalize();
  return tree;
}

/// @brief Settings of the tenant replay beyond ReplayOptions.
struct TenantReplayOptions {
  std::uint64_t assignment_seed = 0;          ///< seed of tenant_of_pod (fixed across replay seeds)
  std::string any_model_flavor = "any";  ///< the flavor name that stands for every GPU model
};

/// @brief One tenant's outcome.  admitted_milli + waiting_milli == submitted_milli.
struct TenantStats {
  std::string tenant;
  std::int64_t pods_submitted = 0;
  std::int64_t submitted_milli = 0;   ///< GPU demand submitted
  std::int64_t admitted_milli = 0;    ///< GPU demand admitted by the quota and placed
  std::int64_t waiting_milli = 0;     ///< GPU demand never admitted and placed (quota refused or no room)
  std::int64_t pods_placed = 0;       ///< admitted and placed (CPU-only pods: placed without quota)
  std::int64_t pods_failed = 0;       ///< the quota admitted a flavor but no node of it had room
  std::int64_t pods_waiting = 0;      ///< refused by the quota, still waiting at the end
  std::int64_t pods_retried = 0;      ///< placed after waiting (timed mode)
  std::int64_t pods_borrowing = 0;    ///< admitted while borrowing (usage above nominal afterwards)
  std::int64_t peak_borrowed_milli = 0;  ///< most GPU milli borrowed at once, summed over flavors
};

/// @brief One tenant's use of one flavor.
struct TenantFlavorStats {
  std::string tenant;
  std::string flavor;
  std::int64_t nominal_milli = 0;
  std::optional<std::int64_t> borrowing_limit_milli;
  std::int64_t pods_admitted = 0;
  std::int64_t admitted_milli = 0;    ///< GPU demand admitted on this flavor over the run
  std::int64_t peak_usage_milli = 0;  ///< most in use at once
};

/// @brief Outcome of one tenant replay.
struct TenantReplayResult {
  std::string policy;
  std::uint64_t seed = 0;
  std::vector<TenantStats> tenants;         ///< in the order given
  std::vector<TenantFlavorStats> flavors;   ///< tenant order, then the queue's flavor order
  std::int64_t pods_submitted = 0, pods_placed = 0, pods_failed = 0, pods_waiting = 0;
  std::int64_t allocated_milli = 0;              ///< GPU milli in use at the end
  std::vector<std::int64_t> node_used_milli;     ///< per node at the end, input node order
};

/// @brief Replays a trace with tenants through a quota; reusable across seeds and policies.
class TenantReplayer {
 public:
  TenantReplayer(std::vector<SimNode> nodes, std::vector<SimPod> pods, std::vector<TenantShare> tenants,
                 const QuotaTree& quota, ReplayOptions opt = {}, TenantReplayOptions topt = {})
      : tenants_(std::move(tenants)), topt_(std::move(topt)), base_(std::move(nodes), pods, opt) {
    check_tenants();
    // Pods in name order, as the Replayer keeps them; the tenant goes with the name.
    std::vector<size_t> order(pods.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pods[a].name < pods[b].name; });
    for (size_t i : order) tenant_of_item_.push_back(tenant_of_pod(pods[i].name, tenants_, topt_.assignment_seed));
    // The replay never evicts running pods: queue preemption settings are dropped.
    for (const auto& c : quota.cohort_specs()) quota_.add_cohort(c.name, c.parent, c.flavors);
    for (QueueSpec q : quota.queue_specs()) {
      q.preemption = PreemptionPolicy{};
      quota_.add_queue(q);
    }
    quota_.finalize();
    for (const auto& t : tenants_) {
      const QueueSpec& q = quota_.queue_spec(quota_.queue_node(t.name));  // NotFound names the tenant
      for (const auto& f : q.flavors)
        if (f.name != topt_.any_model_flavor && gpu_model_id(f.name) < 0)
          throw InvalidArgument("tenant replay: queue '" + q.name + "' flavor '" + f.name +
                                "' is neither a GPU model of the trace nor '" + topt_.any_model_flavor + "'");
    }
  }

  const Replayer& replayer() const { return base_; }
  /// @brief Tenant index of every pod, in pod-name order.
  const std::vector<size_t>& tenant_of_item() const { return tenant_of_item_; }

  /// @brief One replay of `policy` with `seed` (the same draws as Replayer::run).
  TenantReplayResult run(const SimPolicy& policy, std::uint64_t seed) const {
    Run st(*this, policy, seed);
    st.go();
    return st.finish();
  }

 private:
  using Item = Replayer::Item;
  using Event = Replayer::Event;
  enum class Status { pending, placed, failed, waiting };

  void check_tenants() const {
    if (tenants_.empty()) throw InvalidArgument("tenant replay: no tenants");
    for (size_t i = 0; i < tenants_.size(); ++i) {
      const auto& t = tenants_[i];
      if (t.name.empty()) throw InvalidArgument("tenant replay: tenant " + std::to_string(i) + " has an empty name");
      if (!(t.weight > 0) || !std::isfinite(t.weight))
        throw InvalidArgument("tenant replay: tenant '" + t.name + "' weight must be positive and finite");
      for (size_t j = 0; j < i; ++j)
        if (tenants_[j].name == t.name) throw InvalidArgument("tenant replay: duplicate tenant '" + t.name + "'");
    }
  }

  /// The mutable state of one run.
  struct Run {
    const TenantReplayer& tr;
    const Replayer& r;
    const SimPolicy& policy;
    GoRand rng;
    std::vector<size_t> seq;
    std::vector<std::uint32_t> prio;
    Replayer::RunState rs;
    QuotaState quota;
    TenantReplayResult res;
    std::vector<Status> status;
    std::vector<size_t> waiting;  // seq positions, arrival order
    using Dep = std::tuple<std::int64_t, int, size_t>;  // time, Event kind, seq position
    std::priority_queue<Dep, std::vector<Dep>, std::greater<Dep>> departures;
    std::map<std::pair<size_t, std::string>, size_t> flavor_row;

    Run(const TenantReplayer& t, const SimPolicy& p, std::uint64_t seed)
        : tr(t), r(t.base_), policy(p), rng(static_cast<std::int64_t>(seed)), seq(r.start_sequence(rng)),
          prio(r.start_priorities(rng)),
          rs(r, p, Engine::fast, seq.size()), quota(t.quota_), status(seq.size(), Status::pending) {
      res.policy = p.name;
      res.seed = seed;
      for (const auto& ts : tr.tenants_) {
        res.tenants.push_back(TenantStats{ts.name});
        for (const auto& f : quota.tree().queue_spec(quota.tree().queue_node(ts.name)).flavors) {
          TenantFlavorStats row;
          row.tenant = ts.name;
          row.flavor = f.name;
          auto g = f.resources.find("gpu");
          if (g != f.resources.end()) {
            row.nominal_milli = g->second.nominal;
            row.borrowing_limit_milli = g->second.borrowing_limit;
          }
          flavor_row[{res.tenants.size() - 1, f.name}] = res.flavors.size();
          res.flavors.push_back(row);
        }
      }
    }

    size_t tenant(size_t k) const { return tr.tenant_of_item_[seq[k]]; }

    /// Quota admission, then placement on the admitted model; the next admissible flavor when
    /// that model has no room.  Commits the quota only when placed.
    Status admit_and_place(size_t k, std::int64_t now) {
      const Item& it = r.pods_[seq[k]];
      const PodShape& s = r.shapes_[it.shape_id];
      if (s.num == 0) return rs.place(k, it, prio, rng) ? Status::placed : Status::failed;  // no GPU quota
      const size_t ti = tenant(k);
      QuotaWorkload w{std::to_string(k), tr.tenants_[ti].name, 0, "", {{"gpu", s.total_milli()}}, std::int64_t(k), now};
      std::vector<std::string> no_room;
      const std::string& any = tr.topt_.any_model_flavor;
      auto usable = [&](const std::string& f) {
        if (std::find(no_room.begin(), no_room.end(), f) != no_room.end()) return false;
        if (f == any) return true;
        const int id = gpu_model_id(f);
        return id >= 0 && s.accepts_model(id);
      };
      for (;;) {
        const QuotaDecision d = admit(quota, w, usable);
        if (!d.admit) return no_room.empty() ? Status::waiting : Status::failed;
        if (!rs.place(k, it, prio, rng, d.flavor == any ? -1 : gpu_model_id(d.flavor))) {
          no_room.push_back(d.flavor);
          continue;
        }
        commit(quota, w, d);
        record_admission(ti, d, s.total_milli());
        return Status::placed;
      }
    }

    void record_admission(size_t ti, const QuotaDecision& d, std::int64_t milli) {
      TenantStats& t = res.tenants[ti];
      if (d.borrows) t.pods_borrowing++;
      TenantFlavorStats& f = res.flavors[flavor_row.at({ti, d.flavor})];
      f.pods_admitted++;
      f.admitted_milli += milli;
      const QuotaTree& tree = quota.tree();
      const int q = tree.queue_node(t.tenant);
      std::int64_t borrowed = 0;
      for (const auto& fl : tree.queue_spec(q).flavors) {
        const int fr = tree.fr_index(fl.name, "gpu");
        if (fr < 0) continue;
        const std::int64_t use = tree.nodes()[q].usage[fr];
        borrowed += std::max<std::int64_t>(0, use - tree.nodes()[q].nominal[fr]);
        if (fl.name == d.flavor) f.peak_usage_milli = std::max(f.peak_usage_milli, use);
      }
      t.peak_borrowed_milli = std::max(t.peak_borrowed_milli, borrowed);
    }

    /// Departure of a placed pod `duration` after `now` (never for pods without a deletion time).
    void schedule_departure(size_t k, std::int64_t now) {
      const Item& it = r.pods_[seq[k]];
      if (it.remove < 0) return;
      const std::int64_t duration = std::max<std::int64_t>(0, it.remove - std::max<std::int64_t>(it.create, 0));
      departures.emplace(now + duration, duration == 0 ? Event::late_departure : Event::departure, k);
    }

    void arrive(size_t k, std::int64_t now) {
      const Item& it = r.pods_[seq[k]];
      const PodShape& s = r.shapes_[it.shape_id];
      TenantStats& t = res.tenants[tenant(k)];
      t.pods_submitted++;
      t.submitted_milli += s.total_milli();
      if (policy.learns_target) rs.learn(it.shape_id);
      status[k] = admit_and_place(k, now);
      if (status[k] == Status::placed && r.opt_.timed) schedule_departure(k, now);
      if (status[k] == Status::waiting) waiting.push_back(k);
    }

    /// Timed mode: after quota is released, waiting pods are tried again in arrival order; a
    /// tenant's turn ends at its first pod that still cannot be admitted and placed.
    void retry_waiting(std::int64_t now) {
      std::vector<bool> blocked(tr.tenants_.size(), false);
      size_t nblocked = 0;
      std::vector<size_t> still;
      for (size_t i = 0; i < waiting.size(); ++i) {
        const size_t k = waiting[i];
        const size_t ti = tenant(k);
        if (nblocked == blocked.size() || blocked[ti]) { still.push_back(k); continue; }
        if (admit_and_place(k, now) == Status::placed) {
          status[k] = Status::placed;
          res.tenants[ti].pods_retried++;
          schedule_departure(k, now);
        } else {
          still.push_back(k);
          blocked[ti] = true;
          ++nblocked;
        }
      }
      waiting.swap(still);
    }

    void depart(size_t k, std::int64_t now) {
      const Item& it = r.pods_[seq[k]];
      rs.depart(k, it);
      if (r.shapes_[it.shape_id].num == 0) return;
      quota.finish(std::to_string(k));
      if (!waiting.empty()) retry_waiting(now);
    }

    void go() {
      const std::vector<Event> events = r.make_events(seq);
      for (const Event& ev : events) {
        if (ev.kind != Event::arrival) continue;  // departures follow admission times instead
        // Departures before this arrival: earlier times, or the same time and kind departure.
        while (!departures.empty() && (std::get<0>(departures.top()) < ev.t ||
                                       (std::get<0>(departures.top()) == ev.t && std::get<1>(departures.top()) < Event::arrival)))
          pop_departure();
        arrive(ev.seq_pos, ev.t);
      }
      while (!departures.empty()) pop_departure();
    }

    void pop_departure() {
      const Dep d = departures.top();
      departures.pop();
      depart(std::get<2>(d), std::get<0>(d));
    }

    TenantReplayResult finish() {
      for (size_t k = 0; k < seq.size(); ++k) {
        const std::int64_t milli = r.shapes_[r.pods_[seq[k]].shape_id].total_milli();
        TenantStats& t = res.tenants[tenant(k)];
        if (status[k] == Status::placed) t.pods_placed++, t.admitted_milli += milli;
        else t.waiting_milli += milli;
        if (status[k] == Status::failed) t.pods_failed++;
        if (status[k] == Status::waiting) t.pods_waiting++;
      }
      for (const auto& t : res.tenants) {
        res.pods_submitted += t.pods_submitted;
        res.pods_placed += t.pods_placed;
        res.pods_failed += t.pods_failed;
        res.pods_waiting += t.pods_waiting;
      }
      res.allocated_milli = rs.st.used_gpu_milli();
      res.node_used_milli.resize(rs.st.size());
      for (size_t i = 0; i < rs.st.size(); ++i) res.node_used_milli[i] = rs.st.node(i).used_milli();
      return std::move(res);
    }
  };

  std::vector<TenantShare> tenants_;
  TenantReplayOptions topt_;
  Replayer base_;
  std::vector<size_t> tenant_of_item_;
  QuotaTree quota_;
};

}  // namespace sim
}  // namespace gpushare
