// Extender service logic: filter/prioritize/bind against the model, concurrency, recovery.
// Uses a small test dialect (whole GPUs from "example.com/gpu" and shares from
// "example.com/gpu-milli"); the real dialects have their own tests.
#include <catch2/catch.hpp>
#include <gpushare/k8s/extender_service.hpp>

#include <atomic>
#include <cstdio>
#include <thread>
#include <unistd.h>

using nlohmann::json;
using namespace gpushare;

namespace {

class TestDialect : public k8s::ExtenderDialect {
 public:
  std::string name() const override { return "test"; }
  Node node_from_json(const json& j) const override {
    Node n{j.at("metadata").at("name").get<std::string>(), 64000, 262144, {}, {}};
    const int count = std::stoi(j.at("status").at("capacity").at("example.com/gpu").get<std::string>());
    for (int i = 0; i < count; ++i) n.gpus.push_back({i, "T4", 1000, 16384});
    return n;
  }
  Request request_from_pod(const json& pod) const override {
    Request r;
    r.name = pod.at("metadata").at("namespace").get<std::string>() + "/" + pod.at("metadata").at("name").get<std::string>();
    const json& lim = pod.at("spec").at("containers").at(0).at("resources").at("limits");
    r.gpu = {1, std::stoll(lim.at("example.com/gpu-milli").get<std::string>()), 0};
    return r;
  }
  std::map<std::string, std::string> bind_annotations(const json&, const Placement& p) const override {
    return {{"example.com/gpu-index", std::to_string(p.gpus.at(0))}};
  }
};

json node(const std::string& name, int gpus) {
  return {{"metadata", {{"name", name}}}, {"status", {{"capacity", {{"example.com/gpu", std::to_string(gpus)}}}}}};
}
json pod(const std::string& name, int milli) {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", "uid-" + name}}},
          {"spec", {{"containers", {{{"resources", {{"limits", {{"example.com/gpu-milli", std::to_string(milli)}}}}}}}}}}};
}
std::string temp_path(const char* tag) {
  std::string p = std::string("/tmp/gpushare_ext_") + tag + "_" + std::to_string(::getpid());
  std::remove(p.c_str());
  return p;
}

}  // namespace

TEST_CASE("filter, prioritize and bind follow the policy and write annotations", "[extender]") {
  const std::string binds = temp_path("binds"), state = temp_path("state");
  auto binder = std::make_shared<k8s::JournalBinder>(binds);
  k8s::ExtenderService svc(std::make_shared<TestDialect>(), make_policy("best-fit"), binder, state);
  svc.upsert_node(node("a", 1));
  svc.upsert_node(node("b", 2));

  json args = {{"Pod", pod("p1", 600)}, {"NodeNames", {"a", "b", "zz"}}};
  json f = svc.filter(args);
  CHECK(f["NodeNames"] == json({"a", "b"}));
  CHECK(f["FailedNodes"]["zz"] == "node zz: not known to the gpushare extender");
  CHECK(f["Error"] == "");
  json pr = svc.prioritize(args);
  CHECK(pr == json::parse(R"([{"Host":"a","Score":10},{"Host":"b","Score":10},{"Host":"zz","Score":0}])"));
  json b = svc.bind({{"PodName", "p1"}, {"PodNamespace", "ns"}, {"PodUID", "uid-p1"}, {"Node", "a"}});
  CHECK(b["Error"] == "");
  // a now has 400 free; a 500 share fails there with the reason, b passes.
  json f2 = svc.filter({{"Pod", pod("p2", 500)}, {"NodeNames", {"a", "b"}}});
  CHECK(f2["NodeNames"] == json({"b"}));
  CHECK(f2["FailedNodes"]["a"] == "node a: no single GPU has 500 milli-GPU free (largest free 400 milli-GPU); total free 400 milli-GPU");
  // Best fit prefers the fuller node for a share that fits both.
  json pr3 = svc.prioritize({{"Pod", pod("p3", 300)}, {"NodeNames", {"a", "b"}}});
  CHECK(pr3[0]["Score"] == 10);
  CHECK(pr3[1]["Score"] == 0);
  auto insp = svc.inspect();
  CHECK(insp["total"]["milli_used"] == 600);
  CHECK(insp["nodes"][0]["pods"] == json({"ns/p1"}));
  CHECK(insp["pending_pods"] == json({"ns/p2", "ns/p3"}));
  // Restart: a new service with the same journal recovers the allocation.
  k8s::ExtenderService again(std::make_shared<TestDialect>(), make_policy("best-fit"), binder, state);
  again.upsert_node(node("a", 1));
  again.upsert_node(node("b", 2));
  auto rep = again.recover();
  CHECK(rep.applied == 1);
  CHECK(again.cluster().snapshot() == svc.cluster().snapshot());
  CHECK(svc.forget_pod("ns", "p1"));
  CHECK_FALSE(svc.forget_pod("ns", "p1"));
  std::remove(binds.c_str());
  std::remove(state.c_str());
}

