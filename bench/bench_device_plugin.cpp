// gpushare-device-plugin's aliyun Allocate matching (node/aliyun_match.hpp), without gRPC or an
// API server: N pending single-container pods on one node (sizes 1 and 2 GiB, so most calls have
// several same-size candidates), every one admitted in the kubelet's view, and N Allocate calls.
// Each iteration starts a new matcher, so the pod listing is parsed once per iteration (as after a
// cache expiry).  Items = Allocate calls.
#include <benchmark/benchmark.h>

#include "gpushare/node/aliyun_match.hpp"

using namespace gpushare;
using namespace gpushare::node;
using nlohmann::json;

namespace {

struct StaticPods : PodSource {
  json list;
  json list_pods(const std::string&) override { return list; }
  void patch_annotations(const std::string&, const std::string&, const std::map<std::string, std::string>&) override {}
};

struct AllAdmitted : KubeletView {
  std::vector<KubeletPod> pods;
  std::optional<std::vector<KubeletPod>> list() override { return pods; }
};

void BM_AliyunAllocate(benchmark::State& st) {
  const int n = static_cast<int>(st.range(0));
  json g = json::array();
  for (int i = 0; i < 8; ++i) g.push_back({{"uuid", "GPU-" + std::to_string(i)}, {"memory_mib", 32768}});
  const GpuInventory inv = inventory_from_json({{"gpus", g}}, "bench");
  StaticPods src;
  AllAdmitted view;
  json items = json::array();
  for (int i = 0; i < n; ++i) {
    const std::string name = "p" + std::to_string(i);
    json ann = json::object();
    for (const auto& kv : k8s::aliyun_bind_annotations(i % 8, 1 + i % 2, 32, 1000 + i)) ann[kv.first] = kv.second;
    items.push_back({{"metadata", {{"name", name}, {"namespace", "default"}, {"uid", name}, {"annotations", ann}}},
                     {"spec", {{"nodeName", "n1"}, {"containers", {{{"name", "main"}, {"resources", {{"limits", {{"aliyun.com/gpu-mem", 1 + i % 2}}}}}}}}}}});
    view.pods.push_back({"default", name, {}});
  }
  src.list = {{"items", items}};
  for (auto _ : st) {
    AliyunMatcher m("n1", src, &view, {false, std::int64_t(1) << 40});
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> ids;
      for (int k = 0; k < 1 + i % 2; ++k) ids.push_back(mem_device_id("GPU-0", k));
      benchmark::DoNotOptimize(m.allocate(inv, {ids}));
    }
  }
  st.SetItemsProcessed(st.iterations() * n);
}
BENCHMARK(BM_AliyunAllocate)->Arg(10)->Arg(110)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
