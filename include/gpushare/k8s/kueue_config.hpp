// gpushare/k8s/kueue_config.hpp — Kueue ClusterQueue / Cohort / ResourceFlavor objects (JSON)
// to the quota model (QueueSpec, QuotaTree).  Needs nlohmann_json.
//
// Reads what `kubectl get clusterqueues,cohorts,resourceflavors -o json` prints, or the JSON form
// of the YAML one writes by hand: a single object, a JSON array of objects, or a `kind: List`
// (or `ClusterQueueList`, ...) with `items`.  Field names are Kueue's API
// (kueue.x-k8s.io/v1beta1; Cohort also v1alpha1, whose parent field is `parent` instead of
// `parentName`).  The load is all or nothing: every object is checked before the model is
// built, and any problem throws ParseError (malformed JSON, unknown field, wrong type,
// unreadable quantity) or InvalidArgument (a value Kueue's webhook would reject, duplicates,
// cohort cycles), naming the object (`items[2] (ClusterQueue team-a)`), the JSON path and the
// field.  Units and the fields that are read but ignored are listed in docs/QUOTA.md.
//
// @code
//   gpushare::k8s::KueueConfig cfg = gpushare::k8s::load_kueue_config_file("examples/kueue/cluster_queues.json");
//   gpushare::QuotaState state(cfg.tree());
//   gpushare::QuotaWorkload w{"job", "team-a", 0, "", {{"gpu", 2000}}, 0, 0};   // 2 GPUs, milli-GPU
//   gpushare::QuotaDecision d = gpushare::admit(state, w);
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/model/errors.hpp"
#include "gpushare/solve/quota_model.hpp"
#include "gpushare/k8s/quantity.hpp"

namespace gpushare {
namespace k8s {

/// @brief A Cohort object: its parent ("" = root) and the quota it owns itself.
using KueueCohort = CohortSpec;

/// @brief How resource names and quantities map to the quota model.
struct KueueConfigOptions {
  /// Resource names stored as "gpu" in milli-GPU (the unit schedule_with_quota and the
  /// simulator use).  Every other resource keeps its name; see docs/QUOTA.md for units.
  std::vector<std::string> gpu_resources = {"nvidia.com/gpu", "gpu"};
};

/// @brief The loaded objects, in file order.  `tree()` builds the quota tree.
struct KueueConfig {
  std::vector<std::string> resource_flavors;  ///< ResourceFlavor names
  std::vector<KueueCohort> cohorts;           ///< Cohort objects (implicit cohorts are not listed)
  std::vector<QueueSpec> queues;              ///< ClusterQueues