TEST_CASE("bad requests come back as errors and change nothing", "[extender]") {
  k8s::ExtenderService svc(std::make_shared<TestDialect>(), make_policy("binpack"), std::make_shared<k8s::JournalBinder>(temp_path("b2")));
  svc.upsert_node(node("a", 1));
  const auto before = svc.cluster().snapshot();
  CHECK_THAT(svc.filter(json::array())["Error"].get<std::string>(), Catch::Contains("expected a JSON object"));
  CHECK_THAT(svc.bind({{"PodName", "ghost"}, {"PodNamespace", "ns"}, {"Node", "a"}})["Error"].get<std::string>(),
             Catch::Contains("pod not seen by filter"));
  svc.filter({{"Pod", pod("p", 100)}, {"NodeNames", {"a"}}});
  CHECK_THAT(svc.bind({{"PodName", "p"}, {"PodNamespace", "ns"}, {"Node", "nope"}})["Error"].get<std::string>(),
             Catch::Contains("unknown node 'nope'"));
  CHECK(svc.cluster().snapshot() == before);
}

TEST_CASE("concurrent binds for the same GPU never double-allocate", "[extender][concurrency]") {
  k8s::ExtenderService svc(std::make_shared<TestDialect>(), make_policy("best-fit"), std::make_shared<k8s::JournalBinder>(temp_path("b3")));
  svc.upsert_node(node("a", 1));
  const int pods = 16;
  for (int k = 0; k < pods; ++k) {
    json f = svc.filter({{"Pod", pod("p" + std::to_string(k), 300)}, {"NodeNames", {"a"}}});
    REQUIRE(f["NodeNames"] == json({"a"}));  // every pod fits alone: 300 of 1000
  }
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < pods; ++k) {
    threads.emplace_back([&, k] {
      json r = svc.bind({{"PodName", "p" + std::to_string(k)}, {"PodNamespace", "ns"}, {"Node", "a"}});
      (r["Error"] == "" ? ok : refused)++;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 3);  // 3 x 300 fit in 1000
  CHECK(refused == pods - 3);
  CHECK(svc.cluster().free_milli(0, 0) == 100);
}

namespace {
class FailingBinder : public k8s::Binder {
 public:
  void bind(const std::string&, const std::string&, const std::string&, const std::string&,
            const std::map<std::string, std::string>&) override {
    throw Error(ErrorKind::conflict, "API server said no");
  }
};
}  // namespace

// The service journals an allocation before it calls the Binder. A service killed after that
// write but before answering comes back holding the pod, while the scheduler still has it
// pending: the pod must be judged as if it held nothing and its next bind must replace the held
// allocation, never add a second one.
TEST_CASE("write-ahead bind: a held allocation from before a crash is replaced, never doubled", "[extender]") {
  const std::string state = temp_path("wal"), binds = temp_path("wal_binds");
  auto fresh = [&] {
    auto s = std::make_unique<k8s::ExtenderService>(std::make_shared<TestDialect>(), make_policy("best-fit"),
                                                    std::make_shared<k8s::JournalBinder>(binds), state);
    s->upsert_node(node("a", 1));
    s->upsert_node(node("b", 1));
    REQUIRE(s->recover().problems.empty());
    return s;
  };
  {
    auto first = fresh();
    REQUIRE(first->filter({{"Pod", pod("p", 1000)}, {"NodeNames", {"a"}}})["NodeNames"] == json{"a"});
    REQUIRE(first->bind({{"PodName", "p"}, {"PodNamespace", "ns"}, {"Node", "a"}})["Error"] == "");
  }  // "killed" here: the answer never reached the scheduler, which retries the pod
  auto second = fresh();
  REQUIRE(second->cluster().allocation("ns/p") != nullptr);
  // Node a is full only because of p itself: p still fits there.
  auto f = second->filter({{"Pod", pod("p", 1000)}, {"NodeNames", {"a", "b"}}});
  REQUIRE(f["NodeNames"] == json({"a", "b"}));
  REQUIRE(second->cluster().free_milli(0, 0) == 0);  // and it still holds a while pending
  // Another pod does not see a's GPU as free.
  REQUIRE(second->filter({{"Pod", pod("q", 1000)}, {"NodeNames", {"a"}}})["NodeNames"] == json::array());
  // The scheduler now picks b: p moves, it never holds both.
  REQUIRE(second->bind({{"PodName", "p"}, {"PodNamespace", "ns"}, {"Node", "b"}})["Error"] == "");
  const Cluster c = second->cluster();
  REQUIRE(c.allocation_count() == 1);
  REQUIRE(c.allocation("ns/p")->node == "b");
  REQUIRE(c.free_milli(0, 0) == 1000);
  second.reset();
  auto third = fresh();  // the journal says the same
  REQUIRE(third->cluster().allocation_count() == 1);
  REQUIRE(third->cluster().allocation("ns/p")->node == "b");
  std::remove(state.c_str());
  std::remove(binds.c_str());
}

TEST_CASE("a bind the Binder refuses leaves nothing allocated, in memory or in the journal", "[extender]") {
  const std::string state = temp_path("refused");
  {
    k8s::ExtenderService svc(std::make_shared<TestDialect>(), make_policy("best-fit"), std::make_shared<FailingBinder>(), state);
    svc.upsert_node(node("a", 1));
    svc.filter({{"Pod", pod("p", 500)}, {"NodeNames", {"a"}}});
    auto b = svc.bind({{"PodName", "p"}, {"PodNamespace", "ns"}, {"Node", "a"}});
    REQUIRE_THAT(b["Error"].get<std::string>(), Catch::Contains("API server said no"));
    REQUIRE(svc.cluster().allocation_count() == 0);
  }
  k8s::ExtenderService again(std::make_shared<TestDialect>(), make_policy("best-fit"), std::make_shared<FailingBinder>(), state);
  again.upsert_node(node("a", 1));
  auto report = again.recover();
  REQUIRE(report.problems.empty());
  REQUIRE(report.applied == 2);  // the allocation and its release
  REQUIRE(again.cluster().allocation_count() == 0);
  std::remove(state.c_str());
}

namespace {
// Refuses binds with a non-gpushare exception (a user Binder may throw anything).
class ThrowingBinder : public k8s::Binder {
 public:
  void bind(const std::string&, const std::string&, const std::string&, const std::string&,
            const std::map<std::string, std::string>&) override {
    throw std::runtime_error("already assigned to another node");
  }
};
class OddBinder : public k8s::Binder {
 public:
  void bind(const std::string&, const std::string&, const std::string&, const std::string&,
            const std::map<std::string, std::string>&) override {
    throw 42;  // not even a std::exception
  }
};
}  // namespace

// Review finding: only gpushare::Error undid a failed bind, so another exception from the Binder
// left the pod allocated; and a bind replacing a held allocation dropped the held one before
// knowing whether the new bind succeeded (the API server refuses a second bind of a pod the first
// one did reach, and the pod keeps running where it was).
TEST_CASE("a failed bind undoes everything, whatever it throws, and gives back a held allocation", "[extender]") {
  const std::string state = temp_path("undo");
  auto service = [&](std::shared_ptr<k8s::Binder> b) {
    auto s = std::make_unique<k8s::ExtenderService>(std::make_shared<TestDialect>(), make_policy("best-fit"), b, state);
    s->upsert_node(node("a", 1));
    s->upsert_node(node("b", 1));
    REQUIRE(s->recover().problems.empty());
    return s;
  };
  {
    auto svc = service(std::make_shared<ThrowingBinder>());
    svc->filter({{"Pod", pod("x", 400)}, {"NodeNames", {"a"}}});
    auto b = svc->bind({{"PodName", "x"}, {"PodNamespace", "ns"}, {"Node", "a"}});
    REQUIRE_THAT(b["Error"].get<std::string>(), Catch::Contains("already assigned to another node"));
    REQUIRE(svc->cluster().allocation_count() == 0);
  }
  {
    auto svc = service(std::make_shared<OddBinder>());
    svc->filter({{"Pod", pod("y", 400)}, {"NodeNames", {"a"}}});
    auto b = svc->bind({{"PodName", "y"}, {"PodNamespace", "ns"}, {"Node", "a"}});
    REQUIRE_THAT(b["Error"].get<std::string>(), Catch::Contains("not a std::exception"));
    REQUIRE(svc->cluster().allocation_count() == 0);
  }
  {
    auto svc = service(std::make_shared<k8s::JournalBinder>(temp_path("undo_binds")));
    svc->filter({{"Pod", pod("p", 1000)}, {"NodeNames", {"a"}}});
    REQUIRE(svc->bind({{"PodName", "p"}, {"PodNamespace", "ns"}, {"Node", "a"}})["Error"] == "");
  }  // killed before answering: p is held on a
  {
    auto svc = service(std::make_shared<ThrowingBinder>());
    REQUIRE(svc->cluster().allocation("ns/p")->node == "a");
    svc->filter({{"Pod", pod("p", 1000)}, {"NodeNames", {"b"}}});
    auto b = svc->bind({{"PodName", "p"}, {"PodNamespace", "ns"}, {"Node", "b"}});
    REQUIRE_THAT(b["Error"].get<std::string>(), Catch::Contains("already assigned"));
    const Cluster c = svc->cluster();
    REQUIRE(c.allocation_count() == 1);
    REQUIRE(c.allocation("ns/p")->node == "a");  // given back, not dropped
    REQUIRE(c.free_milli(1, 0) == 1000);
  }
  auto after = service(std::make_shared<ThrowingBinder>());  // and the journal agrees
  REQUIRE(after->cluster().allocation_count() == 1);
  REQUIRE(after->cluster().allocation("ns/p")->node == "a");
  std::remove(state.c_str());
}
