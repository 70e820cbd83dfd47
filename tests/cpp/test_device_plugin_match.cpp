// The device plugin's pure logic: GPU inventories, advertised devices, whole-GPU preferred
// allocation and the aliyun.com/gpu-mem Allocate -> pod matching (node/*.hpp).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <random>
#include <typeinfo>

#include "gpushare/node/aliyun_match.hpp"

using namespace gpushare;
using namespace gpushare::node;
using nlohmann::json;

namespace {

std::string uuid(int i) { return "GPU-0000000" + std::to_string(i) + "-aaaa-bbbb-cccc-dddddddddddd"; }

GpuInventory inventory(int n, std::int64_t mib = 16384) {
  json g = json::array();
  for (int i = 0; i < n; ++i) g.push_back({{"index", i}, {"uuid", uuid(i)}, {"memory_mib", mib}, {"model", "Tesla-V100"}});
  return inventory_from_json({{"gpus", g}}, "test");
}

// A pod as the extender leaves it after bind: on the node, with the aliyun annotations.
json pod(const std::string& name, std::vector<std::int64_t> app_units, int gpu, std::int64_t assume,
         std::vector<std::int64_t> init_units = {}, const std::string& node = "n1") {
  json cs = json::array(), ics = json::array();
  std::int64_t total = 0;
  for (std::size_t i = 0; i < app_units.size(); ++i) {
    json c = {{"name", "c" + std::to_string(i)}};
    if (app_units[i] > 0) c["resources"] = {{"limits", {{"aliyun.com/gpu-mem", std::to_string(app_units[i])}}}};
    total += app_units[i];
    cs.push_back(c);
  }
  for (std::size_t i = 0; i < init_units.size(); ++i)
    ics.push_back({{"name", "i" + std::to_string(i)}, {"resources", {{"limits", {{"aliyun.com/gpu-mem", init_units[i]}}}}}});
  json ann = json::object();
  for (const auto& kv : k8s::aliyun_bind_annotations(gpu, total, 16, assume)) ann[kv.first] = kv.second;
  json p = {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}, {"annotations", ann}}},
            {"spec", {{"nodeName", node}, {"containers", cs}}},
            {"status", {{"phase", "Pending"}}}};
  if (!ics.empty()) p["spec"]["initContainers"] = ics;
  return p;
}

// The API server stand-in: a pod list; patches are applied unless `lag` (the server has not
// reflected them yet) and can be made to fail.
struct MemPods : PodSource {
  json pods = json::array();
  bool lag = false, fail_patch = false, fail_list = false;
  std::vector<std::string> patched;
  json list_pods(const std::string&) override {
    if (fail_list) throw Error(ErrorKind::not_found, "connection refused");
    return {{"kind", "PodList"}, {"items", pods}};
  }
  void patch_annotations(const std::string& ns, const std::string& name, const std::map<std::string, std::string>& a) override {
    if (fail_patch) throw Error(ErrorKind::conflict, "409 Conflict");
    patched.push_back(ns + "/" + name);
    if (lag) return;
    for (auto& p : pods)
      if (p["metadata"]["name"] == name)
        for (const auto& kv : a) p["metadata"]["annotations"][kv.first] = kv.second;
  }
};

// The kubelet's pod-resources view, as the kubelet keeps it: a pod appears when the kubelet adds
// it to its pod manager (just before admission); its devices appear after Allocate.
struct MemKubelet : KubeletView {
  std::vector<KubeletPod> pods;
  bool down = false;
  std::optional<std::vector<KubeletPod>> list() override {
    if (down) return std::nullopt;
    return pods;
  }
  void admit(const std::string& name) { pods.push_back({"default", name, {}}); }
  void record(const std::string& name, const std::string& container, const std::vector<std::string>& ids) {
    for (auto& p : pods)
      if (p.name == name) p.containers[container]["aliyun.com/gpu-mem"] = ids;
  }
};

std::vector<std::string> ids(int gpu, int from, int n) {
  std::vector<std::string> v;
  for (int k = from; k < from + n; ++k) v.push_back(mem_device_id(uuid(gpu), k));
  return v;
}

}  // namespace

