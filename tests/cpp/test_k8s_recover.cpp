// Kubernetes edge: bind annotations written and parsed exactly, recover_cluster from pods alone,
// the round trip schedule -> annotate -> recover = same state for each mode, and bad objects.
#include <catch2/catch.hpp>

#include <random>

#include <gpushare/modes/aliyun/aliyun.hpp>
#include <gpushare/modes/hami/hami.hpp>
#include <gpushare/k8s/recover.hpp>
#include <gpushare/modes/tencent/admission.hpp>

using namespace gpushare;
using namespace gpushare::k8s;
using nlohmann::json;

namespace {
json make_pod(const std::string& name, const std::vector<json>& limits) {
  json cs = json::array();
  for (std::size_t i = 0; i < limits.size(); ++i) cs.push_back({{"name", "c" + std::to_string(i)}, {"resources", {{"limits", limits[i]}}}});
  return {{"metadata", {{"name", name}, {"namespace", "ns"}, {"annotations", json::object()}}},
          {"spec", {{"containers", cs}}}, {"status", {{"phase", "Pending"}}}};
}
void bind_pod(json& pod, const std::string& node, const AnnotationMap& a) {
  pod["spec"]["nodeName"] = node;
  for (const auto& kv : a) pod["metadata"]["annotations"][kv.first] = kv.second;
}
std::int64_t used_mib(const Cluster& c, std::size_t node, int g) {
  return c.nodes()[node].gpus[g].mib_total - c.view(node).free_mib[g];
}
std::int64_t used_milli(const Cluster& c, std::size_t node, int g) {
  return c.nodes()[node].gpus[g].milli_total - c.view(node).free_milli[g];
}
}  // namespace

TEST_CASE("annotations are written and parsed exactly", "[k8s][annotations]") {
  auto a = aliyun_bind_annotations(1, 8, 15, 123);
  CHECK(a.at("ALIYUN_COM_GPU_MEM_IDX") == "1");
  CHECK(a.at("ALIYUN_COM_GPU_MEM_POD") == "8");
  CHECK(a.at("ALIYUN_COM_GPU_MEM_DEV") == "15");
  CHECK(a.at("ALIYUN_COM_GPU_MEM_ASSIGNED") == "false");
  CHECK(a.at("ALIYUN_COM_GPU_MEM_ASSUME_TIME") == "123");
  auto pa = parse_aliyun_annotations(a, "pod p");
  CHECK(pa.gpu == 1);
  CHECK(pa.pod_mem == 8);
  CHECK(pa.dev_mem == 15);
  CHECK(!pa.assigned);

  auto t = tencent_bind_annotations("n1", {{0, {2, 0}}, {2, {1}}}, 5);
  CHECK(t.at("tencent.com/predicate-gpu-idx-0") == "2,0");
  CHECK(t.at("tencent.com/predicate-gpu-idx-2") == "1");
  CHECK(t.at("tencent.com/predicate-node") == "n1");
  CHECK(t.at("tencent.com/gpu-assigned") == "false");
  CHECK(t.at("tencent.com/predicate-time") == "5");
  auto pt = parse_tencent_annotations(t, "pod p");
  CHECK(pt.node == "n1");
  CHECK(pt.gpus.at(0) == std::vector<int>{2, 0});

  HamiPodDevices pd = {{{"GPU-a", "NVIDIA", 1000, 30}, {"GPU-b", "NVIDIA", 1000, 30}}, {}, {{"GPU-c", "NVIDIA", 2000, 0}}};
  const std::string enc = encode_hami_pod_devices(pd);
  CHECK(enc == "GPU-a,NVIDIA,1000,30:GPU-b,NVIDIA,1000,30:;;GPU-c,NVIDIA,2000,0:;");
  CHECK(decode_hami_pod_devices(enc, "pod p") == pd);
  CHECK(hami_bind_annotations("n1", pd).at("hami.io/vgpu-devices-allocated") == enc);

  std::vector<HamiNodeDevice> reg = {{"GPU-a", 0, 10, 40960, 100, "NVIDIA A100", 0, true, "hami-core"},
                                     {"GPU-b", 1, 10, 40960, 100, "NVIDIA A100", 1, false, "hami-core"}};
  auto back = decode_hami_node_register(encode_hami_node_register(reg), "node n");
  REQUIRE(back.size() == 2);
  CHECK(back[1].id == "GPU-b");
  CHECK(back[1].numa == 1);
  CHECK(!back[1].health);
  auto legacy = decode_hami_node_register("GPU-a,10,40960,100,NVIDIA A100,0,true:GPU-b,10,40960,100,NVIDIA A100,1,true,1,hami-core:", "node n");
  REQUIRE(legacy.size() == 2);
  CHECK(legacy[1].index == 1);
  CHECK(legacy[0].devmem == 40960);

  CHECK_THROWS_AS(parse_aliyun_annotations({{"ALIYUN_COM_GPU_MEM_IDX", "x"}}, "pod p"), ParseError);
  CHECK_THROWS_AS(parse_aliyun_annotations({{"ALIYUN_COM_GPU_MEM_IDX", "0"}}, "pod p"), ParseError);  // no POD
  CHECK_THROWS_AS(parse_tencent_annotations({{"tencent.com/predicate-gpu-idx-0", "1,a"}}, "pod p"), ParseError);
  CHECK_THROWS_AS(decode_hami_pod_devices("GPU-a,NVIDIA,1000:;", "pod p"), ParseError);
  CHECK_THROWS_AS(decode_hami_node_register("GPU-a,10,40960", "node n"), ParseError);
  CHECK_THROWS_AS(decode_hami_node_register("[{\"id\":1}]", "node n"), ParseError);
}

