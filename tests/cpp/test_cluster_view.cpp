// The cluster view's data: per-node FGD fragmentation of a model cluster (k8s/fragmentation.hpp)
// against a from-the-definition oracle, the extender's pending/unschedulable reasons in
// /inspect, the bounded unschedulable log, and the page with an embedded document.
#include <catch2/catch.hpp>
#include <gpushare/k8s/cluster_view.hpp>
#include <gpushare/k8s/extender_service.hpp>

#include <cstdio>
#include <random>
#include <unistd.h>

#include "helpers.hpp"

using nlohmann::json;
using namespace gpushare;

namespace {

// FGD from its definition (Weng et al. §3.2): for each target shape t with weight p_t, the node's
// idle GPU milli t cannot use: all of it if t does not fit (GPUs, CPU, model), else the GPUs
// with less left than t needs.  Written independently of sim::node_frag's summation order.
double frag_oracle(const NodeView& v, const std::vector<std::pair<Request, double>>& target) {
  std::vector<std::int64_t> left;
  std::int64_t idle = 0;
  for (int g = 0; g < v.gpu_count(); ++g) {
    left.push_back(v.gpu(g).healthy ? v.free_milli[g] : 0);
    idle += left.back();
  }
  if (idle == 0) return 0;
  double f = 0;
  for (const auto& [r, w] : target) {
    const bool model_ok = v.gpu_count() > 0 && (!r.constrains_models() || r.accepts_model(v.gpu(0).model));
    if (r.gpu.count == 0) {
      f += w * double(idle);  // CPU-only tasks use no GPU: all idle GPU milli is unusable to them
      continue;
    }
    int enough = 0;
    std::int64_t small = 0;
    for (auto l : left) (l >= r.gpu.milli ? enough++ : small += l);
    const bool fits = model_ok && enough >= r.gpu.count && v.free_cpu_milli >= r.cpu_milli;
    f += w * double(fits ? small : idle);
  }
  return f;
}

class TestDialect : public k8s::ExtenderDialect {
 public:
  std::string name() const override { return "test"; }
  Node node_from_json(const json& j) const override {
    Node n{j.at("metadata").at("name").get<std::string>(), 8000, 262144, {}, {}};
    const int count = std::stoi(j.at("status").at("capacity").at("example.com/gpu").get<std::string>());
    for (int i = 0; i < count; ++i) n.gpus.push_back({i, "T4", 1000, 16384});
    return n;
  }
  Request request_from_pod(const json& pod) const override {
    Request r;
    r.name = pod.at("metadata").at("namespace").get<std::string>() + "/" + pod.at("metadata").at("name").get<std::string>();
    const json& lim = pod.at("spec").at("containers").at(0).at("resources").at("limits");
    r.gpu = {1, std::stoll(lim.at("example.com/gpu-milli").get<std::string>()), 1024};
    r.cpu_milli = lim.contains("cpu") ? std::stoll(lim.at("cpu").get<std::string>()) : 0;
    return r;
  }
  std::map<std::string, std::string> bind_annotations(const json&, const Placement& p) const override {
    return {{"example.com/gpu-index", std::to_string(p.gpus.at(0))}};
  }
};

json node(const std::string& name, int gpus) {
  return {{"metadata", {{"name", name}}}, {"status", {{"capacity", {{"example.com/gpu", std::to_string(gpus)}}}}}};
}
json pod(const std::string& name, int milli, int cpu = 0) {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}}},
          {"spec",
           {{"containers",
             {{{"resources", {{"limits", {{"example.com/gpu-milli", std::to_string(milli)}, {"cpu", std::to_string(cpu)}}}}}}}}}}};
}
std::string temp_path(const char* tag) {
  std::string p = std::string("/tmp/gpushare_view_") + tag + "_" + std::to_string(::getpid());
  std::remove(p.c_str());
  return p;
}

}  // namespace