TEST_CASE("fake-GPU inventory: fields, topology and clear errors") {
  auto inv = inventory(2, 16160);
  CHECK(inv.gpus.size() == 2);
  CHECK(inv.gpus[1].uuid == uuid(1));
  CHECK(inv.topology.size() == 2);
  CHECK(gpu_mem_units(inv.gpus[0], false) == 15);
  CHECK(gpu_mem_units(inv.gpus[0], true) == 16160);

  auto bad = [](json j) { return inventory_from_json(j, "fake-gpus f.json"); };
  CHECK_THROWS_WITH(bad({{"gpus", 3}}), Catch::Contains("'gpus' missing or not an array"));
  CHECK_THROWS_WITH(bad({{"gpus", {{{"uuid", "GPU-1"}}}}}), Catch::Contains("gpus[0].memory_mib: missing"));
  CHECK_THROWS_WITH(bad({{"gpus", {{{"uuid", "GPU-1"}, {"memory_mib", -5}}}}}), Catch::Contains("gpus[0].memory_mib"));
  CHECK_THROWS_WITH(bad({{"gpus", {{{"uuid", "GPU-1"}, {"memory_mib", 5}}, {{"uuid", "GPU-1"}, {"memory_mib", 5}}}}}),
                    Catch::Contains("listed twice"));
  CHECK_THROWS_WITH(bad({{"gpus", {{{"uuid", "GPU 1"}, {"memory_mib", 5}}}}}), Catch::Contains("character"));
  CHECK_THROWS_WITH(bad({{"gpus", {{{"index", 1}, {"uuid", "GPU-1"}, {"memory_mib", 5}}}}}), Catch::Contains("index 1"));
  CHECK_THROWS_WITH(bad({{"gpus", {{{"uuid", "GPU-1"}, {"memory_mib", 5}}}}, {"topology", {{"gpus", 2}}}}),
                    Catch::Contains("f.json: topology: "));

  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/topology/dgx1-volta.json");
  json topo = json::parse(f);
  json g = json::array();
  for (int i = 0; i < 8; ++i) g.push_back({{"uuid", uuid(i)}, {"memory_mib", 16384}});
  auto dgx = inventory_from_json({{"gpus", g}, {"topology", topo}}, "dgx");
  CHECK(dgx.topology.nvlink()(0, 3) > 0);
}

TEST_CASE("nvidia-smi --query-gpu CSV") {
  auto g = parse_smi_query_csv("0, GPU-a1, 16160, Tesla V100-SXM2-16GB\n1, GPU-b2, 81920, NVIDIA A100, 80GB PCIe\n\n");
  REQUIRE(g.size() == 2);
  CHECK(g[0].uuid == "GPU-a1");
  CHECK(g[0].mib == 16160);
  CHECK(g[1].model == "NVIDIA A100, 80GB PCIe");
  CHECK_THROWS_WITH(parse_smi_query_csv("0, GPU-a, 16160 MiB, T4\n"), Catch::Contains("line 1") && Catch::Contains("nounits"));
  CHECK_THROWS_WITH(parse_smi_query_csv("0, GPU-a\n"), Catch::Contains("expected 4 fields"));
}

TEST_CASE("advertised devices: one per memory unit (GiB or MiB) or per GPU, health follows the GPU") {
  auto inv = inventory(2, 4096);
  inv.gpus[1].healthy = false;
  auto mem = advertised_devices(inv, Resource::AliyunMem, false);
  REQUIRE(mem.size() == 8);
  CHECK(mem[0].id == uuid(0) + "-_-0");
  CHECK(mem[0].healthy);
  CHECK_FALSE(mem[7].healthy);
  CHECK(advertised_devices(inv, Resource::AliyunMem, true).size() == 8192);
  auto count = advertised_devices(inv, Resource::AliyunCount, false);
  REQUIRE(count.size() == 2);
  CHECK(count[1].id == uuid(1));
  CHECK_FALSE(count[1].healthy);
  CHECK(gpu_of_mem_device(inv, uuid(1) + "-_-3", false) == 1);
  for (const char* bad : {"-_-4", "-_-01", "-_-", "-_--1", "-_-x", "x"})
    CHECK_THROWS_AS(gpu_of_mem_device(inv, uuid(1) + bad, false), InvalidArgument);
}

