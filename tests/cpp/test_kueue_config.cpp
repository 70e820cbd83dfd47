// Kueue ClusterQueue/Cohort/ResourceFlavor JSON -> quota model: the example file round-trips to
// the hand-built model and admits as expected; every error path names the object, the JSON path
// and the field; units follow docs/QUOTA.md.
#include <catch2/catch.hpp>

#include <functional>
#include <map>
#include <string>

#include <gpushare/k8s/kueue_config.hpp>
#include <gpushare/solve/quota_admission.hpp>

using namespace gpushare;
using gpushare::k8s::KueueConfig;
using nlohmann::json;

namespace {

const std::string kExample = std::string(GPUSHARE_SOURCE_DIR) + "/examples/kueue/cluster_queues.json";

ResourceQuota rq(std::int64_t n, std::optional<std::int64_t> b = std::nullopt, std::optional<std::int64_t> l = std::nullopt) {
  return ResourceQuota{n, b, l};
}

/// The example file, built by hand.
QuotaTree hand_built() {
  QuotaTree t;
  t.add_cohort("org", "", {{"T4", {{"gpu", rq(8000)}}}});
  t.add_cohort("research", "org");
  QueueSpec a;
  a.name = "team-a";
  a.cohort = "research";
  a.flavors = {{"G2", {{"cpu", rq(256000)}, {"gpu", rq(16000, 8000)}}}, {"T4", {{"cpu", rq(64000)}, {"gpu", rq(4000)}}}};
  a.preemption.within_queue = WithinQueuePolicy::lower_priority;
  a.preemption.reclaim_within_cohort = ReclaimPolicy::any;
  t.add_queue(a);
  QueueSpec b;
  b.name = "team-b";
  b.cohort = "research";
  b.flavors = {{"G2", {{"gpu", rq(16000, std::nullopt, 8000)}}}, {"T4", {{"gpu", rq(2500)}}}};
  b.fungibility.stop_when_can_borrow = false;
  t.add_queue(b);
  QueueSpec c;
  c.name = "batch";
  c.cohort = "org";
  c.flavors = {{"P100", {{"gpu", rq(8000)}}}, {"T4", {{"gpu", rq(0)}}}};
  c.preemption = {WithinQueuePolicy::lower_or_newer_equal_priority, ReclaimPolicy::lower_priority, true, 100};
  t.add_queue(c);
  t.finalize();
  return t;
}

bool same_quota(const ResourceQuota& x, const ResourceQuota& y) {
  return x.nominal == y.nominal && x.borrowing_limit == y.borrowing_limit && x.lending_limit == y.lending_limit;
}

void require_same_queue(const QueueSpec& x, const QueueSpec& y) {
  INFO("queue " << x.name);
  CHECK(x.name == y.name);
  CHECK(x.cohort == y.cohort);
  REQUIRE(x.flavors.size() == y.flavors.size());
  for (std::size_t i = 0; i < x.flavors.size(); ++i) {
    CHECK(x.flavors[i].name == y.flavors[i].name);
    REQUIRE(x.flavors[i].resources.size() == y.flavors[i].resources.size());
    for (const auto& kv : x.flavors[i].resources) {
      REQUIRE(y.flavors[i].resources.count(kv.first));
      CHECK(same_quota(kv.second, y.flavors[i].resources.at(kv.first)));
    }
  }
  CHECK(x.preemption.within_queue == y.preemption.within_queue);
  CHECK(x.preemption.reclaim_within_cohort == y.preemption.reclaim_within_cohort);
  CHECK(x.preemption.borrow_within_cohort == y.preemption.borrow_within_cohort);
  CHECK(x.preemption.max_priority_threshold == y.preemption.max_priority_threshold);
  CHECK(x.fungibility.stop_when_can_borrow == y.fungibility.stop_when_can_borrow);
  CHECK(x.fungibility.stop_when_can_preempt == y.fungibility.stop_when_can_preempt);
  CHECK(x.fungibility.preemption_over_borrowing == y.fungibility.preemption_over_borrowing);
}

/// Same nodes (by name and kind), parents, and per (flavor, resource) quotas and limits.
void require_same_tree(const QuotaTree& x, const QuotaTree& y) {
  REQUIRE(x.nodes().size() == y.nodes().size());
  REQUIRE(x.fr_count() == y.fr_count());
  for (const auto& nx : x.nodes()) {
    const QuotaTree::NodeData* ny = nullptr;
    for (const auto& n : y.nodes())
      if (n.name == nx.name && n.is_queue == nx.is_queue) ny = &n;
    INFO("node " << nx.name);
    REQUIRE(ny != nullptr);
    CHECK((nx.parent < 0 ? "" : x.nodes()[nx.parent].name) == (ny->parent < 0 ? "" : y.nodes()[ny->parent].name));
    for (std::size_t k = 0; k < x.fr_count(); ++k) {
      const auto& fr = x.fr_name(static_cast<int>(k));
      const int ky = y.fr_index(fr.first, fr.second);
      INFO(fr.first << "/" << fr.second);
      REQUIRE(ky >= 0);
      CHECK(nx.nominal[k] == ny->nominal[ky]);
      CHECK(nx.borrowing[k] == ny->borrowing[ky]);
      CHECK(nx.lending[k] == ny->lending[ky]);
      CHECK(nx.subtree_quota[k] == ny->subtree_quota[ky]);
    }
  }
}

QuotaWorkload gpu_job(const std::string& name, const std::string& queue, std::int64_t milli, int prio = 0) {
  return QuotaWorkload{name, queue, prio, "", {{"gpu", milli}}, 0, 0};
}

}  // namespace

