// The extender with the catalogue's learning policies (fgd, best): it decides with them, learns
// the workload from the pods filter sees, and a restarted service learns it again from the
// journal's allocations.
#include <catch2/catch.hpp>
#include <gpushare/io/topology_json.hpp>
#include <gpushare/k8s/extender_service.hpp>
#include <gpushare/modes/conform/run.hpp>
#include <gpushare/solve/topology_set.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using nlohmann::json;
using namespace gpushare;

namespace {

// Nodes: "gpus" whole 1000-milli GPUs of model A10 and 32 cores; pods: "milli" of one GPU and
// "cpu" milli-cores (annotations of the test's own, parsed strictly).
class ShapeDialect : public k8s::ExtenderDialect {
 public:
  std::string name() const override { return "shape-test"; }
  Node node_from_json(const json& j) const override {
    Node n{j.at("metadata").at("name").get<std::string>(), 32000, 131072, {}, {}};
    for (int i = 0; i < j.at("gpus").get<int>(); ++i) n.gpus.push_back({i, "A10", 1000, 24576});
    return n;
  }
  Request request_from_pod(const json& pod) const override {
    Request r;
    r.name = "ns/" + pod.at("metadata").at("name").get<std::string>();
    r.cpu_milli = pod.at("cpu").get<std::int64_t>();
    r.gpu = {1, pod.at("milli").get<std::int64_t>(), 0};
    return r;
  }
  std::map<std::string, std::string> bind_annotations(const json&, const Placement& p) const override {
    return {{"gpu", std::to_string(p.gpus.at(0))}};
  }
};

json node(const std::string& name, int gpus) { return {{"metadata", {{"name", name}}}, {"gpus", gpus}}; }
json pod(const std::string& name, int milli, int cpu) {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "u-" + name}}}, {"milli", milli}, {"cpu", cpu}};
}
std::string temp_path(const char* tag) {
  std::string p = std::string("/tmp/gpushare_extpol_") + tag + "_" + std::to_string(::getpid());
  std::remove(p.c_str());
  return p;
}
std::int64_t observed(const k8s::ExtenderService& s) { return std::get<sim::LivePolicy>(s.policy()).observed(); }

}  // namespace

TEST_CASE("extender with best: decides, learns from filter, relearns from the journal after a restart", "[extender]") {
  const std::string state = temp_path("state"), binds = temp_path("binds");
  {
    k8s::ExtenderService svc(std::make_shared<ShapeDialect>(), make_policy("best"),
                             std::make_shared<k8s::JournalBinder>(binds), state);
    svc.upsert_node(node("a", 2));
    svc.upsert_node(node("b", 4));
    for (int k = 0; k < 5; ++k) {
      const std::string n = "p" + std::to_string(k);
      const json f = svc.filter({{"Pod", pod(n, 500, 2000)}, {"NodeNames", {"a", "b"}}});
      REQUIRE(f["NodeNames"].size() == 2);
      svc.prioritize({{"Pod", pod(n, 500, 2000)}, {"NodeNames", {"a", "b"}}});  // the same pod: counted once
      const json b = svc.bind({{"PodName", n}, {"PodNamespace", "ns"}, {"PodUID", "u-" + n}, {"Node", k % 2 ? "a" : "b"}});
      REQUIRE(b.value("Error", "") == "");
    }
    REQUIRE(observed(svc) == 5);
    const auto target = std::get<sim::LivePolicy>(svc.policy()).target();
    REQUIRE(target.shapes.size() == 1);
    REQUIRE(target.shapes[0].shape.milli == 500);
  }
  k8s::ExtenderService again(std::make_shared<ShapeDialect>(), make_policy("best"),
                             std::make_shared<k8s::JournalBinder>(binds), state);
  again.upsert_node(node("a", 2));
  again.upsert_node(node("b", 4));
  REQUIRE(observed(again) == 0);
  again.recover();
  REQUIRE(observed(again) == 5);  // rebuilt from the recovered allocations
  const auto target = std::get<sim::LivePolicy>(again.policy()).target();
  REQUIRE(target.shapes.size() == 1);
  REQUIRE(target.shapes[0].shape.cpu == 2000);
  std::remove(state.c_str());
  std::remove(binds.c_str());
}