TEST_CASE("node fragmentation of a model cluster matches the FGD definition", "[view][fragmentation]") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<Node> nodes;
    for (int i = 0; i < 4; ++i) nodes.push_back(gstest::random_node(rng, "n" + std::to_string(i), 4));
    Cluster c(nodes);
    // Random share placements, so GPUs have all sorts of left.
    for (int k = 0; k < 8; ++k) {
      const auto i = static_cast<std::size_t>(gstest::uniform(rng, 0, 3));
      const NodeView v = c.view(i);
      if (v.gpu_count() == 0) continue;
      const int g = static_cast<int>(gstest::uniform(rng, 0, v.gpu_count() - 1));
      const std::int64_t m = gstest::uniform(rng, 1, 10) * 100;
      if (!v.gpu(g).healthy || v.free_milli[g] < m || v.free_cpu_milli < 1000) continue;
      c.allocate(Placement{"p" + std::to_string(round) + "-" + std::to_string(k), v.name(), i, {g}, m, 0, 1000, 0});
    }
    // Pending requests of a few shapes, some model-constrained, one CPU-only.
    std::vector<Request> pending;
    const int np = static_cast<int>(gstest::uniform(rng, 0, 6));
    for (int k = 0; k < np; ++k) {
      Request r;
      r.name = "q" + std::to_string(k);
      r.cpu_milli = gstest::uniform(rng, 0, 3) * 4000;
      const auto kind = gstest::uniform(rng, 0, 3);
      if (kind == 0) r.gpu = {0, 0, 0};
      else if (kind == 1) r.gpu = {1, gstest::uniform(rng, 1, 9) * 100, 0};
      else r.gpu = {static_cast<int>(gstest::uniform(rng, 1, 2)), 1000, 0};
      if (gstest::uniform(rng, 0, 3) == 0) r.allowed_models = {"T4"};
      pending.push_back(r);
    }
    const k8s::ObservedWorkload w(c, pending, 1.0);  // coverage 1: every shape is in the target
    // The same target, built by hand: each distinct shape weighted by its share of all pods.
    std::vector<std::pair<Request, double>> target;
    std::vector<std::pair<sim::PodShape, Request>> seen;
    std::vector<int> count;
    auto add = [&](const Request& r) {
      const sim::PodShape s = w.shape_of(r);
      for (std::size_t j = 0; j < seen.size(); ++j)
        if (seen[j].first == s) return void(++count[j]);
      seen.push_back({s, r});
      count.push_back(1);
    };
    for (const Placement& p : c.allocations()) {
      Request r;
      r.cpu_milli = p.cpu_milli;
      r.gpu = {static_cast<int>(p.gpus.size()), p.milli_per_gpu, 0};
      add(r);
    }
    for (const Request& r : pending) add(r);
    int total = 0;
    for (int n : count) total += n;
    for (std::size_t j = 0; j < seen.size(); ++j) target.push_back({seen[j].second, double(count[j]) / total});
    for (std::size_t i = 0; i < c.size(); ++i) {
      INFO("round " << round << " node " << i);
      CHECK(w.node_frag(c.view(i)) == Approx(frag_oracle(c.view(i), target)).margin(1e-6));
    }
  }
}

TEST_CASE("inspect carries per-node fragmentation and the totals add up", "[view][inspect]") {
  Cluster c({Node{"a", 8000, 65536, {}, {{0, "T4", 1000, 16384}, {1, "T4", 1000, 16384}}},
             Node{"b", 8000, 65536, {}, {{0, "T4", 1000, 16384}, {1, "T4", 1000, 16384, false}}}});
  c.allocate(Placement{"ns/p1", "a", 0, {0}, 600, 4096, 1000, 0});
  // Target: the one placed shape (1 GPU x 600).  a: GPU0 has 400 left < 600 -> 400 fragmented;
  // b: its healthy GPU is free and fits, the unhealthy one has nothing left -> 0.
  json d = k8s::inspect_json(c);
  CHECK(d["nodes"][0]["frag_milli"].get<double>() == Approx(400));
  CHECK(d["nodes"][0]["idle_milli"] == 1400);
  CHECK(d["nodes"][1]["frag_milli"].get<double>() == Approx(0));
  CHECK(d["nodes"][1]["idle_milli"] == 1000);
  CHECK(d["total"]["frag_milli"].get<double>() == Approx(400));
  CHECK(d["total"]["idle_milli"] == 2400);
  CHECK(d["fragmentation"]["target_shapes"] == 1);
  // A pending 500-milli request joins the target: half the weight each.  a: 600-shape 400,
  // 500-shape 400 (GPU0's 400 < 500) -> 400; still 0 on b.
  k8s::InspectExtras x;
  Request r;
  r.name = "ns/p2";
  r.gpu = {1, 500, 0};
  x.pending_requests.push_back(r);
  x.pending.push_back({"ns/p2", "why"});
  json d2 = k8s::inspect_json(c, x);
  CHECK(d2["nodes"][0]["frag_milli"].get<double>() == Approx(400));
  CHECK(d2["fragmentation"]["pods_counted"] == 2);
  CHECK(d2["pending"][0] == json({{"pod", "ns/p2"}, {"reason", "why"}}));
  CHECK(d2["pending_pods"] == json({"ns/p2"}));
  // An empty cluster and no pods: no target, no fragmentation, no division by zero.
  json e = k8s::inspect_json(Cluster{});
  CHECK(e["total"]["frag_milli"].get<double>() == 0);
  CHECK(e["nodes"].empty());
}