TEST_CASE("the example Kueue file round-trips to the hand-built model") {
  const KueueConfig cfg = k8s::load_kueue_config_file(kExample);
  CHECK(cfg.resource_flavors == std::vector<std::string>{"G2", "T4", "P100"});
  REQUIRE(cfg.cohorts.size() == 2);
  CHECK(cfg.cohorts[1].name == "research");
  CHECK(cfg.cohorts[1].parent == "org");
  const QuotaTree hand = hand_built();
  REQUIRE(cfg.queues.size() == hand.queue_specs().size());
  for (std::size_t i = 0; i < cfg.queues.size(); ++i) require_same_queue(cfg.queues[i], hand.queue_specs()[i]);
  require_same_tree(cfg.tree(), hand);
  require_same_tree(hand, cfg.tree());
}

TEST_CASE("admission on the example configuration") {
  QuotaState st(k8s::load_kueue_config_file(kExample).tree());
  // team-a: 16 G2 GPUs nominal, borrows up to 8 (team-b lends 8 of its 16).
  QuotaDecision d = admit(st, gpu_job("a-20", "team-a", 20000));
  REQUIRE(d.admit);
  CHECK(d.flavor == "G2");
  CHECK(d.borrows);
  commit(st, gpu_job("a-20", "team-a", 20000), d);
  // 25 GPUs are beyond what team-a can ever reach on G2 (16 + 8) and on T4 (4 + 2.5 + 8).
  QuotaDecision big = admit(st, gpu_job("a-25", "team-a", 25000));
  CHECK_FALSE(big.admit);
  CHECK(big.reason.find("team-a") != std::string::npos);
  // team-b keeps its 8 non-lendable G2 GPUs plus the 4 team-a does not use.
  QuotaDecision b = admit(st, gpu_job("b-12", "team-b", 12000));
  REQUIRE(b.admit);
  CHECK(b.flavor == "G2");
  CHECK_FALSE(b.borrows);
  // 13 do not fit G2 (team-b preempts nobody), so they go to T4, borrowing from the org pool.
  QuotaDecision b13 = admit(st, gpu_job("b-13", "team-b", 13000));
  REQUIRE(b13.admit);
  CHECK(b13.flavor == "T4");
  CHECK(b13.borrows);
  // batch borrows the org's T4 pool (its own T4 nominal is 0).
  QuotaDecision t4 = admit(st, gpu_job("batch-t4", "batch", 9000));
  REQUIRE(t4.admit);
  CHECK(t4.flavor == "T4");
  CHECK(t4.borrows);
}

