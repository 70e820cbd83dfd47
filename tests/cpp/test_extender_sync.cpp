// ExtenderService::sync_from_api: the API server's nodes and pods are the truth; the service's
// own binds that the pod list does not show yet stay allocated on top, exactly once.
#include <gpushare/k8s/extender_dialects.hpp>
#include <gpushare/k8s/extender_service.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <memory>

using namespace gpushare;
using namespace gpushare::k8s;

namespace {

nlohmann::json node(const std::string& name, int count, int gib_each) {
  const nlohmann::json res = {{"cpu", "32"}, {"memory", "128Gi"}, {"aliyun.com/gpu-count", std::to_string(count)},
                              {"aliyun.com/gpu-mem", std::to_string(count * gib_each)}};
  return {{"metadata", {{"name", name}}}, {"status", {{"capacity", res}, {"allocatable", res}}}};
}

nlohmann::json pod(const std::string& name, int gib, const std::string& uid = "") {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"uid", uid.empty() ? "uid-" + name : uid}}},
          {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"limits", {{"aliyun.com/gpu-mem", std::to_string(gib)}}}}}}}}}}};
}

// The pod as the API server shows it after the bind: node and annotations.
nlohmann::json bound(nlohmann::json p, const std::string& node_name, int gpu, int gib) {
  p["spec"]["nodeName"] = node_name;
  p["metadata"]["annotations"] = {{"ALIYUN_COM_GPU_MEM_IDX", std::to_string(gpu)}, {"ALIYUN_COM_GPU_MEM_POD", std::to_string(gib)},
                                  {"ALIYUN_COM_GPU_MEM_DEV", "16"}, {"ALIYUN_COM_GPU_MEM_ASSIGNED", "false"}};
  return p;
}

std::int64_t used_mib(const ExtenderService& s) { return s.inspect()["total"]["mib_used"].get<std::int64_t>(); }

struct Fixture {
  ExtenderService svc{make_extender_dialect("aliyun"), make_policy("best-fit"), std::make_shared<JournalBinder>("/dev/null")};
  void bind(const nlohmann::json& p, const std::string& n) {
    svc.filter({{"Pod", p}, {"NodeNames", {n}}});
    const auto& m = p["metadata"];
    const auto r = svc.bind({{"PodName", m["name"]}, {"PodNamespace", "ns"}, {"PodUID", m["uid"]}, {"Node", n}});
    REQUIRE(r.value("Error", "") == "");
  }
};

}  // namespace

TEST_CASE("sync_from_api rebuilds from nodes and annotations; terminal and deleted pods hold nothing", "[extender][sync]") {
  Fixture f;
  auto rep = f.svc.sync_from_api({node("a", 2, 16), node("b", 4, 8)},
                                 {bound(pod("x", 12), "a", 1, 12), bound(pod("y", 4), "b", 0, 4)});
  CHECK(rep.nodes == 2);
  CHECK(rep.placements == 2);
  CHECK(rep.problems.empty());
  CHECK(used_mib(f.svc) == 16 * 1024);
  auto done = bound(pod("x", 12), "a", 1, 12);
  done["status"]["phase"] = "Succeeded";
  f.svc.sync_from_api({node("a", 2, 16), node("b", 4, 8)}, {done});
  CHECK(used_mib(f.svc) == 0);
  // A node removed goes; a bound pod pointing at a GPU the node no longer has is reported.
  rep = f.svc.sync_from_api({node("b", 1, 8)}, {bound(pod("y", 4), "b", 3, 4), pod("pending", 4)});
  CHECK(f.svc.cluster().size() == 1);
  REQUIRE(rep.problems.size() == 1);  // the pending pod is not a problem
  CHECK(rep.problems[0].find("ns/y") != std::string::npos);
}

TEST_CASE("sync_from_api keeps this service's binds the watch has not shown yet, exactly once", "[extender][sync]") {
  Fixture f;
  const std::vector<nlohmann::json> nodes = {node("a", 2, 16)};
  f.svc.sync_from_api(nodes, {});
  const auto p = pod("p", 16);
  f.bind(p, "a");
  CHECK(used_mib(f.svc) == 16 * 1024);
  // The pod list lags: the pod is there but unbound, or not there yet.  Still allocated.
  f.svc.sync_from_api(nodes, {p});
  CHECK(used_mib(f.svc) == 16 * 1024);
  f.svc.sync_from_api(nodes, {});
  CHECK(used_mib(f.svc) == 16 * 1024);
  // Another 16 GiB pod cannot have the same GPU meanwhile.
  const auto q = pod("q", 16);
  f.bind(q, "a");
  CHECK(used_mib(f.svc) == 32 * 1024);
  const auto r = pod("r", 16);
  f.svc.filter({{"Pod", r}, {"NodeNames", {"a"}}});
  CHECK(f.svc.bind({{"PodName", "r"}, {"PodNamespace", "ns"}, {"PodUID", "uid-r"}, {"Node", "a"}})["Error"].get<std::string>() != "");
  // The watch shows both bound: counted once each, from the annotations.
  const int gp = f.svc.cluster().allocation("ns/p")->gpus.at(0);
  f.svc.sync_from_api(nodes, {bound(p, "a", gp, 16), bound(q, "a", 1 - gp, 16)});
  CHECK(used_mib(f.svc) == 32 * 1024);
  CHECK(f.svc.cluster().allocation_count() == 2);
  // Deleted: freed.
  f.svc.sync_from_api(nodes, {bound(q, "a", 1 - gp, 16)});
  CHECK(used_mib(f.svc) == 16 * 1024);
}

