// gpushare/catalogue.hpp — the one policy catalogue: name, aliases, description and factories of
// every policy.  make_policy(), policy_names(), sim_policy(), Python's gs.policies(), the CLI's
// --policy help and gpushare-extender --policy all read this table.
//
// A row may have a live factory (a policy for schedule() on a Cluster and for the extender), a
// simulator policy (for sim::Replayer), or both.  Names are kebab-case; the old spellings are
// aliases ("FGD", "BestFit", "HostReservingFGD", ...).  Two rules were both called "best fit":
//   best-fit        the library's BestFit: the node whose chosen GPUs keep the least free capacity;
//   paper-best-fit  the FGD paper's BestFit baseline (alias "BestFit"): least CPU+GPU left after
//                   placing, min-max normalised over the feasible nodes (simulator only).
// Adding a policy: its header and one row in catalogue() (and its type in AnyPolicy if live).
//
// Layer: above solve/ and sim/ (it names policies of both); k8s/ and the programs use it.
//
// @code
//   gpushare::AnyPolicy p = gpushare::make_policy("best");        // HostReservingFGD, live
//   auto r = gpushare::schedule(cluster, req, p);
//   const gpushare::sim::SimPolicy& s = gpushare::sim::sim_policy("FGD");   // for a replay
// @endcode
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/modes/aliyun/policy.hpp"
#include "gpushare/modes/nvidia/policy.hpp"
#include "gpushare/modes/tencent/policy.hpp"
#include "gpushare/sim/live_policy.hpp"
#include "gpushare/sim/policies.hpp"
#include "gpushare/solve/node_policies.hpp"
#include "gpushare/solve/schedule.hpp"
#include "gpushare/solve/topology_score.hpp"