TEST_CASE("Kueue quantities are stored in the project's units") {
  const json doc = json::parse(R"({"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"ClusterQueue","metadata":{"name":"q"},
    "spec":{"resourceGroups":[{"coveredResources":["cpu","memory","nvidia.com/gpu","example.com/foo"],
      "flavors":[{"name":"f","resources":[{"name":"cpu","nominalQuota":"500m"},{"name":"memory","nominalQuota":"1Gi"},
        {"name":"nvidia.com/gpu","nominalQuota":"2500m"},{"name":"example.com/foo","nominalQuota":1.5}]}]}]}})");
  const KueueConfig cfg = k8s::load_kueue_config(doc);
  const auto& r = cfg.queues.at(0).flavors.at(0).resources;
  CHECK(r.at("cpu").nominal == 500);
  CHECK(r.at("memory").nominal == 1024);
  CHECK(r.at("gpu").nominal == 2500);
  CHECK(r.at("example.com/foo").nominal == 2);  // rounded up, as Kubernetes' Value()
  CHECK(r.count("nvidia.com/gpu") == 0);
  k8s::KueueConfigOptions keep;
  keep.gpu_resources = {};
  CHECK(k8s::load_kueue_config(doc, "x", keep).queues[0].flavors[0].resources.at("nvidia.com/gpu").nominal == 3);
}

TEST_CASE("Kueue object layouts: single object, array, List; v1alpha1 Cohort; implicit cohorts") {
  const json rf = {{"apiVersion", "kueue.x-k8s.io/v1beta1"}, {"kind", "ResourceFlavor"}, {"metadata", {{"name", "f"}}}};
  const json alpha = json::parse(R"({"apiVersion":"kueue.x-k8s.io/v1alpha1","kind":"Cohort","metadata":{"name":"c"},
                                     "spec":{"parent":"top"}})");
  const json cq = json::parse(R"({"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"ClusterQueue","metadata":{"name":"q","uid":"x"},
    "spec":{"cohort":"c","resourceGroups":[{"coveredResources":["gpu"],"flavors":[{"name":"f",
      "resources":[{"name":"gpu","nominalQuota":2,"borrowingLimit":1,"lendingLimit":"1"}]}]}]},"status":{"pendingWorkloads":0}})");
  CHECK(k8s::load_kueue_config(rf).resource_flavors.size() == 1);
  const KueueConfig arr = k8s::load_kueue_config(json::array({rf, alpha, cq}));
  CHECK(arr.cohorts.at(0).parent == "top");
  const QuotaTree t = arr.tree();  // "top" is implicit: a root without quota
  CHECK(t.nodes().size() == 3);
  const KueueConfig list = k8s::load_kueue_config(json{{"apiVersion", "v1"}, {"kind", "List"}, {"items", {rf, alpha, cq}}});
  CHECK(list.queues.at(0).flavors.at(0).resources.at("gpu").borrowing_limit == 1000);
  CHECK(k8s::load_kueue_config(json{{"kind", "ClusterQueueList"}, {"items", {cq}}}).queues.size() == 1);
  // A Cohort may lend more than its own nominal quota (it lends its subtree): allowed.
  const json lend = json::parse(R"({"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"Cohort","metadata":{"name":"c2"},
    "spec":{"parentName":"top","resourceGroups":[{"coveredResources":["gpu"],"flavors":[{"name":"f",
      "resources":[{"name":"gpu","nominalQuota":0,"lendingLimit":4}]}]}]}})");
  CHECK(k8s::load_kueue_config(lend).cohorts.at(0).flavors.at(0).resources.at("gpu").lending_limit == 4000);
}