TEST_CASE("round trip aliyun: bind, annotate, recover = same state", "[k8s][recover][property]") {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 30; ++trial) {
    json nodes = json::array();
    std::vector<std::vector<aliyun::GpuState>> state;
    const int nn = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < nn; ++i) {
      const int count = 1 + static_cast<int>(rng() % 4);
      const int units = 8 + static_cast<int>(rng() % 3) * 8;
      nodes.push_back({{"metadata", {{"name", "n" + std::to_string(i)}}},
                       {"status", {{"capacity", {{"aliyun.com/gpu-mem", std::to_string(count * units)}, {"aliyun.com/gpu-count", count}}}}}});
      state.push_back(std::vector<aliyun::GpuState>(count, {units, 0, true}));
    }
    json pods = json::array();
    for (int p = 0; p < 25; ++p) {
      std::vector<json> lim;
      const int nc = 1 + static_cast<int>(rng() % 2);
      std::int64_t total = 0;
      for (int c = 0; c < nc; ++c) {
        const int m = 1 + static_cast<int>(rng() % 6);
        total += m;
        lim.push_back({{"aliyun.com/gpu-mem", std::to_string(m)}});
      }
      json pod = make_pod("p" + std::to_string(p), lim);
      const bool done = rng() % 7 == 0;  // finished pods keep their annotations but hold nothing
      if (done) pod["status"]["phase"] = "Succeeded";
      for (int i = 0; i < nn; ++i) {
        if (!aliyun::filter(state[i], total).pass) continue;
        auto b = aliyun::bind(state[i], total);
        REQUIRE(b.ok());
        if (!done) state[i][b.gpu].used += total;
        bind_pod(pod, "n" + std::to_string(i), aliyun_bind_annotations(b.gpu, total, state[i][b.gpu].total, 1));
        break;
      }
      pods.push_back(pod);
    }
    auto r = recover_cluster(nodes, pods, Dialect::Aliyun);
    // pods without a binding are reported, never dropped silently
    int unbound = 0;
    for (const auto& p : pods) unbound += (!p["spec"].contains("nodeName") && p["status"]["phase"] != "Succeeded");
    CHECK(static_cast<int>(r.unplaced.size()) == unbound);
    for (int i = 0; i < nn; ++i)
      for (std::size_t g = 0; g < state[i].size(); ++g) CHECK(used_mib(r.cluster, i, static_cast<int>(g)) == state[i][g].used * 1024);
  }
}