TEST_CASE("extender with fgd: a whole-GPU pod goes where it fragments least", "[extender]") {
  k8s::ExtenderService svc(std::make_shared<ShapeDialect>(), make_policy("fgd"),
                           std::make_shared<k8s::JournalBinder>(temp_path("b2")));
  svc.upsert_node(node("a", 2));
  svc.upsert_node(node("b", 2));
  // The first pod teaches the target (600-milli shares) and goes to a: a keeps (400, 1000) free.
  // A 400-milli pod then scores higher on a, where it uses up the 400 no 600-share can use
  // (fragmentation 400 -> 0), than on b, where the fragmentation stays 0.
  svc.filter({{"Pod", pod("x", 600, 1000)}, {"NodeNames", {"a", "b"}}});
  REQUIRE(svc.bind({{"PodName", "x"}, {"PodNamespace", "ns"}, {"PodUID", "u-x"}, {"Node", "a"}}).value("Error", "") == "");
  const json pr = svc.prioritize({{"Pod", pod("y", 400, 1000)}, {"NodeNames", {"a", "b"}}});
  std::map<std::string, std::int64_t> score;
  for (const auto& h : pr) score[h.at("Host").get<std::string>()] = h.at("Score").get<std::int64_t>();
  REQUIRE(score["a"] > score["b"]);
  REQUIRE(svc.bind({{"PodName", "y"}, {"PodNamespace", "ns"}, {"PodUID", "u-y"}, {"Node", "a"}}).value("Error", "") == "");
  REQUIRE(svc.cluster().allocation("ns/y")->gpus == std::vector<int>{0});  // the GPU with 400 left
}

namespace {
Topology dgx1() {
  std::ifstream in(std::string(GPUSHARE_DATA_DIR) + "/topology/dgx1-volta.json");
  return topology_from_json(json::parse(in));
}
Node eight(const std::string& name) {
  Node n{name, 96000, 786432, {}, {}};
  for (int g = 0; g < 8; ++g) n.gpus.push_back({g, "V100", 1000, 16384});
  return n;
}
}  // namespace

TEST_CASE("topology in the live path: topology-aware and nvidia pick the best set on a node with a known topology") {
  auto topos = std::make_shared<NodeTopologies>();
  (*topos)["dgx"] = dgx1();
  PolicyOptions o;
  o.topologies = topos;
  Cluster c({eight("plain"), eight("dgx")});
  // Take GPU 0 on both nodes, so the lowest-index answer (1, 2, 3, 4) is not the best-connected one.
  c.allocate({"x", "plain", 0, {0}, 1000, 0, 0, 0});
  c.allocate({"y", "dgx", 1, {0}, 1000, 0, 0, 0});
  Request r;
  r.name = "job";
  r.gpu = {4, 1000, 1024};
  std::vector<int> free{1, 2, 3, 4, 5, 6, 7};

  AnyPolicy ta = make_policy("topology-aware", o);
  ScheduleResult s = schedule(c, r, ta);
  REQUIRE(s);
  REQUIRE(s.placement->node == "dgx");  // the known topology makes the tighter set win
  REQUIRE(s.placement->gpus == best_gpu_set((*topos)["dgx"], free, 4).gpus);

  AnyPolicy nv = make_policy("nvidia", o);
  ScheduleResult n = schedule(c, r, nv);
  REQUIRE(n);
  REQUIRE(n.placement->node == "dgx");
  std::vector<int> expect = nvidia_besteffort((*topos)["dgx"], free, {}, 4);
  std::sort(expect.begin(), expect.end());
  REQUIRE(n.placement->gpus == expect);
  REQUIRE(n.placement->gpus != std::vector<int>{1, 2, 3, 4});

  Request share = r;
  share.gpu = {1, 500, 0};
  REQUIRE_FALSE(schedule(c, share, nv));  // nvidia hands out whole GPUs only
}