  /// @brief The finalized quota tree.  Cohorts that are only named (by a ClusterQueue's cohort
  /// or a Cohort's parent) become roots without quota, as in Kueue.
  QuotaTree tree() const {
    QuotaTree t;
    std::set<std::string> known;
    for (const auto& c : cohorts) known.insert(c.name);
    for (const auto& c : cohorts) t.add_cohort(c.name, c.parent, c.flavors);
    for (const auto& c : cohorts)
      if (!c.parent.empty() && known.insert(c.parent).second) t.add_cohort(c.parent, "");
    for (const auto& q : queues) t.add_queue(q);
    t.finalize();
    return t;
  }
};

/// @brief Largest quantity accepted, in stored units (milli-GPU, milli-CPU, MiB, ...).  Keeps
/// every sum the quota arithmetic forms far from 64-bit overflow.
constexpr std::int64_t kKueueMaxQuantity = 1000000000000000;  // 10^15

namespace detail {

/// Where an error happened: the source, the object, and the JSON path inside it.
struct KueueCtx {
  std::string object;  // "cluster_queues.json items[2] (ClusterQueue team-a)"
  [[noreturn]] void parse_error(const std::string& path, const std::string& msg) const {
    throw ParseError(object + ": " + path + ": " + msg);
  }
  [[noreturn]] void invalid(const std::string& path, const std::string& msg) const {
    throw InvalidArgument(object + ": " + path + ": " + msg);
  }
};

inline std::string kueue_join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

/// Fails on any key of `obj` (an object) not in `allowed`; fails if `obj` is not an object.
inline void kueue_fields(const KueueCtx& ctx, const nlohmann::json& obj, const std::string& path,
                         const std::vector<std::string>& allowed) {
  if (!obj.is_object()) ctx.parse_error(path, std::string("must be an object, got ") + obj.type_name());
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end())
      ctx.parse_error(path + (path.empty() ? "" : ".") + it.key(),
                      "unknown field '" + it.key() + "' (known here: " + kueue_join(allowed) + ")");
}

inline std::string kueue_string(const KueueCtx& ctx, const nlohmann::json& v, const std::string& path) {
  if (!v.is_string()) ctx.parse_error(path, std::string("must be a string, got ") + v.type_name());
  return v.get<std::string>();
}

inline std::string kueue_enum(const KueueCtx& ctx, const nlohmann::json& obj, const char* key, const std::string& path,
                              const std::vector<std::string>& values, const std::string& dflt) {
  if (!obj.contains(key)) return dflt;
  const std::string p = path + "." + key;
  const std::string v = kueue_string(ctx, obj.at(key), p);
  if (std::find(values.begin(), values.end(), v) == values.end())
    ctx.invalid(p, "unsupported value '" + v + "' (supported: " + kueue_join(values) + ")");
  return v;
}

inline void kueue_require_type(const KueueCtx& ctx, const nlohmann::json& obj, const char* key,
                               const std::string& path, bool want_array) {
  if (!obj.contains(key)) return;
  const auto& v = obj.at(key);
  if (!v.is_null() && (want_array ? !v.is_array() : !v.is_object()))
    ctx.parse_error(path + "." + key, std::string("must be ") + (want_array ? "an array" : "an object") + ", got " + v.type_name());
}

/// The stored name and unit of a resource (docs/QUOTA.md, "Units").
inline std::string kueue_stored_name(const std::string& r, const KueueConfigOptions& opt) {
  return std::find(opt.gpu_resources.begin(), opt.gpu_resources.end(), r) != opt.gpu_resources.end() ? "gpu" : r;
}

/// A quantity in stored units: milli for GPU and CPU, MiB for memory and ephemeral storage,
/// else the integer value; rounded up like Kubernetes.
inline std::int64_t kueue_quantity(const KueueCtx& ctx, const nlohmann::json& v, const std::string& path,
                                   const std::string& resource, const KueueConfigOptions& opt) {
  Quantity q;
  const std::string what = ctx.object + ": " + path;
  if (v.is_string()) q = parse_quantity(v.get<std::string>(), what);
  else if (v.is_number()) q = parse_quantity(v.dump(), what);  // unquoted YAML numbers, as Kubernetes reads them
  else ctx.parse_error(path, std::string("quantity must be a string or number, got ") + v.type_name());
  if (q.negative()) ctx.invalid(path, "must be non-negative, got " + (v.is_string() ? v.get<std::string>() : v.dump()));
  const std::string stored = kueue_stored_name(resource, opt);
  i128 out;
  if (stored == "gpu" || stored == "cpu") out = Quantity::ceil_div(q.nano, 1000000);
  else if (stored == "memory" || stored == "ephemeral-storage") out = Quantity::ceil_div(q.nano, i128(1000000000) << 20);
  else out = Quantity::ceil_div(q.nano, 1000000000);
  if (out > kKueueMaxQuantity)
    ctx.invalid(path, "quantity " + (v.is_string() ? v.get<std::string>() : v.dump()) + " is above the supported maximum (10^15 " +
                          (stored == "gpu" ? "milli-GPU" : stored == "cpu" ? "milli-CPU" : "units") + ")");
  return static_cast<std::int64_t>(out);
}

/// spec.resourceGroups of a ClusterQueue or Cohort, checked as Kueue's webhook does.
inline std::vector<FlavorQuota> kueue_resource_groups(const KueueCtx& ctx, const nlohmann::json& spec, bool has_parent,
                                                      bool is_cohort, const KueueConfigOptions& opt) {
  std::vector<FlavorQuota> out;
  if (!spec.contains("resourceGroups") || spec.at("resourceGroups").is_null()) return out;
  const auto& groups = spec.at("resourceGroups");
  if (!groups.is_array()) ctx.parse_error("spec.resourceGroups", std::string("must be an array, got ") + groups.type_name());
  std::map<std::string, std::string> resource_seen, flavor_seen, stored_seen;  // name -> path
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const std::string gp = "spec.resourceGroups[" + std::to_string(gi) + "]";
    const auto& g = groups[gi];
    kueue_fields(ctx, g, gp, {"coveredResources", "flavors"});
    if (!g.contains("coveredResources")) ctx.parse_error(gp, "missing field 'coveredResources'");
    if (!g.contains("flavors")) ctx.parse_error(gp, "missing field 'flavors'");
    const auto& cov = g.at("coveredResources");
    if (!cov.is_array() || cov.empty()) ctx.parse_error(gp + ".coveredResources", "must be a non-empty array of resource names");
    std::vector<std::string> covered;
    for (std::size_t i = 0; i < cov.size(); ++i) {
      const std::string p = gp + ".coveredResources[" + std::to_string(i) + "]";
      const std::string r = kueue_string(ctx, cov[i], p);
      if (r.empty()) ctx.invalid(p, "resource name is empty");
      auto seen = resource_seen.emplace(r, p);
      if (!seen.second) ctx.invalid(p, "resource '" + r + "' is already covered at " + seen.first->second);
      auto st = stored_seen.emplace(kueue_stored_name(r, opt), r);
      if (!st.second)
        ctx.invalid(p, "resources '" + st.first->second + "' and '" + r + "' are both stored as '" + st.first->first + "'");
      covered.push_back(r);
    }
    const auto& fls = g.at("flavors");
    if (!fls.is_array() || fls.empty()) ctx.parse_error(gp + ".flavors", "must be a non-empty array");
    for (std::size_t fi = 0; fi < fls.size(); ++fi) {
      const std::string fp = gp + ".flavors[" + std::to_string(fi) + "]";
      const auto& f = fls[fi];
      kueue_fields(ctx, f, fp, {"name", "resources"});
      if (!f.contains("name")) ctx.parse_error(fp, "missing field 'name'");
      FlavorQuota fq;
      fq.name = kueue_string(ctx, f.at("name"), fp + ".name");
      if (fq.name.empty()) ctx.invalid(fp + ".name", "flavor name is empty");
      auto seen = flavor_seen.emplace(fq.name, fp);
      if (!seen.second) ctx.invalid(fp + ".name", "flavor '" + fq.name + "' is already listed at " + seen.first->second);
      if (!f.contains("resources")) ctx.parse_error(fp, "missing field 'resources'");
      const auto& rs = f.at("resources");
      if (!rs.is_array()) ctx.parse_error(fp + ".resources", std::string("must be an array, got ") + rs.type_name());
      if (rs.size() != covered.size())
        ctx.invalid(fp + ".resources", "lists " + std::to_string(rs.size()) + " resources but coveredResources has " +
                                           std::to_string(covered.size()) + " (" + kueue_join(covered) + ")");
      for (std::size_t ri = 0; ri < rs.size(); ++ri) {
        const std::string rp = fp + ".resources[" + std::to_string(ri) + "]";
        const auto& r = rs[ri];
        kueue_fields(ctx, r, rp, {"name", "nominalQuota", "borrowingLimit", "lendingLimit"});
        if (!r.contains("name")) ctx.parse_error(rp, "missing field 'name'");
        const std::string name = kueue_string(ctx, r.at("name"), rp + ".name");
        if (name != covered[ri])
          ctx.invalid(rp + ".name", "'" + name + "' must match coveredResources[" + std::to_string(ri) + "] '" + covered[ri] + "'");
        if (!r.contains("nominalQuota")) ctx.parse_error(rp, "missing field 'nominalQuota'");
        ResourceQuota q;
        q.nominal = kueue_quantity(ctx, r.at("nominalQuota"), rp + ".nominalQuota", name, opt);
        const char* parent_word = is_cohort ? "spec.parentName" : "spec.cohort";
        for (const char* key : {"borrowingLimit", "lendingLimit"}) {
          if (!r.contains(key) || r.at(key).is_null()) continue;
          const std::string lp = rp + "." + key;
          const std::int64_t v = kueue_quantity(ctx, r.at(key), lp, name, opt);
          if (!has_parent) ctx.invalid(lp, std::string("must not be set when ") + parent_word + " is empty");
          if (key[0] == 'b') q.borrowing_limit = v;
          else q.lending_limit = v;
        }
        // Kueue checks lendingLimit <= nominalQuota for ClusterQueues only: a Cohort lends its subtree.
        if (!is_cohort && q.lending_limit && *q.lending_limit > q.nominal)
          ctx.invalid(rp + ".lendingLimit", "lendingLimit (" + std::to_string(*q.lending_limit) +
                                                ") must not exceed nominalQuota (" + std::to_string(q.nominal) + ")");
        fq.resources[kueue_stored_name(name, opt)] = q;
      }
      out.push_back(std::move(fq));
    }
  }
  return out;
}

inline PreemptionPolicy kueue_preemption(const KueueCtx& ctx, const nlohmann::json& p) {
  const std::string path = "spec.preemption";
  kueue_fields(ctx, p, path, {"withinClusterQueue", "reclaimWithinCohort", "borrowWithinCohort"});
  PreemptionPolicy out;
  const std::string w =
      kueue_enum(ctx, p, "withinClusterQueue", path, {"Never", "LowerPriority", "LowerOrNewerEqualPriority"}, "Never");
  out.within_queue = w == "LowerPriority"               ? WithinQueuePolicy::lower_priority
                     : w == "LowerOrNewerEqualPriority" ? WithinQueuePolicy::lower_or_newer_equal_priority
                                                        : WithinQueuePolicy::never;
  const std::string r = kueue_enum(ctx, p, "reclaimWithinCohort", path, {"Never", "LowerPriority", "Any"}, "Never");
  out.reclaim_within_cohort = r == "LowerPriority" ? ReclaimPolicy::lower_priority
                              : r == "Any"         ? ReclaimPolicy::any
                                                   : ReclaimPolicy::never;
  if (p.contains("borrowWithinCohort") && !p.at("borrowWithinCohort").is_null()) {
    const std::string bp = path + ".borrowWithinCohort";
    const auto& b = p.at("borrowWithinCohort");
    kueue_fields(ctx, b, bp, {"policy", "maxPriorityThreshold"});
    out.borrow_within_cohort = kueue_enum(ctx, b, "policy", bp, {"Never", "LowerPriority"}, "Never") == "LowerPriority";
    if (b.contains("maxPriorityThreshold") && !b.at("maxPriorityThreshold").is_null()) {
      const auto& t = b.at("maxPriorityThreshold");
      if (!t.is_number_integer() || t.get<long long>() < INT32_MIN || t.get<long long>() > INT32_MAX ||
          (t.is_number_unsigned() && t.get<unsigned long long>() > INT32_MAX))
        ctx.parse_error(bp + ".maxPriorityThreshold", "must be a 32-bit integer, got " + t.dump());
      out.max_priority_threshold = static_cast<int>(t.get<long long>());
    }
    // As Kueue's webhook: borrowing preemption needs reclaim preemption.
    if (out.borrow_within_cohort && out.reclaim_within_cohort == ReclaimPolicy::never)
      ctx.invalid(bp + ".policy", "LowerPriority requires spec.preemption.reclaimWithinCohort other than Never");
  }
  return out;
}

inline FlavorFungibility kueue_fungibility(const KueueCtx& ctx, const nlohmann::json& f) {
  const std::string path = "spec.flavorFungibility";
  kueue_fields(ctx, f, path, {"whenCanBorrow", "whenCanPreempt", "preference"});
  FlavorFungibility out;
  // Borrow and Preempt are the deprecated spellings of MayStopSearch.
  const std::string b = kueue_enum(ctx, f, "whenCanBorrow", path, {"MayStopSearch", "Borrow", "TryNextFlavor"}, "MayStopSearch");
  const std::string p =
      kueue_enum(ctx, f, "whenCanPreempt", path, {"MayStopSearch", "Preempt", "TryNextFlavor"}, "TryNextFlavor");
  out.stop_when_can_borrow = b != "TryNextFlavor";
  out.stop_when_can_preempt = p != "TryNextFlavor";
  if (f.contains("preference") && !f.at("preference").is_null()) {
    const std::string pref =
        kueue_enum(ctx, f, "preference", path, {"BorrowingOverPreemption", "PreemptionOverBorrowing"}, "");
    if (b != "TryNextFlavor" || p != "TryNextFlavor")
      ctx.invalid(path + ".preference", "'" + pref + "' requires whenCanBorrow and whenCanPreempt to be TryNextFlavor");
    out.preemption_over_borrowing = pref == "PreemptionOverBorrowing";
  }
  return out;
}

/// metadata.name, checking metadata's fields (ObjectMeta; all but name are ignored).
inline std::string kueue_name(KueueCtx& ctx, const nlohmann::json& obj) {
  if (!obj.contains("metadata")) ctx.parse_error("metadata", "missing (metadata.name is required)");
  const auto& md = obj.at("metadata");
  kueue_fields(ctx, md, "metadata",
               {"name", "namespace", "generateName", "labels", "annotations", "uid", "resourceVersion", "generation",
                "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers",
                "ownerReferences", "managedFields", "selfLink"});
  if (!md.contains("name")) ctx.parse_error("metadata", "missing field 'name'");
  const std::string name = kueue_string(ctx, md.at("name"), "metadata.name");
  if (name.empty()) ctx.invalid("metadata.name", "is empty");
  return name;
}

inline QueueSpec kueue_cluster_queue(KueueCtx& ctx, const nlohmann::json& obj, const KueueConfigOptions& opt) {
  QueueSpec q;
  q.name = kueue_name(ctx, obj);
  ctx.object += " (ClusterQueue " + q.name + ")";
  if (!obj.contains("spec")) return q;
  const auto& spec = obj.at("spec");
  kueue_fields(ctx, spec, "spec",
               {"resourceGroups", "cohort", "queueingStrategy", "namespaceSelector", "flavorFungibility", "preemption",
                "admissionChecks", "admissionChecksStrategy", "stopPolicy", "fairSharing", "admissionScope"});
  if (spec.contains("cohort") && !spec.at("cohort").is_null()) q.cohort = kueue_string(ctx, spec.at("cohort"), "spec.cohort");
  // Read but ignored (docs/QUOTA.md): ordering, namespace selection, admission checks, fair
  // sharing weights.  Only their type is checked.
  kueue_enum(ctx, spec, "queueingStrategy", "spec", {"BestEffortFIFO", "StrictFIFO"}, "BestEffortFIFO");
  for (const char* key : {"namespaceSelector", "admissionChecksStrategy", "fairSharing", "admissionScope"})
    kueue_require_type(ctx, spec, key, "spec", false);
  kueue_require_type(ctx, spec, "admissionChecks", "spec", true);
  const std::string stop = kueue_enum(ctx, spec, "stopPolicy", "spec", {"None", "Hold", "HoldAndDrain"}, "None");
  if (stop != "None") ctx.invalid("spec.stopPolicy", "'" + stop + "' (a stopped queue admits nothing) is not supported");
  q.flavors = kueue_resource_groups(ctx, spec, !q.cohort.empty(), false, opt);
  if (spec.contains("preemption") && !spec.at("preemption").is_null()) q.preemption = kueue_preemption(ctx, spec.at("preemption"));
  if (spec.contains("flavorFungibility") && !spec.at("flavorFungibility").is_null())
    q.fungibility = kueue_fungibility(ctx, spec.at("flavorFungibility"));
  return q;
}

inline KueueCohort kueue_cohort(KueueCtx& ctx, const nlohmann::json& obj, bool alpha, const KueueConfigOptions& opt) {
  KueueCohort c;
  c.name = kueue_name(ctx, obj);
  ctx.object += " (Cohort " + c.name + ")";
  if (!obj.contains("spec")) return c;
  const auto& spec = obj.at("spec");
  const char* parent_key = alpha ? "parent" : "parentName";  // v1alpha1 called it parent
  kueue_fields(ctx, spec, "spec", {parent_key, "resourceGroups", "fairSharing"});
  if (spec.contains(parent_key) && !spec.at(parent_key).is_null())
    c.parent = kueue_string(ctx, spec.at(parent_key), std::string("spec.") + parent_key);
  if (c.parent == c.name) ctx.invalid(std::string("spec.") + parent_key, "a cohort cannot be its own parent");
  kueue_require_type(ctx, spec, "fairSharing", "spec", false);
  c.flavors = kueue_resource_groups(ctx, spec, !c.parent.empty(), true, opt);
  return c;
}

inline void kueue_resource_flavor(KueueCtx& ctx, const nlohmann::json& obj, KueueConfig& out) {
  const std::string name = kueue_name(ctx, obj);
  ctx.object += " (ResourceFlavor " + name + ")";
  if (obj.contains("spec"))  // node labels, taints, tolerations and topology do not affect quota
    kueue_fields(ctx, obj.at("spec"), "spec", {"nodeLabels", "nodeTaints", "tolerations", "topologyName"});
  out.resource_flavors.push_back(name);
}

/// One object of any supported kind into `out`.
inline void kueue_object(const std::string& where, const nlohmann::json& obj, KueueConfig& out,
                         const KueueConfigOptions& opt) {
  KueueCtx ctx{where};
  kueue_fields(ctx, obj, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  if (!obj.contains("kind")) ctx.parse_error("kind", "missing");
  if (!obj.contains("apiVersion")) ctx.parse_error("apiVersion", "missing");
  const std::string kind = kueue_string(ctx, obj.at("kind"), "kind");
  const std::string api = kueue_string(ctx, obj.at("apiVersion"), "apiVersion");
  const std::string beta = "kueue.x-k8s.io/v1beta1", alpha = "kueue.x-k8s.io/v1alpha1";
  if (kind != "ClusterQueue" && kind != "Cohort" && kind != "ResourceFlavor")
    ctx.invalid("kind", "unsupported kind '" + kind + "' (supported: ClusterQueue, Cohort, ResourceFlavor, List)");
  if (api != beta && !(kind == "Cohort" && api == alpha))
    ctx.invalid("apiVersion", "unsupported apiVersion '" + api + "' for " + kind + " (supported: " + beta +
                                  (kind == "Cohort" ? ", " + alpha : std::string()) + ")");
  if (obj.contains("spec") && !obj.at("spec").is_object()) ctx.parse_error("spec", std::string("must be an object, got ") + obj.at("spec").type_name());
  if (kind == "ClusterQueue") out.queues.push_back(kueue_cluster_queue(ctx, obj, opt));
  else if (kind == "Cohort") out.cohorts.push_back(kueue_cohort(ctx, obj, api == alpha, opt));
  else kueue_resource_flavor(ctx, obj, out);
}

/// Checks across objects: duplicate names, flavor references, cohort cycles.
inline void kueue_cross_checks(const std::string& source, const KueueConfig& cfg, const std::vector<std::string>& where) {
  // where[i] names object i in order: resource flavors, cohorts, queues as collected
  std::map<std::string, std::size_t> seen;
  auto dup = [&](const std::string& kind, const std::string& name, std::size_t i) {
    auto r = seen.emplace(kind + "/" + name, i);
    if (!r.second)
      throw InvalidArgument(where[i] + ": metadata.name: duplicate " + kind + " '" + name + "' (also " + where[r.first->second] + ")");
  };
  std::size_t i = 0;
  for (const auto& f : cfg.resource_flavors) dup("ResourceFlavor", f, i++);
  for (const auto& c : cfg.cohorts) dup("Cohort", c.name, i++);
  for (const auto& q : cfg.queues) dup("ClusterQueue", q.name, i++);
  if (!cfg.resource_flavors.empty()) {  // with ResourceFlavors present, every reference must resolve
    const std::set<std::string> known(cfg.resource_flavors.begin(), cfg.resource_flavors.end());
    auto check = [&](const std::vector<FlavorQuota>& fl, std::size_t idx) {
      for (const auto& f : fl)
        if (!known.count(f.name))
          throw InvalidArgument(where[idx] + ": spec.resourceGroups: flavor '" + f.name +
                                "' names no ResourceFlavor in " + source + " (defined: " + kueue_join(cfg.resource_flavors) + ")");
    };
    std::size_t k = cfg.resource_flavors.size();
    for (const auto& c : cfg.cohorts) check(c.flavors, k++);
    for (const auto& q : cfg.queues) check(q.flavors, k++);
  }
  std::map<std::string, std::size_t> cohort_at;
  for (std::size_t c = 0; c < cfg.cohorts.size(); ++c) cohort_at[cfg.cohorts[c].name] = c;
  for (std::size_t c = 0; c < cfg.cohorts.size(); ++c) {
    std::vector<std::string> chain{cfg.cohorts[c].name};
    for (std::string p = cfg.cohorts[c].parent; !p.empty();) {
      if (std::find(chain.begin(), chain.end(), p) != chain.end()) {
        chain.push_back(p);
        std::string s;
        for (const auto& x : chain) s += (s.empty() ? "" : " -> ") + x;
        throw InvalidArgument(where[cfg.resource_flavors.size() + c] + ": spec.parentName: cohort cycle " + s);
      }
      chain.push_back(p);
      auto it = cohort_at.find(p);
      p = it == cohort_at.end() ? "" : cfg.cohorts[it->second].parent;
    }
  }
}

}  // namespace detail

/// @brief Loads Kueue objects from parsed JSON: one object, an array of objects, or a List.
/// @param doc the JSON document
/// @param source names the input in error messages (a file name, or "kueue config")
/// @param opt resource name mapping
/// @return the objects and their quota tree; throws ParseError / InvalidArgument, loads nothing
///         on error
/// @code
///   auto cfg = gpushare::k8s::load_kueue_config(nlohmann::json::parse(text), "cq.json");
///   gpushare::QuotaState st(cfg.tree());
/// @endcode
inline KueueConfig load_kueue_config(const nlohmann::json& doc, const std::string& source = "kueue config",
                                     const KueueConfigOptions& opt = {}) {
  std::vector<std::pair<std::string, const nlohmann::json*>> objects;
  if (doc.is_array()) {
    for (std::size_t i = 0; i < doc.size(); ++i) objects.emplace_back(source + " [" + std::to_string(i) + "]", &doc[i]);
  } else if (doc.is_object() && doc.contains("items")) {
    const detail::KueueCtx ctx{source};
    detail::kueue_fields(ctx, doc, "", {"apiVersion", "kind", "metadata", "items"});
    const std::string kind = doc.contains("kind") ? detail::kueue_string(ctx, doc.at("kind"), "kind") : "List";
    if (kind != "List" && kind != "ClusterQueueList" && kind != "CohortList" && kind != "ResourceFlavorList")
      ctx.invalid("kind", "a document with items must be a List, ClusterQueueList, CohortList or ResourceFlavorList, got '" + kind + "'");
    const auto& items = doc.at("items");
    if (!items.is_array()) ctx.parse_error("items", std::string("must be an array, got ") + items.type_name());
    for (std::size_t i = 0; i < items.size(); ++i) objects.emplace_back(source + " items[" + std::to_string(i) + "]", &items[i]);
  } else if (doc.is_object()) {
    objects.emplace_back(source, &doc);
  } else {
    throw ParseError(source + ": expected a Kueue object, an array of objects or a List, got " + std::string(doc.type_name()));
  }
  KueueConfig cfg;
  std::vector<std::string> rf_where, co_where, cq_where;
  for (const auto& o : objects) {
    const std::size_t nrf = cfg.resource_flavors.size(), nco = cfg.cohorts.size();
    detail::KueueCtx probe{o.first};
    if (o.second->is_object() && o.second->contains("kind") && o.second->at("kind") == "List")
      probe.invalid("kind", "nested Lists are not supported");
    detail::kueue_object(o.first, *o.second, cfg, opt);
    const nlohmann::json& md = o.second->at("metadata");
    const std::string label = o.first + " (" + o.second->at("kind").get<std::string>() + " " + md.at("name").get<std::string>() + ")";
    if (cfg.resource_flavors.size() > nrf) rf_where.push_back(label);
    else if (cfg.cohorts.size() > nco) co_where.push_back(label);
    else cq_where.push_back(label);
  }
  std::vector<std::string> where = rf_where;
  where.insert(where.end(), co_where.begin(), co_where.end());
  where.insert(where.end(), cq_where.begin(), cq_where.end());
  detail::kueue_cross_checks(source, cfg, where);
  (void)cfg.tree();  // anything the tree itself refuses surfaces now, not at first use
  return cfg;
}

/// @brief Parses JSON text and loads it (see load_kueue_config).  Duplicate keys in one JSON
/// object are rejected, as Kubernetes' strict decoding does.
inline KueueConfig parse_kueue_config(const std::string& text, const std::string& source = "kueue config",
                                      const KueueConfigOptions& opt = {}) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  nlohmann::json::parser_callback_t cb = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) keys.emplace_back();
    else if (ev == E::object_end && !keys.empty()) keys.pop_back();
    else if (ev == E::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
      throw ParseError(source + ": duplicate key '" + parsed.get<std::string>() + "' in one JSON object");
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::exception& e) {
    throw ParseError(source + ": not valid JSON: " + e.what());
  }
  return load_kueue_config(doc, source, opt);
}

/// @brief Reads a file and loads it (see parse_kueue_config).
inline KueueConfig load_kueue_config_file(const std::string& path, const KueueConfigOptions& opt = {}) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw NotFound("kueue config: cannot read file '" + path + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_kueue_config(ss.str(), path, opt);
}

}  // namespace k8s
}  // namespace gpushare