TEST_CASE("the extender tells why pods wait and keeps recent unschedulable pods", "[view][extender]") {
  k8s::ExtenderService svc(std::make_shared<TestDialect>(), make_policy("best-fit"),
                           std::make_shared<k8s::JournalBinder>(temp_path("binds")));
  svc.upsert_node(node("a", 1));
  svc.upsert_node(node("b", 1));
  REQUIRE(svc.filter({{"Pod", pod("p1", 700)}, {"NodeNames", {"a"}}})["NodeNames"] == json({"a"}));
  REQUIRE(svc.bind({{"PodName", "p1"}, {"PodNamespace", "ns"}, {"PodUID", "u1"}, {"Node", "a"}})["Error"] == "");
  // p2 needs 500: a has 300 left (fragmented: total 300 < 500, so capacity), b wants too much CPU.
  json f = svc.filter({{"Pod", pod("p2", 500, 9000)}, {"NodeNames", {"a", "b", "ghost"}}});
  REQUIRE(f["NodeNames"].empty());
  json d = svc.inspect();
  REQUIRE(d["unschedulable"].size() == 1);
  const json& u = d["unschedulable"][0];
  CHECK(u["pod"] == "ns/p2");
  CHECK(u["candidates"] == 3);
  CHECK(u["attempts"] == 1);
  CHECK(u["reason"] == "no node fits (3 candidates): 2 cpu, 1 unknown_node");
  CHECK(u["failed_nodes"]["ghost"] == "node ghost: not known to the gpushare extender");
  CHECK(u["failed_nodes"]["b"] == f["FailedNodes"]["b"]);
  CHECK(u["last_seen_unix"].get<std::int64_t>() > 1600000000);
  CHECK(d["pending"] == json::array({{{"pod", "ns/p2"}, {"reason", u["reason"]}}}));
  // Asked again: one entry, two attempts.
  svc.filter({{"Pod", pod("p2", 500, 9000)}, {"NodeNames", {"a", "b"}}});
  d = svc.inspect();
  REQUIRE(d["unschedulable"].size() == 1);
  CHECK(d["unschedulable"][0]["attempts"] == 2);
  CHECK(d["unschedulable"][0]["reason"] == "no node fits (2 candidates): 2 cpu");
  // A smaller p2 fits b: it leaves the unschedulable list and waits for its bind.
  json f2 = svc.filter({{"Pod", pod("p2", 500)}, {"NodeNames", {"a", "b"}}});
  CHECK(f2["NodeNames"] == json({"b"}));
  d = svc.inspect();
  CHECK(d["unschedulable"].empty());
  CHECK(d["pending"][0]["reason"] == "1 of 2 candidate nodes fit; waiting for bind");
  REQUIRE(svc.bind({{"PodName", "p2"}, {"PodNamespace", "ns"}, {"PodUID", "u2"}, {"Node", "b"}})["Error"] == "");
  d = svc.inspect();
  CHECK(d["pending"].empty());
  CHECK(d["pending_pods"].empty());
  // Fragmentation comes from the library, per node: target = {700, 500}, half each; a has 300
  // left, which neither can use; b has 500 left, which the 500 can use and the 700 cannot.
  CHECK(d["nodes"][0]["frag_milli"].get<double>() == Approx(300));
  CHECK(d["nodes"][1]["frag_milli"].get<double>() == Approx(250));
}

TEST_CASE("the unschedulable log is bounded, most recent first", "[view][unschedulable]") {
  k8s::UnschedulableLog log(3, 2);
  std::map<std::string, k8s::NodeFailure> failed{{"n1", {"cpu", "node n1: cpu"}}, {"n2", {"cpu", "node n2: cpu"}},
                                                  {"n3", {"gpu_fragmented", "node n3: frag"}}};
  for (int k = 0; k < 5; ++k) log.record("ns/p" + std::to_string(k), failed, 3, 100 + k);
  auto e = log.entries();
  REQUIRE(e.size() == 3);
  CHECK(e[0].pod == "ns/p4");
  CHECK(e[2].pod == "ns/p2");
  CHECK(e[0].failed_nodes.size() == 2);  // at most nodes_per_pod reasons kept ...
  CHECK(e[0].reason == "no node fits (3 candidates): 2 cpu, 1 gpu_fragmented");  // ... all counted
  log.record("ns/p2", failed, 3, 200);
  e = log.entries();
  CHECK(e[0].pod == "ns/p2");
  CHECK(e[0].attempts == 2);
  CHECK(e.size() == 3);
  log.forget("ns/p3");
  CHECK(log.size() == 2);
  CHECK(log.get("ns/p3") == nullptr);
}

TEST_CASE("the cluster view page embeds a document safely and has no external resources", "[view][html]") {
  const std::string live = k8s::cluster_view_html();
  CHECK(live.find("<script type=\"application/json\" id=\"gpushare-snapshot\"></script>") != std::string::npos);
  for (const char* external : {"http://", "https://", "//cdn", "@import", "<link", "src="}) {
    INFO(external);
    CHECK(live.find(external) == std::string::npos);
  }
  json d = {{"nodes", json::array({{{"name", "</script><script>alert(1)</script>"}, {"gpus", json::array()}}})}};
  const std::string page = k8s::cluster_view_html(d);
  const std::string open = "id=\"gpushare-snapshot\">";
  const auto a = page.find(open) + open.size();
  const auto b = page.find("</script>", a);
  const std::string embedded = page.substr(a, b - a);
  CHECK(embedded.find('<') == std::string::npos);
  CHECK(json::parse(embedded) == d);
}