TEST_CASE("round trip tencent: filter, annotate, recover = same state", "[k8s][recover][property]") {
  std::mt19937_64 rng(12);
  for (int trial = 0; trial < 30; ++trial) {
    json nodes = json::array();
    std::vector<tencent::NodeState> state;
    const int nn = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < nn; ++i) {
      const int count = 1 + static_cast<int>(rng() % 4);
      const int mem = 16 + static_cast<int>(rng() % 2) * 16;  // units per GPU
      nodes.push_back({{"metadata", {{"name", "n" + std::to_string(i)}}},
                       {"status", {{"allocatable", {{"tencent.com/vcuda-core", std::to_string(count * 100)}, {"tencent.com/vcuda-memory", count * mem}}}}}});
      state.push_back({"n" + std::to_string(i), std::vector<tencent::GpuState>(count, {100, 0, mem, 0})});
    }
    json pods = json::array();
    for (int p = 0; p < 20; ++p) {
      std::vector<json> lim;
      std::vector<tencent::ContainerAsk> asks;
      const int nc = 1 + static_cast<int>(rng() % 2);
      for (int c = 0; c < nc; ++c) {
        tencent::ContainerAsk a;
        const int kind = static_cast<int>(rng() % 5);
        if (kind == 0) a = {100 * (1 + static_cast<int>(rng() % 2)), 1};
        else if (kind == 4) a = {0, 0};
        else a = {10 * (1 + static_cast<int>(rng() % 9)), 1 + static_cast<int>(rng() % 8)};
        asks.push_back(a);
        json l = json::object();
        if (a.cores) l["tencent.com/vcuda-core"] = std::to_string(a.cores);
        if (a.memory_units) l["tencent.com/vcuda-memory"] = std::to_string(a.memory_units);
        lim.push_back(l);
      }
      json pod = make_pod("p" + std::to_string(p), lim);
      auto f = tencent::filter(state, asks);
      if (!f.skip && !f.node.empty()) {
        for (auto& s : state) {
          if (s.name != f.node) continue;
          std::vector<std::vector<int>> out;
          REQUIRE(tencent::place_on_node(s.gpus, asks, out));
          CHECK(out == f.gpus);
        }
        std::map<int, std::vector<int>> m;
        for (std::size_t c = 0; c < asks.size(); ++c) if (asks[c].needs_gpu()) m[static_cast<int>(c)] = f.gpus[c];
        bind_pod(pod, f.node, tencent_bind_annotations(f.node, m, 1));
      }
      pods.push_back(pod);
    }
    auto r = recover_cluster(nodes, pods, Dialect::Tencent);
    for (const auto& u : r.unplaced) CHECK(u.reason.find(u.pod) != std::string::npos);
    for (int i = 0; i < nn; ++i)
      for (std::size_t g = 0; g < state[i].gpus.size(); ++g) {
        CHECK(used_milli(r.cluster, i, static_cast<int>(g)) == state[i].gpus[g].core_used * 10);
        CHECK(used_mib(r.cluster, i, static_cast<int>(g)) == state[i].gpus[g].mem_used * 256);
      }
  }
}

