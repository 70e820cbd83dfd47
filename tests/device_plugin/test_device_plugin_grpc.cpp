// gpushare-device-plugin driven over its unix sockets by the test kubelet (test_kubelet.hpp):
// registration, ListAndWatch, GetPreferredAllocation, Allocate, health changes, a kubelet
// restart, and malformed requests.  GPUs come from --fake-gpus; pods (aliyun dialect) from
// --pods-file here and from a real kube-apiserver in the end-to-end test.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gpushare/io/nvidia_smi_topo.hpp"
#include "gpushare/io/topology_json.hpp"
#include "gpushare/k8s/annotations.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"
#include "test_kubelet.hpp"

using nlohmann::json;
using testkubelet::TestKubelet;
using testkubelet::Watch;

namespace {

std::string uuid(int i) { return "GPU-1111111" + std::to_string(i) + "-2222-3333-4444-555555555555"; }

json fake_gpus(int n, std::int64_t mib, const json& topology, int unhealthy = -1) {
  json g = json::array();
  for (int i = 0; i < n; ++i) g.push_back({{"uuid", uuid(i)}, {"memory_mib", mib}, {"healthy", i != unhealthy}});
  json j = {{"gpus", g}};
  if (!topology.is_null()) j["topology"] = topology;
  return j;
}

void write(const std::string& path, const json& j) {
  std::ofstream(path + ".tmp") << j.dump();
  std::rename((path + ".tmp").c_str(), path.c_str());
}

json dgx1() {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/topology/dgx1-volta.json");
  return json::parse(f);
}

v1beta1::RegisterRequest find(const std::vector<v1beta1::RegisterRequest>& rs, const std::string& resource) {
  for (const auto& r : rs)
    if (r.resource_name() == resource) return r;
  FAIL("no Register for " << resource);
  return {};
}

grpc::Status allocate(v1beta1::DevicePlugin::Stub& s, const std::vector<std::vector<std::string>>& containers,
                      v1beta1::AllocateResponse& out) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1beta1::AllocateRequest req;
  for (const auto& c : containers) {
    auto* cr = req.add_container_requests();
    for (const auto& id : c) cr->add_devices_ids(id);
  }
  out.Clear();
  return s.Allocate(&ctx, req, &out);
}

// A pod as the extender leaves it after bind (aliyun dialect), one GPU container.
json aliyun_pod(const std::string& name, std::int64_t units, int gpu, std::int64_t assume) {
  json ann = json::object();
  for (const auto& kv : gpushare::k8s::aliyun_bind_annotations(gpu, units, 3, assume)) ann[kv.first] = kv.second;
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}, {"annotations", ann}}},
          {"spec", {{"nodeName", "n1"}, {"containers", {{{"name", "main"}, {"resources", {{"limits", {{"aliyun.com/gpu-mem", units}}}}}}}}}},
          {"status", {{"phase", "Pending"}}}};
}

}  // namespace