namespace {

json base_cq() {
  return json::parse(R"({"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"ClusterQueue","metadata":{"name":"q1"},
    "spec":{"cohort":"c","resourceGroups":[{"coveredResources":["nvidia.com/gpu"],"flavors":[{"name":"f1",
      "resources":[{"name":"nvidia.com/gpu","nominalQuota":4}]}]}],
      "preemption":{"withinClusterQueue":"Never","reclaimWithinCohort":"Any","borrowWithinCohort":{"policy":"Never"}},
      "flavorFungibility":{"whenCanBorrow":"MayStopSearch","whenCanPreempt":"TryNextFlavor"}}})");
}

json base_cohort() {
  return json::parse(R"({"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"Cohort","metadata":{"name":"c"},
    "spec":{"resourceGroups":[{"coveredResources":["nvidia.com/gpu"],"flavors":[{"name":"f1",
      "resources":[{"name":"nvidia.com/gpu","nominalQuota":4}]}]}]}})");
}

struct ErrCase {
  const char* what;
  std::function<json()> doc;
  bool parse_error;              // ParseError (else InvalidArgument)
  std::vector<std::string> has;  // substrings of the message: object, path, field
};

json with(json j, const json::json_pointer& p, json v) {
  j[p] = std::move(v);
  return j;
}
json without(json j, const json::json_pointer& p) {
  j[p.parent_pointer()].erase(p.back());
  return j;
}
const json::json_pointer kRes("/spec/resourceGroups/0/flavors/0/resources/0");
const json::json_pointer kGroup("/spec/resourceGroups/0");
const std::string kResPath = "spec.resourceGroups[0].flavors[0].resources[0]";

}  // namespace