TEST_CASE("round trip hami: calc_score, annotate, recover = same state", "[k8s][recover][property]") {
  std::mt19937_64 rng(13);
  for (int trial = 0; trial < 20; ++trial) {
    json nodes = json::array();
    std::vector<hami::NodeDevices> state;
    const int nn = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < nn; ++i) {
      const int count = 1 + static_cast<int>(rng() % 4);
      std::vector<HamiNodeDevice> reg;
      hami::NodeDevices nd{"n" + std::to_string(i), {}, {}};
      for (int g = 0; g < count; ++g) {
        const std::string id = "GPU-" + std::to_string(i) + "-" + std::to_string(g);
        reg.push_back({id, g, 4, 16384, 100, "NVIDIA A100", g / 2, true, "hami-core"});
        nd.devices.push_back({id, g, "NVIDIA A100", 4, 0, 16384, 0, 100, 0, g / 2, true, "hami-core"});
      }
      nodes.push_back({{"metadata", {{"name", nd.name}, {"annotations", {{"hami.io/node-nvidia-register", encode_hami_node_register(reg)}}}}}});
      state.push_back(nd);
    }
    json pods = json::array();
    for (int p = 0; p < 15; ++p) {
      hami::PodAsk ask;
      std::vector<json> lim;
      const int nc = 1 + static_cast<int>(rng() % 2);
      for (int c = 0; c < nc; ++c) {
        hami::ContainerReq q;
        q.nums = 1 + static_cast<int>(rng() % 2);
        q.memreq = 1024 * (1 + static_cast<int>(rng() % 6));
        q.mem_percentage = 101;
        q.coresreq = 10 * static_cast<int>(rng() % 5);
        ask.containers.push_back({q});
        json l = {{"nvidia.com/gpu", q.nums}, {"nvidia.com/gpumem", std::to_string(q.memreq)}};
        if (q.coresreq) l["nvidia.com/gpucores"] = q.coresreq;
        lim.push_back(l);
      }
      json pod = make_pod("p" + std::to_string(p), lim);
      auto res = hami::calc_score(state, ask);
      if (res.selected.empty() && !res.nodes.empty()) {
        // upstream leaves tied node scores to goroutine order; the test takes the first best
        float best = -1;
        for (const auto& kv : res.nodes) if (kv.second.score > best) { best = kv.second.score; res.selected = kv.first; }
      }
      if (!res.selected.empty()) {
        HamiPodDevices pd;
        for (const auto& ctr : res.nodes.at(res.selected).devices) {
          std::vector<HamiContainerDevice> v;
          for (const auto& d : ctr) v.push_back({d.uuid, "NVIDIA", d.usedmem, d.usedcores});
          pd.push_back(v);
        }
        for (auto& s : state) {
          if (s.name != res.selected) continue;
          for (const auto& c : pd)
            for (const auto& d : c)
              for (auto& dev : s.devices)
                if (dev.id == d.uuid) { dev.used++; dev.usedmem += d.usedmem; dev.usedcores += d.usedcores; }
        }
        bind_pod(pod, res.selected, hami_bind_annotations(res.selected, pd));
      }
      pods.push_back(pod);
    }
    auto r = recover_cluster(nodes, pods, Dialect::Hami);
    for (int i = 0; i < nn; ++i)
      for (std::size_t g = 0; g < state[i].devices.size(); ++g) {
        CHECK(used_mib(r.cluster, i, static_cast<int>(g)) == state[i].devices[g].usedmem);
        CHECK(used_milli(r.cluster, i, static_cast<int>(g)) == state[i].devices[g].usedcores * 10);
      }
  }
}