namespace gpushare {

/// @brief Any policy of the catalogue that decides on a live Cluster.
using AnyPolicy = std::variant<FirstFit, BestFit, BinPack, Spread, Random, sim::LivePolicy, TopologyAware<BestFit>,
                               modes::AliyunBinpack, modes::TencentAdmission, modes::NvidiaBestEffort>;

/// @brief What a factory may use besides the name.
struct PolicyOptions {
  std::uint64_t seed = 0;  ///< random choices (random)
  /// Known GPU topologies by node name (topology-aware, nvidia); null = none known.
  std::shared_ptr<const NodeTopologies> topologies;
};

/// @brief One row of the catalogue.
struct PolicyInfo {
  std::string name;                  ///< kebab-case, unique
  std::vector<std::string> aliases;  ///< other accepted spellings (old names)
  std::string description;
  /// Live factory; empty for simulator-only rows.
  std::function<AnyPolicy(const PolicyOptions&)> make;
  /// The simulator's policy, or null for live-only rows.
  const sim::SimPolicy* sim = nullptr;
  /// Conformance suites (../shared/data/conformance) that check this policy's decisions.
  std::vector<std::string> suites = {};
  bool live() const { return static_cast<bool>(make); }
};

namespace detail {
inline const sim::SimPolicy* sim_row(const char* label) {
  const sim::SimPolicy* p = sim::find_simulator_policy(label);
  if (!p) throw InvalidArgument(std::string("catalogue: no simulator policy labelled ") + label);
  return p;
}
inline std::function<AnyPolicy(const PolicyOptions&)> live_sim(const char* label, const char* name) {
  return [label, name](const PolicyOptions&) { return AnyPolicy(sim::LivePolicy(*sim_row(label), name)); };
}
}  // namespace detail

/// @brief Every policy, in a stable order (the library's own first, then the simulator's).
inline const std::vector<PolicyInfo>& catalogue() {
  static const std::vector<PolicyInfo> rows = [] {
    using detail::live_sim;
    using detail::sim_row;
    std::vector<PolicyInfo> r;
    r.push_back({"best-fit", {}, "the node whose chosen GPUs keep the least free capacity (milli, then MiB); "
                 "CPU-only requests by least free CPU, then host memory",
                 [](const PolicyOptions&) { return AnyPolicy(BestFit{}); }, nullptr});
    r.push_back({"binpack", {}, "the most allocated node after placement (GPU share, then CPU/memory share)",
                 [](const PolicyOptions&) { return AnyPolicy(BinPack{}); }, nullptr});
    r.push_back({"spread", {}, "the least allocated node after placement; GPUs by worst fit",
                 [](const PolicyOptions&) { return AnyPolicy(Spread{}); }, nullptr});
    r.push_back({"first-fit", {}, "the lowest-indexed node that fits; GPUs by first fit",
                 [](const PolicyOptions&) { return AnyPolicy(FirstFit{}); }, nullptr});
    r.push_back({"random", {"Random"}, "a uniformly random feasible node, reproducible from the seed (the "
                 "simulator draws Go's math/rand stream, sharing pods on a random GPU)",
                 [](const PolicyOptions& o) { return AnyPolicy(Random{o.seed}); }, sim_row("Random")});
    r.push_back({"dot-prod", {"DotProd"}, "the FGD paper's DotProd: smallest alignment of node free (CPU, GPU) "
                 "and pod demand", live_sim("DotProd", "dot-prod"), sim_row("DotProd")});
    r.push_back({"gpu-clustering", {"GpuClustering"}, "the FGD paper's GpuClustering: nodes already running "
                 "GPU pods of the same kind first (simulator only: needs per-node pod kinds)",
                 nullptr, sim_row("GpuClustering")});
    r.push_back({"gpu-packing", {"GpuPacking"}, "the FGD paper's GpuPacking: partly used GPUs, then partly used "
                 "nodes, then idle nodes", live_sim("GpuPacking", "gpu-packing"), sim_row("GpuPacking")});
    r.push_back({"paper-best-fit", {"BestFit"}, "the FGD paper's BestFit baseline: least CPU+GPU left after "
                 "placing, min-max normalised over the feasible nodes (simulator only; not best-fit)",
                 nullptr, sim_row("BestFit")});
    r.push_back({"fgd", {"FGD"}, "fragmentation gradient descent (Weng et al., ATC'23); live, the target "
                 "workload is learned online from the pods seen", live_sim("FGD", "fgd"), sim_row("FGD")});
    r.push_back({"strand-aware-fgd", {"StrandAwareFGD"}, "FGD on the learned workload, CPU-stranded GPU milli "
                 "counted as fragmentation", live_sim("StrandAwareFGD", "strand-aware-fgd"), sim_row("StrandAwareFGD")});
    r.push_back({"best", {"HostReservingFGD", "host-reserving-fgd"}, "the recommended policy (HostReservingFGD): "
                 "strand-aware FGD that keeps the last hosts of scarce multi-GPU shapes free",
                 live_sim("HostReservingFGD", "best"), sim_row("HostReservingFGD")});
    r.push_back({"topology-aware", {"TopologyAware"}, "best-fit, and for a multi-GPU request on a node whose "
                 "topology is known the best-connected GPU set (tighter sets win)",
                 [](const PolicyOptions& o) { return AnyPolicy(TopologyAware<BestFit>{{}, o.topologies}); }, nullptr});
    r.push_back({"aliyun-binpack", {"aliyun"}, "as the Aliyun gpushare-scheduler-extender: one GPU per pod, the "
                 "GPU (and node) with the least free memory that fits",
                 [](const PolicyOptions&) { return AnyPolicy(modes::AliyunBinpack{}); }, nullptr, {"aliyun-gpushare"}});
    r.push_back({"tencent", {"gpu-admission", "tencent-gpu-admission"}, "as tkestack gpu-admission: the node "
                 "with the least free cores, then memory; GPUs by least free cores that fit",
                 [](const PolicyOptions&) { return AnyPolicy(modes::TencentAdmission{}); }, nullptr,
                 {"tencent-gpu-admission"}});
    r.push_back({"nvidia", {"gpuallocator-besteffort"}, "whole-GPU sets as NVIDIA go-gpuallocator BestEffort "
                 "chooses them on the node's topology (lowest free GPUs without one)",
                 [](const PolicyOptions& o) { return AnyPolicy(modes::NvidiaBestEffort{o.topologies}); }, nullptr,
                 {"gpuallocator-besteffort"}});
    return r;
  }();
  return rows;
}

/// @brief The row called `name` (or one of its aliases), or null.
inline const PolicyInfo* find_policy(const std::string& name) {
  for (const auto& row : catalogue()) {
    if (row.name == name) return &row;
    for (const auto& a : row.aliases)
      if (a == name) return &row;
  }
  return nullptr;
}

/// @brief Names of the rows with a live factory (what make_policy and the extender accept).
inline std::vector<std::string> policy_names() {
  std::vector<std::string> out;
  for (const auto& row : catalogue())
    if (row.live()) out.push_back(row.name);
  return out;
}

namespace detail {
inline std::string known_names(bool live) {
  std::string known;
  for (const auto& row : catalogue())
    if (live ? row.live() : row.sim != nullptr) known += (known.empty() ? "" : ", ") + row.name;
  return known;
}
}  // namespace detail

/// @brief The live policy called `name` (or an alias); `seed` feeds random choices.
/// @throws InvalidArgument naming the policy and listing the known names.
inline AnyPolicy make_policy(const std::string& name, const PolicyOptions& options) {
  const PolicyInfo* row = find_policy(name);
  if (!row) throw InvalidArgument("policy: unknown name '" + name + "' (known: " + detail::known_names(true) + ")");
  if (!row->live())
    throw InvalidArgument("policy: '" + name + "' (" + row->name + ") runs in the simulator only (live: " +
                          detail::known_names(true) + ")");
  return row->make(options);
}

/// @brief make_policy with only a seed (no topologies known).
inline AnyPolicy make_policy(const std::string& name, std::uint64_t seed = 0) {
  PolicyOptions o;
  o.seed = seed;
  return make_policy(name, o);
}

/// @brief `schedule` for a policy chosen at run time.
inline ScheduleResult schedule(const Cluster& cluster, const Request& request, AnyPolicy& policy,
                               const ScheduleOptions& options = {}) {
  return std::visit([&](auto& p) { return schedule(cluster, request, p, options); }, policy);
}

/// @brief Let a learning policy (fgd, best, ...) learn from a pod the service has seen; other
/// policies ignore it.
inline void observe(AnyPolicy& policy, const Cluster& cluster, const Request& request) {
  if (auto* p = std::get_if<sim::LivePolicy>(&policy)) p->observe(cluster, request);
}

namespace sim {

/// @brief The simulator policy called `name` in the catalogue (or an alias: "fgd" and "FGD"
/// alike).  Its SimPolicy::name is the simulator's label ("FGD", "HostReservingFGD", ...).
/// @throws NotFound listing the known names.
inline const SimPolicy& sim_policy(const std::string& name) {
  const PolicyInfo* row = find_policy(name);
  if (!row || !row->sim)
    throw NotFound("sim policy '" + name + "' is not in the catalogue (known: " + gpushare::detail::known_names(false) +
                   "; the old labels Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD, StrandAwareFGD, "
                   "HostReservingFGD work too)");
  return *row->sim;
}

/// @brief The simulator's policy labels, the paper's six first in the paper's order
/// (Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD, StrandAwareFGD, HostReservingFGD).
inline std::vector<std::string> sim_policy_names() {
  std::vector<std::string> out;
  for (const auto& p : simulator_policies()) out.push_back(p.name);
  return out;
}

}  // namespace sim
}  // namespace gpushare