TEST_CASE("every Kueue config error names the object, the path and the field") {
  const std::string cq = "(ClusterQueue q1)";
  const std::string co = "(Cohort c)";
  std::vector<ErrCase> cases = {
      {"unknown top-level field", [] { return with(base_cq(), json::json_pointer("/specs"), json::object()); }, true, {"unknown field 'specs'"}},
      {"unknown spec field", [] { return with(base_cq(), json::json_pointer("/spec/cohortName"), "c"); }, true, {cq, "spec.cohortName"}},
      {"unknown resource field", [] { return with(base_cq(), kRes / "nominal", 1); }, true, {cq, kResPath + ".nominal"}},
      {"unknown flavor field", [] { return with(base_cq(), json::json_pointer("/spec/resourceGroups/0/flavors/0/quota"), 1); }, true,
       {cq, "spec.resourceGroups[0].flavors[0].quota"}},
      {"unknown group field", [] { return with(base_cq(), kGroup / "name", "g"); }, true, {cq, "spec.resourceGroups[0].name"}},
      {"unknown preemption field", [] { return with(base_cq(), json::json_pointer("/spec/preemption/within"), "Never"); }, true,
       {cq, "spec.preemption.within"}},
      {"unknown borrowWithinCohort field",
       [] { return with(base_cq(), json::json_pointer("/spec/preemption/borrowWithinCohort/threshold"), 1); }, true,
       {cq, "spec.preemption.borrowWithinCohort.threshold"}},
      {"unknown fungibility field", [] { return with(base_cq(), json::json_pointer("/spec/flavorFungibility/whenBorrow"), "x"); },
       true, {cq, "spec.flavorFungibility.whenBorrow"}},
      {"unknown metadata field", [] { return with(base_cq(), json::json_pointer("/metadata/nam"), "x"); }, true, {"metadata.nam"}},
      {"unknown ResourceFlavor spec field",
       [] { return json{{"apiVersion", "kueue.x-k8s.io/v1beta1"}, {"kind", "ResourceFlavor"}, {"metadata", {{"name", "f"}}},
                        {"spec", {{"nodeLabel", json::object()}}}}; },
       true, {"(ResourceFlavor f)", "spec.nodeLabel"}},
      {"v1beta1 Cohort with v1alpha1's parent", [] { return with(base_cohort(), json::json_pointer("/spec/parent"), "p"); }, true,
       {co, "spec.parent"}},
      {"v1alpha1 Cohort with parentName",
       [] { return with(with(base_cohort(), json::json_pointer("/apiVersion"), "kueue.x-k8s.io/v1alpha1"),
                        json::json_pointer("/spec/parentName"), "p"); },
       true, {co, "spec.parentName"}},
      {"cohort not a string", [] { return with(base_cq(), json::json_pointer("/spec/cohort"), 5); }, true, {cq, "spec.cohort", "string"}},
      {"resourceGroups not an array", [] { return with(base_cq(), json::json_pointer("/spec/resourceGroups"), json::object()); }, true,
       {cq, "spec.resourceGroups", "array"}},
      {"nominalQuota of the wrong type", [] { return with(base_cq(), kRes / "nominalQuota", json::array()); }, true,
       {cq, kResPath + ".nominalQuota", "string or number"}},
      {"unparsable quantity", [] { return with(base_cq(), kRes / "nominalQuota", "8GB"); }, true,
       {cq, kResPath + ".nominalQuota", "invalid quantity"}},
      {"missing nominalQuota", [] { return without(base_cq(), kRes / "nominalQuota"); }, true, {cq, kResPath, "nominalQuota"}},
      {"empty coveredResources", [] { return with(base_cq(), kGroup / "coveredResources", json::array()); }, true,
       {cq, "spec.resourceGroups[0].coveredResources"}},
      {"missing metadata.name", [] { return without(base_cq(), json::json_pointer("/metadata/name")); }, true, {"metadata", "name"}},
      {"maxPriorityThreshold not an integer",
       [] { return with(base_cq(), json::json_pointer("/spec/preemption/borrowWithinCohort/maxPriorityThreshold"), 1.5); }, true,
       {cq, "spec.preemption.borrowWithinCohort.maxPriorityThreshold"}},
      {"maxPriorityThreshold beyond 32 bits",
       [] { return with(base_cq(), json::json_pointer("/spec/preemption/borrowWithinCohort/maxPriorityThreshold"), 1LL << 40); },
       true, {cq, "maxPriorityThreshold"}},
      {"negative nominalQuota", [] { return with(base_cq(), kRes / "nominalQuota", "-1"); }, false,
       {cq, kResPath + ".nominalQuota", "non-negative"}},
      {"negative borrowingLimit", [] { return with(base_cq(), kRes / "borrowingLimit", -2); }, false,
       {cq, kResPath + ".borrowingLimit", "non-negative"}},
      {"quantity above the maximum", [] { return with(base_cq(), kRes / "nominalQuota", "9E"); }, false,
       {cq, kResPath + ".nominalQuota", "maximum"}},
      {"lendingLimit above nominalQuota", [] { return with(base_cq(), kRes / "lendingLimit", 5); }, false,
       {cq, kResPath + ".lendingLimit", "nominalQuota"}},
      {"borrowingLimit without cohort",
       [] { return with(without(base_cq(), json::json_pointer("/spec/cohort")), kRes / "borrowingLimit", 1); }, false,
       {cq, kResPath + ".borrowingLimit", "spec.cohort is empty"}},
      {"lendingLimit without cohort",
       [] { return with(without(base_cq(), json::json_pointer("/spec/cohort")), kRes / "lendingLimit", 1); }, false,
       {cq, kResPath + ".lendingLimit", "spec.cohort is empty"}},
      {"Cohort borrowingLimit without parent", [] { return with(base_cohort(), kRes / "borrowingLimit", 1); }, false,
       {co, kResPath + ".borrowingLimit", "spec.parentName is empty"}},
      {"flavor listed twice",
       [] { json j = base_cq(); j[kGroup / "flavors"].push_back(j[kGroup / "flavors" / 0]); return j; }, false,
       {cq, "spec.resourceGroups[0].flavors[1].name", "already listed"}},
      {"flavor in two groups",
       [] { json j = base_cq(); json g = j[kGroup]; g["coveredResources"] = {"cpu"}; g["flavors"][0]["resources"][0]["name"] = "cpu";
            j["spec"]["resourceGroups"].push_back(g); return j; }, false,
       {cq, "spec.resourceGroups[1].flavors[0].name", "f1"}},
      {"resource covered by two groups",
       [] { json j = base_cq(); json g = j[kGroup]; g["flavors"][0]["name"] = "f2"; j["spec"]["resourceGroups"].push_back(g); return j; },
       false, {cq, "spec.resourceGroups[1].coveredResources[0]", "already covered"}},
      {"two names stored as gpu",
       [] { json j = base_cq(); j[kGroup / "coveredResources"].push_back("gpu"); return j; }, false,
       {cq, "spec.resourceGroups[0].coveredResources[1]", "stored as 'gpu'"}},
      {"resources not matching coveredResources (count)",
       [] { json j = base_cq(); j[kGroup / "coveredResources"].push_back("cpu"); return j; }, false,
       {cq, "spec.resourceGroups[0].flavors[0].resources", "coveredResources"}},
      {"resources not matching coveredResources (name)", [] { return with(base_cq(), kRes / "name", "cpu"); }, false,
       {cq, kResPath + ".name", "coveredResources"}},
      {"unknown withinClusterQueue", [] { return with(base_cq(), json::json_pointer("/spec/preemption/withinClusterQueue"), "Sometimes"); },
       false, {cq, "spec.preemption.withinClusterQueue", "Sometimes"}},
      {"unknown reclaimWithinCohort", [] { return with(base_cq(), json::json_pointer("/spec/preemption/reclaimWithinCohort"), "All"); },
       false, {cq, "spec.preemption.reclaimWithinCohort", "All"}},
      {"unknown borrowWithinCohort.policy",
       [] { return with(base_cq(), json::json_pointer("/spec/preemption/borrowWithinCohort/policy"), "Any"); }, false,
       {cq, "spec.preemption.borrowWithinCohort.policy", "Any"}},
      {"unknown whenCanBorrow", [] { return with(base_cq(), json::json_pointer("/spec/flavorFungibility/whenCanBorrow"), "Preempt"); },
       false, {cq, "spec.flavorFungibility.whenCanBorrow", "Preempt"}},
      {"unknown whenCanPreempt", [] { return with(base_cq(), json::json_pointer("/spec/flavorFungibility/whenCanPreempt"), "Borrow"); },
       false, {cq, "spec.flavorFungibility.whenCanPreempt", "Borrow"}},
      {"unknown queueingStrategy", [] { return with(base_cq(), json::json_pointer("/spec/queueingStrategy"), "FIFO"); }, false,
       {cq, "spec.queueingStrategy", "FIFO"}},
      {"preference without TryNextFlavor",
       [] { return with(base_cq(), json::json_pointer("/spec/flavorFungibility/preference"), "PreemptionOverBorrowing"); }, false,
       {cq, "spec.flavorFungibility.preference", "TryNextFlavor"}},
      {"borrowWithinCohort without reclaim",
       [] { json j = with(base_cq(), json::json_pointer("/spec/preemption/borrowWithinCohort/policy"), "LowerPriority");
            return with(j, json::json_pointer("/spec/preemption/reclaimWithinCohort"), "Never"); }, false,
       {cq, "spec.preemption.borrowWithinCohort.policy", "reclaimWithinCohort"}},
      {"stopPolicy Hold", [] { return with(base_cq(), json::json_pointer("/spec/stopPolicy"), "Hold"); }, false, {cq, "spec.stopPolicy"}},
      {"unsupported kind", [] { return with(base_cq(), json::json_pointer("/kind"), "LocalQueue"); }, false, {"kind", "LocalQueue"}},
      {"unsupported apiVersion", [] { return with(base_cq(), json::json_pointer("/apiVersion"), "kueue.x-k8s.io/v1beta2"); }, false,
       {"apiVersion", "v1beta2"}},
      {"duplicate ClusterQueue", [] { return json::array({base_cq(), base_cq()}); }, false, {"[1] (ClusterQueue q1)", "duplicate ClusterQueue", "[0]"}},
      {"duplicate Cohort", [] { return json::array({base_cohort(), base_cohort()}); }, false, {"[1] (Cohort c)", "duplicate Cohort"}},
      {"duplicate ResourceFlavor",
       [] { json rf = {{"apiVersion", "kueue.x-k8s.io/v1beta1"}, {"kind", "ResourceFlavor"}, {"metadata", {{"name", "f1"}}}};
            return json::array({rf, rf}); }, false, {"(ResourceFlavor f1)", "duplicate ResourceFlavor"}},
      {"flavor without ResourceFlavor",
       [] { json rf = {{"apiVersion", "kueue.x-k8s.io/v1beta1"}, {"kind", "ResourceFlavor"}, {"metadata", {{"name", "other"}}}};
            return json::array({rf, base_cq()}); }, false, {cq, "spec.resourceGroups", "'f1'"}},
      {"cohort cycle",
       [] { json a = with(base_cohort(), json::json_pointer("/spec/parentName"), "d");
            json b = with(with(base_cohort(), json::json_pointer("/metadata/name"), "d"), json::json_pointer("/spec/parentName"), "c");
            return json::array({a, b}); }, false, {"(Cohort c)", "parentName", "cohort cycle c -> d -> c"}},
      {"cohort its own parent", [] { return with(base_cohort(), json::json_pointer("/spec/parentName"), "c"); }, false,
       {co, "spec.parentName", "own parent"}},
      {"nested List", [] { return json{{"kind", "List"}, {"items", {{{"kind", "List"}, {"items", json::array()}}}}}; }, false,
       {"items[0]", "nested"}},
      {"List items not an array", [] { return json{{"kind", "List"}, {"items", 3}}; }, true, {"items", "array"}},
      {"not an object", [] { return json(3); }, true, {"expected a Kueue object"}},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const json doc = c.doc();
    std::string msg;
    bool parse = false, invalid = false;
    try {
      (void)k8s::load_kueue_config(doc, "test.json");
    } catch (const ParseError& e) {
      parse = true;
      msg = e.what();
    } catch (const InvalidArgument& e) {
      invalid = true;
      msg = e.what();
    }
    INFO(msg);
    CHECK(parse == c.parse_error);
    CHECK(invalid == !c.parse_error);
    CHECK(msg.find("test.json") != std::string::npos);
    for (const auto& h : c.has) CHECK(msg.find(h) != std::string::npos);
  }
}

TEST_CASE("Kueue config text: invalid JSON, duplicate keys, unreadable file") {
  CHECK_THROWS_AS(k8s::parse_kueue_config("{", "t.json"), ParseError);
  try {
    k8s::parse_kueue_config(R"({"kind":"ClusterQueue","kind":"Cohort"})", "t.json");
    FAIL("duplicate keys must be refused");
  } catch (const ParseError& e) {
    CHECK(std::string(e.what()).find("duplicate key 'kind'") != std::string::npos);
  }
  // The same key in two different objects is fine.
  CHECK_NOTHROW(k8s::parse_kueue_config(
      R"([{"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"ResourceFlavor","metadata":{"name":"a"}},
          {"apiVersion":"kueue.x-k8s.io/v1beta1","kind":"ResourceFlavor","metadata":{"name":"b"}}])", "t.json"));
  CHECK_THROWS_AS(k8s::load_kueue_config_file("/nonexistent/cq.json"), NotFound);
}