TEST_CASE("sync_from_api drops an in-flight bind whose pod was recreated or has been absent too long", "[extender][sync]") {
  Fixture f;
  const std::vector<nlohmann::json> nodes = {node("a", 1, 16)};
  f.svc.sync_from_api(nodes, {});
  f.bind(pod("p", 8), "a");
  f.svc.sync_from_api(nodes, {pod("p", 8, "another-uid")});
  CHECK(used_mib(f.svc) == 0);
  f.bind(pod("s", 8), "a");
  f.svc.sync_from_api(nodes, {}, std::chrono::seconds(30));
  CHECK(used_mib(f.svc) == 8 * 1024);
  f.svc.sync_from_api(nodes, {}, std::chrono::seconds(0));
  CHECK(used_mib(f.svc) == 0);
}

TEST_CASE("offline restart without --nodes: the journal is applied once the nodes are known, no overcommit", "[extender][journal]") {
  char tmpl[] = "/tmp/gpushare-sync-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string journal = dir + "/state.jsonl";
  auto make = [&] {
    return std::make_unique<ExtenderService>(make_extender_dialect("aliyun"), make_policy("best-fit"),
                                             std::make_shared<JournalBinder>(dir + "/binds.jsonl"), journal);
  };
  const nlohmann::json n16 = node("n16", 2, 16), n8 = node("n8", 4, 8);
  auto bind = [](ExtenderService& s, const nlohmann::json& p, const nlohmann::json& nodes) {
    s.filter({{"Pod", p}, {"Nodes", {{"items", nodes}}}});
    const auto& m = p["metadata"];
    return s.bind({{"PodName", m["name"]}, {"PodNamespace", "ns"}, {"PodUID", m["uid"]}, {"Node", "n16"}}).value("Error", "");
  };
  {
    auto s = make();
    s->recover();
    REQUIRE(bind(*s, pod("a", 16), {n16, n8}) == "");
  }
  // Restarted with no node list: the journal names n16, unknown yet; nothing is lost.
  auto s = make();
  const auto rep = s->recover();
  CHECK(rep.applied == 0);
  CHECK_FALSE(rep.problems.empty());
  // kube-scheduler (nodeCacheCapable: false) sends the nodes with the first call: the journal
  // applies then, and the next two 16 GiB pods do not share a GPU.
  CHECK(bind(*s, pod("b", 16), {n8, n16}) == "");
  CHECK(bind(*s, pod("c", 16), {n8, n16}) != "");
  CHECK(used_mib(*s) == 32 * 1024);
  const auto c = s->cluster();
  CHECK(c.allocation("ns/a")->gpus != c.allocation("ns/b")->gpus);
  CHECK(s->inspect()["dropped_allocations"].empty());
}

TEST_CASE("decide at filter (gpu-admission timing): one node passes, annotated once, a re-filter moves it", "[extender][filter]") {
  char tmpl[] = "/tmp/gpushare-filter-XXXXXX";
  const std::string binds = std::string(mkdtemp(tmpl)) + "/binds.jsonl";
  ExtenderService svc(make_extender_dialect("aliyun"), make_policy("best-fit"), std::make_shared<JournalBinder>(binds));
  svc.set_decide_at_filter(true);
  svc.upsert_node(node("a", 2, 16));
  svc.upsert_node(node("b", 4, 8));
  auto out = svc.filter({{"Pod", pod("p", 12)}, {"NodeNames", {"a", "b"}}});
  REQUIRE(out["NodeNames"] == nlohmann::json{"a"});  // only n16-class GPUs hold 12 GiB
  CHECK(used_mib(svc) == 12 * 1024);
  CHECK(svc.pending_pods().empty());
  // Filtered again (the scheduler's bind failed): judged as holding nothing, still held once.
  out = svc.filter({{"Pod", pod("p", 12)}, {"NodeNames", {"a", "b"}}});
  CHECK(out["NodeNames"] == nlohmann::json{"a"});
  CHECK(used_mib(svc) == 12 * 1024);
  CHECK(svc.cluster().allocation_count() == 1);
  // A 4 GiB pod: best-fit picks the tightest node; the others fail naming it.
  out = svc.filter({{"Pod", pod("q", 4)}, {"NodeNames", {"a", "b"}}});
  REQUIRE(out["NodeNames"].size() == 1);
  const std::string chosen = out["NodeNames"][0];
  const std::string other = chosen == "a" ? "b" : "a";
  CHECK(out["FailedNodes"][other].get<std::string>().find("placed the pod on node " + chosen + " at filter time") != std::string::npos);
  std::ifstream in(binds);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    CHECK(j["bound"] == false);
    CHECK(j["annotations"].contains("ALIYUN_COM_GPU_MEM_IDX"));
    ++lines;
  }
  CHECK(lines == 3);
}