TEST_CASE("nvidia dialect: preferred allocation is the nvidia mode's set; Allocate returns the chosen GPUs") {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/topology/dgx1-volta.json");
  json g = json::array();
  for (int i = 0; i < 8; ++i) g.push_back({{"uuid", uuid(i)}, {"memory_mib", 16384}});
  auto inv = inventory_from_json({{"gpus", g}, {"topology", json::parse(f)}}, "dgx");
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<int> avail;
    for (int i = 0; i < 8; ++i)
      if (rng() % 3 != 0) avail.push_back(i);
    if (avail.empty()) continue;
    const int size = 1 + static_cast<int>(rng() % avail.size());
    std::vector<int> req;
    if (rng() % 2) req.push_back(avail[rng() % avail.size()]);
    std::vector<std::string> a, r;
    for (int i : avail) a.push_back(uuid(i));
    for (int i : req) r.push_back(uuid(i));
    auto want = nvidia_besteffort(inv.topology, avail, req, size);
    std::vector<std::string> want_ids;
    for (int i : want) want_ids.push_back(uuid(i));
    CHECK(nvidia_preferred(inv, a, r, size) == want_ids);
    auto ts = nvidia_preferred(inv, a, r, size, PreferPolicy::TopologySet);
    CHECK(static_cast<int>(ts.size()) == size);
    for (const auto& id : r) CHECK(std::count(ts.begin(), ts.end(), id) == 1);
  }
  CHECK_THROWS_WITH(nvidia_preferred(inv, {uuid(0), "GPU-nope"}, {}, 1), Catch::Contains("'GPU-nope' is not a GPU"));
  CHECK_THROWS_WITH(nvidia_preferred(inv, {uuid(0)}, {uuid(1)}, 1), Catch::Contains("not among available"));
  CHECK_THROWS_WITH(nvidia_preferred(inv, {uuid(0), uuid(1)}, {}, 3), Catch::Contains("allocation_size 3"));
  CHECK_THROWS_WITH(nvidia_preferred(inv, {uuid(0), uuid(0)}, {}, 1), Catch::Contains("listed twice"));

  CHECK(nvidia_allocate(inv, {uuid(2), uuid(5)}).at("NVIDIA_VISIBLE_DEVICES") == uuid(2) + "," + uuid(5));
  CHECK_THROWS_AS(nvidia_allocate(inv, {}), InvalidArgument);
  inv.gpus[5].healthy = false;
  CHECK_THROWS_WITH(nvidia_allocate(inv, {uuid(2), uuid(5)}), Catch::Contains("GPU 5") && Catch::Contains("unhealthy"));
}