TEST_CASE("recovery reports what it cannot place, naming pod and field", "[k8s][recover][bad]") {
  json nodes = json::array({{{"metadata", {{"name", "n0"}}},
                             {"status", {{"capacity", {{"aliyun.com/gpu-mem", "32"}, {"aliyun.com/gpu-count", "2"}}}}}}});
  json ok = make_pod("ok", {{{"aliyun.com/gpu-mem", "4"}}});
  bind_pod(ok, "n0", aliyun_bind_annotations(1, 4, 16, 1));
  json ghost = make_pod("ghost", {{{"aliyun.com/gpu-mem", "4"}}});
  bind_pod(ghost, "n0", aliyun_bind_annotations(7, 4, 16, 1));
  json elsewhere = make_pod("elsewhere", {{{"aliyun.com/gpu-mem", "4"}}});
  bind_pod(elsewhere, "n9", aliyun_bind_annotations(0, 4, 16, 1));
  json garbled = make_pod("garbled", {{{"aliyun.com/gpu-mem", "4"}}});
  bind_pod(garbled, "n0", {{"ALIYUN_COM_GPU_MEM_IDX", "zero"}, {"ALIYUN_COM_GPU_MEM_POD", "4"}});
  json toomuch = make_pod("toomuch", {{{"aliyun.com/gpu-mem", "20"}}});
  bind_pod(toomuch, "n0", aliyun_bind_annotations(0, 20, 16, 1));
  json pending = make_pod("pending", {{{"aliyun.com/gpu-mem", "4"}}});
  json broken = {{"metadata", {{"name", "broken"}}}, {"spec", {{"containers", "nope"}}}};
  json done = make_pod("done", {{{"aliyun.com/gpu-mem", "4"}}});
  done["status"]["phase"] = "Failed";
  json cpu_only = make_pod("cpu", {json::object()});
  auto r = recover_cluster(json{{"items", nodes}}, json::array({ok, ghost, elsewhere, garbled, toomuch, pending, broken, done, cpu_only}),
                           Dialect::Aliyun);
  REQUIRE(r.placements.size() == 1);
  CHECK(r.placements[0].gpus == std::vector<int>{1});
  std::map<std::string, std::string> why;
  for (const auto& u : r.unplaced) why[u.pod] = u.reason;
  REQUIRE(why.size() == 6);
  CHECK(why.at("ns/ghost").find("GPU 7") != std::string::npos);
  CHECK(why.at("ns/ghost").find("ALIYUN_COM_GPU_MEM_IDX") != std::string::npos);
  CHECK(why.at("ns/elsewhere").find("n9") != std::string::npos);
  CHECK(why.at("ns/garbled").find("zero") != std::string::npos);
  CHECK(why.at("ns/toomuch").find("free") != std::string::npos);
  CHECK(why.at("ns/pending").find("ALIYUN_COM_GPU_MEM_IDX") != std::string::npos);
  CHECK(why.at("pods[6]").find("spec.containers") != std::string::npos);

  // HAMi: an annotation naming an unregistered device
  json hn = json::array({{{"metadata", {{"name", "h"}, {"annotations", {{"hami.io/node-nvidia-register",
      encode_hami_node_register({{"GPU-a", 0, 10, 16384, 100, "NVIDIA T4", 0, true, "hami-core"}})}}}}}}});
  json hp = make_pod("hp", {{{"nvidia.com/gpu", 1}}});
  bind_pod(hp, "h", hami_bind_annotations("h", {{{"GPU-zzz", "NVIDIA", 100, 0}}}));
  auto hr = recover_cluster(hn, json::array({hp}), Dialect::Hami);
  REQUIRE(hr.unplaced.size() == 1);
  CHECK(hr.unplaced[0].reason.find("GPU-zzz") != std::string::npos);

  // bad nodes throw, naming the node and the field
  json bn = json::array({{{"metadata", {{"name", "b"}}}, {"status", {{"capacity", {{"aliyun.com/gpu-mem", "16"}}}}}}});
  CHECK_THROWS_WITH(recover_cluster(bn, json::array(), Dialect::Aliyun), Catch::Contains("node b") && Catch::Contains("gpu-count"));
  json bq = json::array({{{"metadata", {{"name", "q"}}}, {"status", {{"capacity", {{"tencent.com/vcuda-core", "lots"}}}}}}});
  CHECK_THROWS_WITH(recover_cluster(bq, json::array(), Dialect::Tencent), Catch::Contains("node q") && Catch::Contains("vcuda-core"));
  CHECK_THROWS_AS(recover_cluster(json::object(), json::array(), Dialect::Aliyun), ParseError);
}

TEST_CASE("nodes per dialect", "[k8s][node]") {
  json n = {{"metadata", {{"name", "g"}, {"labels", {{"nvidia.com/gpu.product", "Tesla-T4"}, {"nvidia.com/gpu.memory", "15360"}}}}},
            {"status", {{"capacity", {{"cpu", "8"}, {"memory", "32Gi"}, {"nvidia.com/gpu", "4"},
                                      {"aliyun.com/gpu-mem", "60"}, {"aliyun.com/gpu-count", "4"},
                                      {"tencent.com/vcuda-core", "400"}, {"tencent.com/vcuda-memory", "240"}}}}}};
  auto a = node_from_json(n, Dialect::Aliyun);
  CHECK(a.node.cpu_milli == 8000);
  CHECK(a.node.host_mib == 32768);
  REQUIRE(a.node.gpus.size() == 4);
  CHECK(a.node.gpus[0].mib_total == 15 * 1024);
  CHECK(a.node.gpus[0].model == "Tesla-T4");
  DialectOptions mib;
  mib.aliyun_mib = true;
  CHECK(node_from_json(n, Dialect::Aliyun, mib).node.gpus[0].mib_total == 15);
  auto t = node_from_json(n, Dialect::Tencent);
  REQUIRE(t.node.gpus.size() == 4);
  CHECK(t.node.gpus[0].mib_total == 60 * 256);
  auto v = node_from_json(n, Dialect::Nvidia);
  CHECK(v.node.gpus.size() == 4);
  CHECK(v.node.gpus[0].mib_total == 15360);
  CHECK(node_from_json(n, Dialect::Hami).node.gpus.empty());
}
