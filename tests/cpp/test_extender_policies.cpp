// The extender with the catalogue's learning policies (fgd, best): it decides with them, learns
// the workload from the pods filter sees, and a restarted service learns it again from the
// journal's allocations.
#include <catch2/catch.hpp>
#include <gpushare/k8s/extender_service.hpp>

#include <cstdio>
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