TEST_CASE("aliyun: three pods, two of the same size, Allocate in another order than binding") {
  auto inv = inventory(2);
  MemPods api;
  api.pods = {pod("a", {2}, 0, 100), pod("b", {2}, 1, 200), pod("c", {4}, 1, 300)};
  MemKubelet kubelet;
  AliyunMatcher m("n1", api, &kubelet);
  // The kubelet admits b, then c, then a (e.g. it saw them in that order); a is the older bind.
  kubelet.admit("b");
  auto eb = m.allocate(inv, {ids(0, 0, 2)});  // device IDs name GPU 0's units: irrelevant to the GPU
  CHECK(eb.at(0).at("NVIDIA_VISIBLE_DEVICES") == uuid(1));
  CHECK(eb.at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  CHECK(eb.at(0).at("ALIYUN_COM_GPU_MEM_POD") == "2");
  CHECK(eb.at(0).at("ALIYUN_COM_GPU_MEM_CONTAINER") == "2");
  CHECK(eb.at(0).at("ALIYUN_COM_GPU_MEM_DEV") == "16");
  kubelet.record("b", "c0", ids(0, 0, 2));
  kubelet.admit("c");
  CHECK(m.allocate(inv, {ids(1, 0, 4)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  kubelet.record("c", "c0", ids(1, 0, 4));
  kubelet.admit("a");
  CHECK(m.allocate(inv, {ids(1, 4, 2)}).at(0).at("NVIDIA_VISIBLE_DEVICES") == uuid(0));
  CHECK(api.patched == std::vector<std::string>{"default/b", "default/c", "default/a"});
  for (const auto& p : api.pods) CHECK(p["metadata"]["annotations"]["ALIYUN_COM_GPU_MEM_ASSIGNED"] == "true");
  CHECK(m.served() == std::map<std::string, int>{{"default/a", 1}, {"default/b", 1}, {"default/c", 1}});
  // A fourth call matches nothing: the error names node, size and candidates; no guess.
  CHECK_THROWS_WITH(m.allocate(inv, {ids(0, 2, 2)}), Catch::Contains("node n1") && Catch::Contains("gpu-mem=2 GiB") &&
                                                         Catch::Contains("default/a (gpu 0, containers c0=2, served 1/1)"));
}

TEST_CASE("aliyun: without the kubelet's view the oldest bind is taken (the documented fallback)") {
  auto inv = inventory(2);
  MemPods api;
  api.pods = {pod("b", {2}, 1, 200), pod("a", {2}, 0, 100)};
  MemPods api2;
  api2.pods = api.pods;
  AliyunMatcher m("n1", api, nullptr);
  CHECK(m.allocate(inv, {ids(0, 0, 2)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "0");
  MemKubelet down;
  down.down = true;
  AliyunMatcher m2("n1", api2, &down);
  CHECK(m2.allocate(inv, {ids(0, 0, 2)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "0");
}

TEST_CASE("aliyun: never the same pod twice, even before the API server shows the patch") {
  auto inv = inventory(2);
  MemPods api;
  api.lag = true;
  api.pods = {pod("a", {3}, 0, 100), pod("b", {3}, 1, 200)};
  AliyunMatcher m("n1", api, nullptr, {false, 0});  // no cache: every call lists again
  CHECK(m.allocate(inv, {ids(0, 0, 3)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "0");
  CHECK(m.allocate(inv, {ids(0, 3, 3)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  CHECK_THROWS_AS(m.allocate(inv, {ids(0, 6, 3)}), NotFound);
  CHECK(api.patched.size() == 2);
}

TEST_CASE("aliyun: multi-container pods get their per-container amounts on the pod's GPU, init containers first") {
  auto inv = inventory(2);
  MemPods api;
  api.pods = {pod("m", {1, 0, 3}, 1, 100, {2})};
  AliyunMatcher m("n1", api, nullptr);
  std::vector<std::string> got;
  for (int units : {2, 1, 3}) {
    auto e = m.allocate(inv, {ids(0, 0, units)}).at(0);
    CHECK(e.at("ALIYUN_COM_GPU_MEM_IDX") == "1");
    CHECK(e.at("ALIYUN_COM_GPU_MEM_POD") == "4");  // app containers, as the extender annotates
    got.push_back(e.at("ALIYUN_COM_GPU_MEM_CONTAINER"));
  }
  CHECK(got == std::vector<std::string>{"2", "1", "3"});
  CHECK(api.patched == std::vector<std::string>{"default/m"});
  // A second pod's first container is not taken for the rest of a pod in progress, and a call
  // whose size fits no next container is refused.
  api.pods.push_back(pod("n", {1, 5}, 0, 50));
  CHECK_THROWS_AS(m.allocate(inv, {ids(0, 0, 5)}), NotFound);
  CHECK(m.allocate(inv, {ids(0, 0, 1)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "0");
  CHECK(m.allocate(inv, {ids(0, 0, 5)}).at(0).at("ALIYUN_COM_GPU_MEM_CONTAINER") == "5");
  // Two container requests in one call: both matched or neither.
  api.pods.push_back(pod("p", {2, 2}, 0, 10));
  auto both = m.allocate(inv, {ids(0, 0, 2), ids(0, 2, 2)});
  CHECK(both.size() == 2);
  CHECK(both[1].at("ALIYUN_COM_GPU_MEM_IDX") == "0");
}

TEST_CASE("aliyun: after a plugin restart, a pod part-way through its containers is continued from the kubelet's view") {
  auto inv = inventory(2);
  MemPods api;
  api.pods = {pod("m", {1, 3}, 1, 100)};
  MemKubelet kubelet;
  kubelet.admit("m");
  {
    AliyunMatcher before("n1", api, &kubelet);
    CHECK(before.allocate(inv, {ids(0, 0, 1)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  }
  kubelet.record("m", "c0", ids(0, 0, 1));
  AliyunMatcher after("n1", api, &kubelet);  // restarted: no memory of m, which is assigned now
  auto e = after.allocate(inv, {ids(0, 1, 3)}).at(0);
  CHECK(e.at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  CHECK(e.at("ALIYUN_COM_GPU_MEM_CONTAINER") == "3");
  CHECK(api.patched.size() == 1);  // patched once, before the restart
  CHECK_THROWS_AS(after.allocate(inv, {ids(0, 4, 3)}), NotFound);
  AliyunMatcher blind("n1", api, nullptr);  // without the view it cannot know: refused, not guessed
  CHECK_THROWS_AS(blind.allocate(inv, {ids(0, 1, 3)}), NotFound);
}

TEST_CASE("aliyun: malformed requests, unhealthy GPUs and failed patches change nothing") {
  auto inv = inventory(2);
  MemPods api;
  api.pods = {pod("a", {2}, 1, 100), pod("x", {2}, 7, 50, {}, "n1")};
  api.pods[1]["metadata"]["annotations"]["ALIYUN_COM_GPU_MEM_IDX"] = "seven";
  AliyunMatcher m("n1", api, nullptr);
  CHECK_THROWS_WITH(m.allocate(inv, {}), Catch::Contains("no container_requests"));
  CHECK_THROWS_WITH(m.allocate(inv, {{}}), Catch::Contains("container_requests[0].devices_ids: empty"));
  CHECK_THROWS_WITH(m.allocate(inv, {{"GPU-zzz-_-0"}}), Catch::Contains("'GPU-zzz-_-0' is not an aliyun.com/gpu-mem device"));
  CHECK_THROWS_WITH(m.allocate(inv, {{ids(0, 0, 1)[0], ids(0, 0, 1)[0]}}), Catch::Contains("listed twice"));
  CHECK_THROWS_WITH(m.allocate(inv, {ids(0, 0, 2), ids(0, 2, 2)}), Catch::Contains("gpu-mem=2") && Catch::Contains("unreadable"));
  CHECK(m.served().empty());
  CHECK(api.patched.empty());

  inv.gpus[1].healthy = false;
  CHECK_THROWS_WITH(m.allocate(inv, {ids(0, 0, 2)}), Catch::Contains("default/a") && Catch::Contains("unhealthy"));
  inv.gpus[1].healthy = true;
  api.fail_patch = true;
  CHECK_THROWS_AS(m.allocate(inv, {ids(0, 0, 2)}), Unavailable);
  CHECK(m.served().empty());
  api.fail_patch = false;
  api.fail_list = true;
  AliyunMatcher m2("n1", api, nullptr);
  CHECK_THROWS_WITH(m2.allocate(inv, {ids(0, 0, 2)}), Catch::Contains("listing pods failed"));
  api.fail_list = false;
  CHECK(m.allocate(inv, {ids(0, 0, 2)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "1");
}

TEST_CASE("aliyun: the pod listing is cached briefly; a pod bound after it is found by listing again") {
  auto inv = inventory(1);
  MemPods api;
  api.lag = true;
  api.pods = {pod("a", {1}, 0, 100), pod("b", {1}, 0, 200)};
  std::int64_t now = 1000000000;
  AliyunMatcher m("n1", api, nullptr, {false, 60000}, [&] { return now; });
  CHECK(m.allocate(inv, {ids(0, 0, 1)}).size() == 1);
  CHECK(m.allocate(inv, {ids(0, 1, 1)}).size() == 1);
  CHECK(m.listings() == 1);
  api.pods.push_back(pod("c", {1}, 0, 300));
  CHECK(m.allocate(inv, {ids(0, 2, 1)}).size() == 1);
  CHECK(m.listings() == 2);
  CHECK(m.served().count("default/c") == 1);
  now += 61000LL * 1000000;  // past the cache age: listed again before matching
  CHECK_THROWS_AS(m.allocate(inv, {ids(0, 3, 1)}), NotFound);
  CHECK(m.listings() == 4);  // expired cache, then the retry
}

// Property: random pods (sizes from a small set so ties are common, 1-3 GPU containers) bound to
// random GPUs; the kubelet admits them in a random order, keeping its pod-resources view as the
// real kubelet does.  Every container gets its own pod's GPU and amount; every pod is patched once.
TEST_CASE("aliyun: any admission order gives every container its pod's GPU (property)") {
  std::mt19937_64 rng(20261204);
  for (int trial = 0; trial < 300; ++trial) {
    const int ngpu = 1 + static_cast<int>(rng() % 4);
    auto inv = inventory(ngpu);
    MemPods api;
    api.lag = rng() % 2;
    const int npods = 1 + static_cast<int>(rng() % 6);
    std::vector<int> gpu_of(npods);
    std::vector<std::vector<std::int64_t>> sizes(npods);
    for (int p = 0; p < npods; ++p) {
      gpu_of[p] = static_cast<int>(rng() % ngpu);
      const int nc = 1 + static_cast<int>(rng() % 3);
      for (int c = 0; c < nc; ++c) sizes[p].push_back(1 + static_cast<std::int64_t>(rng() % 2));
      api.pods.push_back(pod("p" + std::to_string(p), sizes[p], gpu_of[p], static_cast<std::int64_t>(rng() % 5)));
    }
    MemKubelet kubelet;
    AliyunMatcher m("n1", api, &kubelet, {false, static_cast<std::int64_t>(rng() % 2) * 100000});
    std::vector<int> order(npods);
    for (int p = 0; p < npods; ++p) order[p] = p;
    std::shuffle(order.begin(), order.end(), rng);
    for (int p : order) {
      const std::string name = "p" + std::to_string(p);
      kubelet.admit(name);
      for (std::size_t c = 0; c < sizes[p].size(); ++c) {
        auto devs = ids(0, 0, static_cast<int>(sizes[p][c]));
        auto e = m.allocate(inv, {devs}).at(0);
        REQUIRE(e.at("ALIYUN_COM_GPU_MEM_IDX") == std::to_string(gpu_of[p]));
        REQUIRE(e.at("ALIYUN_COM_GPU_MEM_CONTAINER") == std::to_string(sizes[p][c]));
        kubelet.record(name, "c" + std::to_string(c), devs);
      }
    }
    std::vector<std::string> patched = api.patched;
    std::sort(patched.begin(), patched.end());
    CHECK(std::unique(patched.begin(), patched.end()) == patched.end());
    CHECK(static_cast<int>(patched.size()) == npods);
  }
}

// The listing is cached (--pod-cache-ms).  A pod bound after the listing was taken and admitted by
// the kubelet before an older same-size pod the kubelet has not seen yet: the cached listing shows
// one candidate of that size (the older pod), which is not the pod being admitted.  The kubelet's
// view says so; the pods must be listed again rather than the older pod's GPU handed out.
TEST_CASE("aliyun: a lone same-size candidate in a cached listing is not taken when the kubelet admits another pod") {
  auto inv = inventory(2);
  MemPods api;
  api.pods = {pod("x", {1}, 0, 50), pod("a", {2}, 0, 100)};
  MemKubelet kubelet;
  std::int64_t now = 1000000000;
  AliyunMatcher m("n1", api, &kubelet, {false, 60000}, [&] { return now; });
  kubelet.admit("x");
  CHECK(m.allocate(inv, {ids(0, 0, 1)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "0");  // listing cached: x, a
  kubelet.record("x", "c0", ids(0, 0, 1));
  // b (2 units, GPU 1) is bound now; the kubelet admits b before it has seen a.
  api.pods.push_back(pod("b", {2}, 1, 200));
  kubelet.admit("b");
  auto eb = m.allocate(inv, {ids(0, 1, 2)}).at(0);
  CHECK(eb.at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  CHECK(eb.at("NVIDIA_VISIBLE_DEVICES") == uuid(1));
  kubelet.record("b", "c0", ids(0, 1, 2));
  kubelet.admit("a");
  CHECK(m.allocate(inv, {ids(0, 3, 2)}).at(0).at("ALIYUN_COM_GPU_MEM_IDX") == "0");
  CHECK(m.served() == std::map<std::string, int>{{"default/a", 1}, {"default/b", 1}, {"default/x", 1}});
}

// Fuzz: pods with a random field replaced by a value of the wrong type or range, and requests of
// random sizes.  Every call either answers or throws a gpushare::Error; nothing else escapes, and
// an answer always names the GPU of a pod that was listed unmodified in that field's sense.
TEST_CASE("aliyun: malformed pods and requests never escape as anything but gpushare::Error (fuzz)") {
  std::mt19937_64 rng(4242);
  const std::vector<json> junk = {nullptr, 0, -1, 7, 1.5, "abc", "", "-3", "1e400", "99999999999999999999", "0x10",
                                  json::array(), json::object(), json::array({1, "x"}), true, "2", "1024", "1025"};
  const std::vector<std::vector<std::string>> paths = {
      {"metadata"}, {"metadata", "name"}, {"metadata", "namespace"}, {"metadata", "uid"}, {"metadata", "annotations"},
      {"metadata", "annotations", "ALIYUN_COM_GPU_MEM_IDX"}, {"metadata", "annotations", "ALIYUN_COM_GPU_MEM_POD"},
      {"metadata", "annotations", "ALIYUN_COM_GPU_MEM_ASSUME_TIME"}, {"metadata", "annotations", "ALIYUN_COM_GPU_MEM_ASSIGNED"},
      {"metadata", "annotations", "ALIYUN_COM_GPU_MEM_DEV"}, {"spec"}, {"spec", "nodeName"}, {"spec", "containers"},
      {"spec", "initContainers"}, {"status"}, {"status", "phase"}, {"spec", "containers", "0"},
      {"spec", "containers", "0", "name"}, {"spec", "containers", "0", "resources"},
      {"spec", "containers", "0", "resources", "limits"}, {"spec", "containers", "0", "resources", "limits", "aliyun.com/gpu-mem"}};
  int answered = 0, refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto inv = inventory(2, 4096);
    MemPods api;
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < n; ++p) {
      json pj = pod("p" + std::to_string(p), {1 + static_cast<std::int64_t>(rng() % 3)}, static_cast<int>(rng() % 2), p);
      if (rng() % 4 != 0) {
        const auto& path = paths[rng() % paths.size()];
        json* at = &pj;
        for (std::size_t k = 0; k + 1 < path.size() && at; ++k) {
          if (at->is_array()) at = path[k] == "0" && !at->empty() ? &(*at)[0] : nullptr;
          else if (at->is_object() && at->contains(path[k])) at = &(*at)[path[k]];
          else at = nullptr;
        }
        if (at && at->is_object()) (*at)[path.back()] = junk[rng() % junk.size()];
        else if (at && at->is_array() && !at->empty()) (*at)[0] = junk[rng() % junk.size()];
      }
      if (rng() % 10 == 0) pj = junk[rng() % junk.size()];
      api.pods.push_back(pj);
    }
    MemKubelet kubelet;
    for (int p = 0; p < n; ++p) kubelet.admit("p" + std::to_string(p));
    AliyunMatcher m("n1", api, rng() % 2 ? &kubelet : nullptr, {false, 0});
    for (int call = 0; call < 3; ++call) {
      const int units = 1 + static_cast<int>(rng() % 4);
      try {
        auto e = m.allocate(inv, {ids(static_cast<int>(rng() % 2), 0, units)});
        REQUIRE(e.size() == 1);
        CHECK((e[0].at("ALIYUN_COM_GPU_MEM_IDX") == "0" || e[0].at("ALIYUN_COM_GPU_MEM_IDX") == "1"));
        ++answered;
      } catch (const Error&) {
        ++refused;
      } catch (const std::exception& e) {
        FAIL("trial " << trial << ": " << typeid(e).name() << ": " << e.what() << "\npods: " << json(api.pods).dump());
      }
    }
  }
  CHECK(answered > 100);
  CHECK(refused > 100);
}