TEST_CASE("compatible modes as policies: aliyun-binpack and tencent decide as their peers") {
  Node a{"a", 32000, 131072, {}, {}};
  a.gpus = {{0, "T4", 1000, 16384}, {1, "T4", 1000, 16384}};
  Node b = a;
  b.name = "b";
  Cluster c({a, b});
  c.allocate({"p", "a", 0, {1}, 100, 10240, 0, 0});  // a: GPU1 has 6 GiB free
  c.allocate({"q", "b", 1, {0}, 100, 4096, 0, 0});   // b: GPU0 has 12 GiB free
  Request r;
  r.name = "r";
  r.gpu = {1, 0, 5120};
  AnyPolicy al = make_policy("aliyun");
  ScheduleResult s = schedule(c, r, al);
  REQUIRE(s);
  REQUIRE(s.placement->node == "a");  // the GPU with the least free memory that fits, cluster-wide
  REQUIRE(s.placement->gpus == std::vector<int>{1});
  Request two = r;
  two.gpu = {2, 0, 1024};
  REQUIRE_FALSE(schedule(c, two, al));  // Aliyun: the whole pod on one GPU

  // gpu-admission: the node with the least free cores first; a share on its least free GPU.
  AnyPolicy tc = make_policy("gpu-admission");
  Request t;
  t.name = "t";
  t.gpu = {1, 300, 1024};
  ScheduleResult u = schedule(c, t, tc);
  REQUIRE(u);
  REQUIRE(u.placement->node == "a");  // equal cores; a has less free memory
  REQUIRE(u.placement->gpus == std::vector<int>{1});
}

TEST_CASE("catalogue rows name conformance suites this build runs") {
  const auto suites = conform::supported_suites();
  int rows = 0;
  for (const auto& row : catalogue())
    for (const auto& s : row.suites) {
      REQUIRE(std::find(suites.begin(), suites.end(), s) != suites.end());
      ++rows;
    }
  REQUIRE(rows >= 3);
}

TEST_CASE("extender with nvidia and a topology binds the best-connected set", "[extender]") {
  auto topos = std::make_shared<NodeTopologies>();
  (*topos)["dgx"] = dgx1();
  PolicyOptions o;
  o.topologies = topos;
  k8s::ExtenderService svc(std::make_shared<ShapeDialect>(), make_policy("nvidia", o),
                           std::make_shared<k8s::JournalBinder>(temp_path("b4")));
  svc.upsert_node({{"metadata", {{"name", "dgx"}}}, {"gpus", 8}});
  // ShapeDialect asks for one GPU; a 1000-milli pod is a whole GPU.
  svc.filter({{"Pod", pod("w", 1000, 1000)}, {"NodeNames", {"dgx"}}});
  REQUIRE(svc.bind({{"PodName", "w"}, {"PodNamespace", "ns"}, {"PodUID", "u-w"}, {"Node", "dgx"}}).value("Error", "") == "");
  std::vector<int> all{0, 1, 2, 3, 4, 5, 6, 7};
  REQUIRE(svc.cluster().allocation("ns/w")->gpus == nvidia_besteffort((*topos)["dgx"], all, {}, 1));
}

TEST_CASE("extender bind refuses a node where the policy finds no GPUs, and books nothing", "[extender]") {
  k8s::ExtenderService svc(std::make_shared<ShapeDialect>(), make_policy("nvidia"),
                           std::make_shared<k8s::JournalBinder>(temp_path("b5")));
  svc.upsert_node(node("a", 2));
  // nvidia hands out whole GPUs only: filter refuses the share, and a bind anyway is an error.
  const json f = svc.filter({{"Pod", pod("s", 300, 1000)}, {"NodeNames", {"a"}}});
  REQUIRE(f["NodeNames"].empty());
  const json b = svc.bind({{"PodName", "s"}, {"PodNamespace", "ns"}, {"PodUID", "u-s"}, {"Node", "a"}});
  REQUIRE(b.value("Error", "").find("policy nvidia finds no GPUs for it on node a") != std::string::npos);
  REQUIRE(svc.cluster().allocations().empty());
}