TEST_CASE("nvidia dialect over gRPC: register, list, preferred set, allocate, health, kubelet restart, bad requests") {
  TestKubelet k;
  const std::string gpus = k.dir() + "/gpus.json";
  write(gpus, fake_gpus(8, 16384, dgx1()));
  k.start_plugin(GPUSHARE_DEVICE_PLUGIN, {"--dialect", "nvidia", "--node", "n1", "--fake-gpus", gpus});
  auto regs = k.registrar().wait(1);
  INFO(k.plugin_log());
  REQUIRE(regs.size() == 1);
  CHECK(regs[0].version() == "v1beta1");
  CHECK(regs[0].resource_name() == "nvidia.com/gpu");
  CHECK(regs[0].options().get_preferred_allocation_available());
  auto stub = k.plugin(regs[0].endpoint());

  {
    grpc::ClientContext ctx;
    v1beta1::DevicePluginOptions opt;
    REQUIRE(stub->GetDevicePluginOptions(&ctx, v1beta1::Empty(), &opt).ok());
    CHECK(opt.get_preferred_allocation_available());
    CHECK_FALSE(opt.pre_start_required());
  }
  Watch watch(*stub);
  v1beta1::ListAndWatchResponse list;
  REQUIRE(watch.wait(1, list));
  REQUIRE(list.devices_size() == 8);
  for (const auto& d : list.devices()) CHECK(d.health() == "Healthy");

  // GetPreferredAllocation answers with the nvidia mode's set for this topology.
  const gpushare::Topology topo = gpushare::topology_from_json(dgx1());
  for (int size : {2, 3, 4}) {
    grpc::ClientContext ctx;
    v1beta1::PreferredAllocationRequest req;
    auto* c = req.add_container_requests();
    std::vector<int> avail = {1, 2, 4, 5, 6, 7};
    for (int i : avail) c->add_available_deviceids(uuid(i));
    c->set_allocation_size(size);
    v1beta1::PreferredAllocationResponse resp;
    REQUIRE(stub->GetPreferredAllocation(&ctx, req, &resp).ok());
    std::vector<std::string> want;
    for (int i : gpushare::nvidia_besteffort(topo, avail, {}, size)) want.push_back(uuid(i));
    REQUIRE(resp.container_responses_size() == 1);
    CHECK(std::vector<std::string>(resp.container_responses(0).deviceids().begin(), resp.container_responses(0).deviceids().end()) == want);
  }

  v1beta1::AllocateResponse out;
  REQUIRE(allocate(*stub, {{uuid(3), uuid(1)}}, out).ok());
  CHECK(out.container_responses(0).envs().at("NVIDIA_VISIBLE_DEVICES") == uuid(3) + "," + uuid(1));

  // Malformed and unknown requests: a clear error, then the plugin answers as before.
  grpc::Status s = allocate(*stub, {{"GPU-not-here"}}, out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("node n1") && Catch::Contains("'GPU-not-here' is not a GPU"));
  CHECK(out.container_responses_size() == 0);
  CHECK(allocate(*stub, {}, out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(allocate(*stub, {{}}, out).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  {
    grpc::ClientContext ctx;
    v1beta1::PreferredAllocationRequest req;
    auto* c = req.add_container_requests();
    c->add_available_deviceids(uuid(0));
    c->set_allocation_size(2);
    v1beta1::PreferredAllocationResponse resp;
    s = stub->GetPreferredAllocation(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::Contains("allocation_size 2"));
  }
  REQUIRE(allocate(*stub, {{uuid(0)}}, out).ok());

  // GPU 2 turns unhealthy: a new list, GPU 2 Unhealthy; Allocate of it is refused.
  write(gpus, fake_gpus(8, 16384, dgx1(), 2));
  REQUIRE(watch.wait(2, list));
  for (const auto& d : list.devices()) CHECK(d.health() == (d.id() == uuid(2) ? "Unhealthy" : "Healthy"));
  s = allocate(*stub, {{uuid(2)}}, out);
  CHECK(s.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(s.error_message(), Catch::Contains("unhealthy"));
  // A broken file changes nothing: no new list, GPU 2 still refused, the others served.
  std::ofstream(gpus) << "{not json";
  for (int i = 0; i < 200 && k.plugin_log().find("kept the previous GPUs") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_THAT(k.plugin_log(), Catch::Contains("kept the previous GPUs") && Catch::Contains("gpus.json"));
  CHECK_FALSE(watch.wait(3, list, std::chrono::seconds(1)));
  CHECK(allocate(*stub, {{uuid(2)}}, out).error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(allocate(*stub, {{uuid(5)}}, out).ok());

  // The kubelet restarts: the plugin registers again and serves a new socket.
  k.restart();
  auto again = k.registrar().wait(1);
  REQUIRE(again.size() == 1);
  CHECK(again[0].resource_name() == "nvidia.com/gpu");
  auto stub2 = k.plugin(again[0].endpoint());
  Watch watch2(*stub2);
  REQUIRE(watch2.wait(1, list));
  CHECK(list.devices_size() == 8);
  REQUIRE(allocate(*stub2, {{uuid(4)}}, out).ok());
  CHECK(k.stop_plugin() == 0);
}

TEST_CASE("aliyun dialect over gRPC: three pods, two of the same size, Allocate in another order than binding") {
  TestKubelet k;
  const std::string gpus = k.dir() + "/gpus.json", pods = k.dir() + "/pods.json";
  write(gpus, fake_gpus(2, 3 * 1024, nullptr));
  // Bound by the extender a (GPU 0), b (GPU 1), c (GPU 1); the kubelet admits b, c, a.
  write(pods, {{"kind", "PodList"}, {"items", {aliyun_pod("a", 1, 0, 100), aliyun_pod("b", 1, 1, 200), aliyun_pod("c", 2, 1, 300)}}});
  k.start_plugin(GPUSHARE_DEVICE_PLUGIN, {"--dialect", "aliyun", "--node", "n1", "--fake-gpus", gpus, "--pods-file", pods});
  auto regs = k.registrar().wait(2);
  INFO(k.plugin_log());
  REQUIRE(regs.size() == 2);
  auto mem = k.plugin(find(regs, "aliyun.com/gpu-mem").endpoint());
  auto count = k.plugin(find(regs, "aliyun.com/gpu-count").endpoint());
  {
    Watch w(*mem), wc(*count);
    v1beta1::ListAndWatchResponse l;
    REQUIRE(w.wait(1, l));
    CHECK(l.devices_size() == 6);  // 3 GiB units on each of 2 GPUs
    REQUIRE(wc.wait(1, l));
    CHECK(l.devices_size() == 2);
  }
  auto units = [&](int gpu, int from, int n) {
    std::vector<std::string> v;
    for (int i = from; i < from + n; ++i) v.push_back(uuid(gpu) + "-_-" + std::to_string(i));
    return v;
  };
  auto& pr = k.pod_resources();
  v1beta1::AllocateResponse out;
  // The fake units the kubelet picks say nothing about the GPU: b and c get units of GPU 0, a of GPU 1.
  struct Step { std::string pod; int units; int gpu; std::vector<std::string> devs; };
  for (const Step& st : {Step{"b", 1, 1, units(0, 0, 1)}, Step{"c", 2, 1, units(0, 1, 2)}, Step{"a", 1, 0, units(1, 0, 1)}}) {
    pr.admit("default", st.pod, {"main"});
    const auto& devs = st.devs;
    const grpc::Status st_ok = allocate(*mem, {devs}, out);
    INFO(st_ok.error_message());
    REQUIRE(st_ok.ok());
    const auto& env = out.container_responses(0).envs();
    CHECK(env.at("NVIDIA_VISIBLE_DEVICES") == uuid(st.gpu));
    CHECK(env.at("ALIYUN_COM_GPU_MEM_IDX") == std::to_string(st.gpu));
    CHECK(env.at("ALIYUN_COM_GPU_MEM_CONTAINER") == std::to_string(st.units));
    CHECK(env.at("ALIYUN_COM_GPU_MEM_DEV") == "3");
    pr.record(st.pod, "main", "aliyun.com/gpu-mem", devs);
  }
  CHECK(pr.calls() >= 1);
  std::ifstream f(pods);
  const json after = json::parse(f);
  for (const auto& p : after["items"]) {
    CHECK(p["metadata"]["annotations"]["ALIYUN_COM_GPU_MEM_ASSIGNED"] == "true");
    CHECK(p["metadata"]["annotations"].contains("ALIYUN_COM_GPU_MEM_ASSIGN_TIME"));
  }
  // No pod left: the error names the node, the size and the candidates; nothing is guessed.
  grpc::Status s = allocate(*mem, {units(1, 0, 1)}, out);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(s.error_message(), Catch::Contains("node n1") && Catch::Contains("gpu-mem=1 GiB") && Catch::Contains("default/b (gpu 1"));
  s = allocate(*mem, {{uuid(0) + "-_-3"}}, out);  // GPU 0 has units 0..2 only
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("'" + uuid(0) + "-_-3'"));
  s = allocate(*count, {{uuid(0)}}, out);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(s.error_message(), Catch::Contains("capacity only"));
  CHECK(k.stop_plugin() == 0);
}

// Without NVML the plugin asks nvidia-smi.  A stand-in nvidia-smi on PATH prints what the real one
// prints for --query-gpu (CSV, noheader, nounits) and `topo -m` (a DGX-1 capture from the fixtures).
TEST_CASE("GPU discovery through nvidia-smi when libnvidia-ml.so.1 is absent") {
  if (void* h = ::dlopen("libnvidia-ml.so.1", RTLD_NOW)) {
    ::dlclose(h);
    WARN("NVML is present on this machine: the plugin takes the NVML path, nvidia-smi is not asked");
    return;
  }
  TestKubelet k;
  const std::string smi = k.dir() + "/nvidia-smi";
  {
    std::ofstream f(smi);
    f << "#!/bin/sh\ncase \"$*\" in\n*query-gpu*)\n";
    for (int i = 0; i < 8; ++i) f << "echo '" << i << ", " << uuid(i) << ", 16160, Tesla V100-SXM2-16GB'\n";
    f << ";;\n*topo*) cat '" << GPUSHARE_DATA_DIR << "/topology/smi/dgx1-v100.txt' ;;\n*) exit 1 ;;\nesac\n";
  }
  ::chmod(smi.c_str(), 0755);
  const std::string cmd = "PATH='" + k.dir() + "':\"$PATH\" " + GPUSHARE_DEVICE_PLUGIN + " --print-gpus";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  REQUIRE(::pclose(p) == 0);
  const json j = json::parse(out);
  CHECK(j["source"] == "nvidia-smi");
  REQUIRE(j["gpus"].size() == 8);
  CHECK(j["gpus"][5]["uuid"] == uuid(5));
  CHECK(j["gpus"][5]["memory_mib"] == 16160);
  CHECK(j["gpus"][5]["model"] == "Tesla V100-SXM2-16GB");
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/topology/smi/dgx1-v100.txt");
  std::stringstream text;
  text << f.rdbuf();
  const gpushare::Topology want = gpushare::parse_nvidia_smi_topo(text.str()).to_topology();
  const gpushare::Topology got = gpushare::topology_from_json(j["topology"]);
  CHECK(got.nvlink() == want.nvlink());
  CHECK(got.nvlink()(0, 3) > 0);
}

// The end-to-end half, run by tests/e2e/test_device_plugin.py against a real kube-apiserver (hidden
// from the plain ctest run).  GPUSHARE_E2E_PLAN lists, in the order the test kubelet admits them,
// the pods bound to node GPUSHARE_E2E_NODE (two GPUs of 3 GiB) as "name:units:gpu,...", the GPU
// being what the pod's bind annotations say; the plugin reads and patches the pods through the API
// server with the ServiceAccount kubeconfig GPUSHARE_E2E_KUBECONFIG.
TEST_CASE("e2e: pods through the real API server, Allocate in another order than binding", "[.e2e]") {
  const char* kc = std::getenv("GPUSHARE_E2E_KUBECONFIG");
  const char* node = std::getenv("GPUSHARE_E2E_NODE");
  const char* plan = std::getenv("GPUSHARE_E2E_PLAN");
  if (!kc || !node || !plan) FAIL("run through tests/e2e/test_device_plugin.py (GPUSHARE_E2E_KUBECONFIG, _NODE, _PLAN)");
  struct Step { std::string pod; int units = 0; int gpu = 0; };
  std::vector<Step> steps;
  std::stringstream ps(plan);
  for (std::string item; std::getline(ps, item, ',');) {
    const auto c1 = item.find(':'), c2 = item.rfind(':');
    REQUIRE((c1 != std::string::npos && c2 > c1));
    steps.push_back({item.substr(0, c1), std::stoi(item.substr(c1 + 1, c2 - c1 - 1)), std::stoi(item.substr(c2 + 1))});
  }
  TestKubelet k;
  const std::string gpus = k.dir() + "/gpus.json";
  write(gpus, fake_gpus(2, 3 * 1024, nullptr));
  k.start_plugin(GPUSHARE_DEVICE_PLUGIN, {"--dialect", "aliyun", "--node", node, "--fake-gpus", gpus, "--kubeconfig", kc});
  auto regs = k.registrar().wait(2);
  INFO(k.plugin_log());
  REQUIRE(regs.size() == 2);
  auto mem = k.plugin(find(regs, "aliyun.com/gpu-mem").endpoint());
  auto& pr = k.pod_resources();
  v1beta1::AllocateResponse out;
  int next_unit = 0;  // the kubelet hands out fake units in its own order, unrelated to GPUs
  for (const Step& st : steps) {
    std::vector<std::string> devs;
    for (int u = 0; u < st.units; ++u, ++next_unit) devs.push_back(uuid(next_unit / 3) + "-_-" + std::to_string(next_unit % 3));
    pr.admit("default", st.pod, {"main"});
    const grpc::Status s = allocate(*mem, {devs}, out);
    INFO("pod " << st.pod << ": " << s.error_message());
    REQUIRE(s.ok());
    const auto& env = out.container_responses(0).envs();
    CHECK(env.at("NVIDIA_VISIBLE_DEVICES") == uuid(st.gpu));
    CHECK(env.at("ALIYUN_COM_GPU_MEM_IDX") == std::to_string(st.gpu));
    CHECK(env.at("ALIYUN_COM_GPU_MEM_CONTAINER") == std::to_string(st.units));
    pr.record(st.pod, "main", "aliyun.com/gpu-mem", devs);
  }
  const grpc::Status s = allocate(*mem, {{uuid(1) + "-_-2"}}, out);
  CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK_THAT(s.error_message(), Catch::Contains(std::string("node ") + node) && Catch::Contains("default/" + steps[0].pod));
  CHECK(k.stop_plugin() == 0);
}

// The kubelet receives ListAndWatch with grpc-go's default limit of 4 MiB per message (its
// devicemanager dials the plugin without raising it); gRPC C++ clients, like this test kubelet,
// have the same default.  In MiB mode eight 16 GiB GPUs are 131072 devices, about 8 MB: a list the
// kubelet can never read.  The plugin must refuse that at start with a clear error, not register
// a resource whose device list never arrives; a list under the limit is served.
TEST_CASE("aliyun --aliyun-mib: a device list above the kubelet's 4 MiB message limit is refused at start") {
  {
    TestKubelet k;
    const std::string gpus = k.dir() + "/gpus.json", pods = k.dir() + "/pods.json";
    write(gpus, fake_gpus(8, 16384, nullptr));
    write(pods, json::array());
    k.start_plugin(GPUSHARE_DEVICE_PLUGIN, {"--dialect", "aliyun", "--aliyun-mib", "--node", "n1", "--fake-gpus", gpus, "--pods-file", pods});
    const int status = k.wait_exit(std::chrono::seconds(20));
    INFO(k.plugin_log());
    CHECK(status == 2);
    CHECK_THAT(k.plugin_log(), Catch::Contains("aliyun.com/gpu-mem") && Catch::Contains("131072 devices") &&
                                   Catch::Contains("4 MiB") && Catch::Contains("--aliyun-mib"));
    CHECK(k.registrar().wait(1, std::chrono::seconds(1)).empty());
  }
  TestKubelet k;
  const std::string gpus = k.dir() + "/gpus.json", pods = k.dir() + "/pods.json";
  write(gpus, fake_gpus(2, 4096, nullptr));
  write(pods, json::array());
  k.start_plugin(GPUSHARE_DEVICE_PLUGIN, {"--dialect", "aliyun", "--aliyun-mib", "--node", "n1", "--fake-gpus", gpus, "--pods-file", pods});
  auto regs = k.registrar().wait(2);
  INFO(k.plugin_log());
  REQUIRE(regs.size() == 2);
  auto mem = k.plugin(find(regs, "aliyun.com/gpu-mem").endpoint());
  Watch w(*mem);
  v1beta1::ListAndWatchResponse l;
  REQUIRE(w.wait(1, l));
  CHECK(l.devices_size() == 8192);
  // Growing the GPUs past the limit while running: refused like any bad file, the old list stays.
  write(gpus, fake_gpus(8, 16384, nullptr));
  for (int i = 0; i < 200 && k.plugin_log().find("kept the previous GPUs") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK_THAT(k.plugin_log(), Catch::Contains("kept the previous GPUs") && Catch::Contains("4 MiB"));
  CHECK_FALSE(w.wait(2, l, std::chrono::seconds(1)));
  CHECK(k.stop_plugin() == 0);
}

// NVML through a stand-in libnvidia-ml.so.1 (tests/device_plugin/fake_nvml.cpp, NVML's C
// signatures and return codes; found by dlopen through LD_LIBRARY_PATH).  When the XID event wait
// fails with an error other than a timeout (NVML_ERROR_GPU_IS_LOST: a GPU fell off the bus), the
// GPUs' health cannot be watched any more: every GPU is reported Unhealthy (what NVIDIA's plugin
// does) and the wait is retried no faster than once a second, not in a busy loop.
TEST_CASE("NVML (stand-in library): discovery, and a failing event wait marks every GPU unhealthy") {
  TestKubelet k;
  const std::string waits = k.dir() + "/waits.log";
  k.start_plugin(GPUSHARE_DEVICE_PLUGIN, {"--dialect", "nvidia", "--node", "n1"},
                 {{"LD_LIBRARY_PATH", GPUSHARE_FAKE_NVML_DIR}, {"GPUSHARE_FAKE_NVML_WAIT", "lost"}, {"GPUSHARE_FAKE_NVML_WAIT_LOG", waits}});
  auto regs = k.registrar().wait(1);
  INFO(k.plugin_log());
  REQUIRE(regs.size() == 1);
  CHECK_THAT(k.plugin_log(), Catch::Contains("2 GPUs from nvml"));
  auto stub = k.plugin(regs[0].endpoint());
  Watch w(*stub);
  v1beta1::ListAndWatchResponse l;
  REQUIRE(w.wait(1, l));
  REQUIRE(l.devices_size() == 2);
  CHECK(l.devices(0).id() == "GPU-fa4e0000-0000-0000-0000-000000000000");
  bool all_unhealthy = false;
  for (std::size_t n = 1; n <= 3 && !all_unhealthy; ++n) {
    if (!w.wait(n, l, std::chrono::seconds(10))) break;
    all_unhealthy = l.devices(0).health() == "Unhealthy" && l.devices(1).health() == "Unhealthy";
  }
  CHECK(all_unhealthy);
  CHECK_THAT(k.plugin_log(), Catch::Contains("event wait failed") && Catch::Contains("15"));
  // Not a busy loop: count the wait calls over the next stretch, against the once-a-second retry.
  // (A ratio of calls, not a time: a spinning loop makes hundreds of thousands of calls.)
  auto lines = [&] {
    std::ifstream f(waits);
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>(), '\n'));
  };
  const int before = lines();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(lines() - before < 50);
  CHECK(k.stop_plugin() == 0);
}
