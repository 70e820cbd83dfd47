// Kubernetes edge: quantity spellings, pod parsing per dialect, bad objects, and the aliyun suite.
#include <catch2/catch.hpp>

#include <fstream>
#include <limits>
#include <random>

#include <gpushare/modes/conform/run.hpp>
#include <gpushare/k8s/annotations.hpp>
#include <gpushare/modes/hami/hami.hpp>
#include <gpushare/k8s/node.hpp>
#include <gpushare/k8s/pod.hpp>

using namespace gpushare;
using namespace gpushare::k8s;
using nlohmann::json;

TEST_CASE("quantities in every Kubernetes spelling", "[k8s][quantity]") {
  CHECK(parse_quantity("1", "q").value() == 1);
  CHECK(parse_quantity("500m", "q").milli_value() == 500);
  CHECK(parse_quantity("500m", "q").value() == 1);  // rounds up like Quantity.Value()
  CHECK(parse_quantity("8Gi", "q").value() == 8LL << 30);
  CHECK(parse_quantity("1e3", "q").value() == 1000);
  CHECK(parse_quantity("1E3", "q").value() == 1000);
  CHECK(parse_quantity("1.5", "q").milli_value() == 1500);
  CHECK(parse_quantity("1.5Gi", "q").value() == 3LL << 29);
  CHECK(parse_quantity("2k", "q").value() == 2000);
  CHECK(parse_quantity("3M", "q").value() == 3000000);
  CHECK(parse_quantity("100n", "q").milli_value() == 1);
  CHECK(parse_quantity("+4", "q").value() == 4);
  CHECK(parse_quantity("-4", "q").value() == -4);
  CHECK(parse_quantity(".5", "q").milli_value() == 500);
  CHECK(parse_quantity("1e-3", "q").milli_value() == 1);
  CHECK(parse_quantity("0", "q").value() == 0);
  CHECK(parse_quantity("1Ki", "q").value() == 1024);
  CHECK(parse_quantity("12e2", "q") == parse_quantity("1.2k", "q"));
  for (const char* bad : {"", "abc", "1.2.3", "1Gb", "1e", "Gi", "1 Gi", "--1"}) {
    INFO(bad);
    CHECK_THROWS_AS(parse_quantity(bad, "q"), ParseError);
  }
  CHECK_THROWS_AS(parse_quantity("1e400", "q"), InvalidArgument);
  CHECK_THROWS_AS(parse_quantity("99999999999Ei", "q"), InvalidArgument);
  // property: integer n spelled n, n000m, and (n*1024)Ki / 1024 agree
  std::mt19937_64 rng(7);
  for (int i = 0; i < 500; ++i) {
    long long n = static_cast<long long>(rng() % 1000000);
    CHECK(parse_quantity(std::to_string(n), "q").value() == n);
    CHECK(parse_quantity(std::to_string(n) + "000m", "q").value() == n);
    CHECK(parse_quantity(std::to_string(n) + "Ki", "q").value() == n * 1024);
    CHECK(parse_quantity(std::to_string(n) + "e0", "q").value() == n);
  }
  try {
    parse_quantity("1Gb", "pod default/p: containers[0]");
    FAIL("no throw");
  } catch (const ParseError& e) {
    CHECK(std::string(e.what()).find("pod default/p: containers[0]") != std::string::npos);
  }
}

namespace {
json pod_with(json containers, json init = json::array(), json ann = json::object()) {
  json p = {{"apiVersion", "v1"}, {"kind", "Pod"},
            {"metadata", {{"name", "p"}, {"namespace", "ns"}, {"annotations", ann}}},
            {"spec", {{"containers", containers}}}};
  if (!init.empty()) p["spec"]["initContainers"] = init;
  return p;
}
json ctr(const std::string& name, json limits, json requests = json::object()) {
  return {{"name", name}, {"resources", {{"limits", limits}, {"requests", requests}}}};
}
}  // namespace

TEST_CASE("aliyun pods: GiB by default, MiB option, containers summed", "[k8s][pod]") {
  json p = pod_with({ctr("a", {{"aliyun.com/gpu-mem", "3"}}), ctr("b", {{"aliyun.com/gpu-mem", 4}}), ctr("c", json::object())});
  auto r = pod_request(p, Dialect::Aliyun);
  CHECK(r.name == "ns/p");
  CHECK(r.request.gpu == GpuDemand{1, 0, 7 * 1024});
  REQUIRE(r.containers.size() == 3);
  CHECK(r.containers[0].demand == GpuDemand{1, 0, 3 * 1024});
  CHECK(r.containers[1].demand == GpuDemand{1, 0, 4 * 1024});
  CHECK(r.containers[2].demand.count == 0);
  DialectOptions mib;
  mib.aliyun_mib = true;
  CHECK(pod_request(p, Dialect::Aliyun, mib).request.gpu.mib == 7);
  CHECK(pod_request(p, Dialect::Tencent).request.gpu.count == 0);
}

TEST_CASE("tencent pods: vcuda-core 100 = one GPU, vcuda-memory 256 MiB units", "[k8s][pod]") {
  auto share = pod_request(pod_with({ctr("a", {{"tencent.com/vcuda-core", "50"}, {"tencent.com/vcuda-memory", "4"}})}), Dialect::Tencent);
  CHECK(share.request.gpu == GpuDemand{1, 500, 1024});
  auto whole = pod_request(pod_with({ctr("a", {{"tencent.com/vcuda-core", "200"}})}), Dialect::Tencent);
  CHECK(whole.request.gpu.count == 2);
  CHECK(whole.request.gpu.milli == 1000);
  // cores < 100 without memory is not a GPU request upstream
  CHECK(pod_request(pod_with({ctr("a", {{"tencent.com/vcuda-core", "50"}})}), Dialect::Tencent).request.gpu.count == 0);
}

TEST_CASE("hami and plain nvidia pods", "[k8s][pod]") {
  auto h = pod_request(pod_with({ctr("a", {{"nvidia.com/gpu", "2"}, {"nvidia.com/gpumem", "3000"}, {"nvidia.com/gpucores", "30"}})},
                                json::array(), {{"nvidia.com/use-gputype", "A100, V100"}, {"nvidia.com/nouse-gputype", "T4"}}),
                       Dialect::Hami);
  CHECK(h.request.gpu == GpuDemand{2, 300, 3000});
  CHECK(h.request.allowed_models == std::vector<std::string>{"A100", "V100"});
  CHECK(h.request.denied_models == std::vector<std::string>{"T4"});
  CHECK(!h.request.accepts_model("T4"));
  CHECK(h.request.accepts_model("A100"));
  auto n = pod_request(pod_with({ctr("a", {{"nvidia.com/gpu", 1}}), ctr("b", {{"nvidia.com/gpu", "1e0"}})}), Dialect::Nvidia);
  CHECK(n.request.gpu == GpuDemand{2, 1000, 0});
}

TEST_CASE("effective request: containers summed, init containers as max", "[k8s][pod]") {
  json p = pod_with({ctr("a", json::object(), {{"cpu", "500m"}, {"memory", "1Gi"}}),
                     ctr("b", json::object(), {{"cpu", "1"}, {"memory", "512Mi"}})},
                    json::array({ctr("i", json::object(), {{"cpu", "2"}, {"memory", "1Gi"}})}));
  auto r = pod_request(p, Dialect::Nvidia);
  CHECK(r.request.cpu_milli == 2000);  // max(1500, 2000)
  CHECK(r.request.host_mib == 1536);   // max(1536, 1024)
  json q = pod_with({ctr("a", {{"nvidia.com/gpu", 1}})}, json::array({ctr("i", {{"nvidia.com/gpu", 4}})}));
  CHECK(pod_request(q, Dialect::Nvidia).request.gpu.count == 4);
  CHECK(pod_request(q, Dialect::Nvidia).containers.front().init);
}

TEST_CASE("bad pods give a clear error naming the object and field", "[k8s][pod][bad]") {
  auto msg = [](const json& p) {
    try {
      pod_request(p, Dialect::Aliyun);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(msg(json::array()).find("pod") != std::string::npos);
  CHECK(msg(json{{"spec", json::object()}}).find("metadata") != std::string::npos);
  json nospec = {{"metadata", {{"name", "x"}}}};
  CHECK(msg(nospec).find("spec") != std::string::npos);
  json p = pod_with({ctr("a", {{"aliyun.com/gpu-mem", "-2"}})});
  CHECK(msg(p).find("ns/p") != std::string::npos);
  CHECK(msg(p).find("aliyun.com/gpu-mem") != std::string::npos);
  p = pod_with({ctr("a", {{"aliyun.com/gpu-mem", "1.5"}})});
  CHECK(msg(p).find("whole numbers") != std::string::npos);
  p = pod_with({ctr("a", {{"aliyun.com/gpu-mem", true}})});
  CHECK(msg(p).find("containers[0]") != std::string::npos);
  p = pod_with({ctr("a", {{"aliyun.com/gpu-mem", "lots"}})});
  CHECK(msg(p).find("lots") != std::string::npos);
  p = pod_with(json::object());
  CHECK(msg(p).find("spec.containers") != std::string::npos);
  CHECK_THROWS_AS(pod_request(pod_with({ctr("a", {{"nvidia.com/gpu", 100000}})}), Dialect::Nvidia), InvalidArgument);
  CHECK_THROWS_AS(parse_dialect("amd"), InvalidArgument);
}

TEST_CASE("aliyun-gpushare conformance suite", "[k8s][conform]") {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/conformance/aliyun-gpushare.json");
  REQUIRE(f.good());
  json suite = json::parse(f);
  auto rep = conform::run_suite(suite, std::string(GPUSHARE_DATA_DIR) + "/conformance");
  for (const auto& fl : rep.failures) WARN(fl.id << " expected " << fl.expected << " got " << fl.got);
  CHECK(rep.supported);
  CHECK(rep.passed == 31);
  CHECK(rep.failed() == 0);
}

TEST_CASE("tencent-gpu-admission conformance suite", "[k8s][conform]") {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/conformance/tencent-gpu-admission.json");
  REQUIRE(f.good());
  json suite = json::parse(f);
  auto rep = conform::run_suite(suite, std::string(GPUSHARE_DATA_DIR) + "/conformance");
  for (const auto& fl : rep.failures) WARN(fl.id << " expected " << fl.expected << " got " << fl.got);
  CHECK(rep.supported);
  CHECK(rep.passed == 24);
  CHECK(rep.failed() == 0);
}

TEST_CASE("hami-score conformance suite", "[k8s][conform]") {
  std::ifstream f(std::string(GPUSHARE_DATA_DIR) + "/conformance/hami-score.json");
  REQUIRE(f.good());
  json suite = json::parse(f);
  auto rep = conform::run_suite(suite, std::string(GPUSHARE_DATA_DIR) + "/conformance");
  for (const auto& fl : rep.failures) WARN(fl.id << " expected " << fl.expected << " got " << fl.got);
  CHECK(rep.supported);
  CHECK(rep.passed == 172);
  CHECK(rep.failed() == 0);
}

// Found by fuzz_k8s_objects (10-minute run): a HAMi register annotation whose "numa" was 5.5e33
// was cast to int, undefined behaviour (UBSan: float-cast-overflow). Every integer read from
// outside JSON now goes through io::json_integer. The fuzzer's input is kept in
// fuzz/corpus/fuzz_k8s_objects/ and replayed by ctest.
TEST_CASE("integers from untrusted JSON are checked, never cast", "[k8s][bad]") {
  using io::json_integer;
  CHECK(json_integer(json(5), "x", 0, 10) == 5);
  CHECK(json_integer(json(-1), "x", -1, 10) == -1);
  CHECK_THROWS_WITH(json_integer(json::parse("18446744073709551615"), "f", 0, std::numeric_limits<std::int64_t>::max()),
                    Catch::Contains("f: 18446744073709551615 is outside 0.."));
  CHECK_THROWS_AS(json_integer(json(0), "x", 1, 10), InvalidArgument);  // unsigned below lo
  CHECK_THROWS_AS(json_integer(json(11), "x", 1, 10), InvalidArgument);
  CHECK_THROWS_AS(json_integer(json(-2), "x", -1, 10), InvalidArgument);
  CHECK_THROWS_WITH(json_integer(json(2.0), "dev numa", 0, 10), Catch::Contains("dev numa: must be an integer, got 2.0"));
  CHECK_THROWS_AS(json_integer(json(5.5e33), "x", 0, 10), ParseError);
  CHECK_THROWS_AS(json_integer(json("5"), "x", 0, 10), ParseError);

  const std::string reg = R"([{"id":"GPU-0","count":10,"devmem":15359,"devcore":100,"type":"T4","numa":5.5e33,"index":0}])";
  CHECK_THROWS_WITH(decode_hami_node_register(reg, "node n1"), Catch::Contains("device 0 numa: must be an integer"));
  const std::string big = R"([{"id":"GPU-0","count":10,"devmem":4294967296,"devcore":100,"type":"T4"}])";
  CHECK_THROWS_WITH(decode_hami_node_register(big, "node n1"), Catch::Contains("devmem: 4294967296 is outside"));
  json p = {{"metadata", {{"name", "p"}}},
            {"spec", {{"priority", 1e300}, {"containers", {{{"name", "c"}, {"resources", {{"limits", {{"nvidia.com/gpu", "1"}}}}}}}}}}};
  CHECK_THROWS_WITH(pod_request(p, Dialect::Nvidia), Catch::Contains("pod default/p: spec.priority: must be an integer"));
  p["spec"]["priority"] = 4294967296LL;
  CHECK_THROWS_WITH(pod_request(p, Dialect::Nvidia), Catch::Contains("spec.priority: 4294967296 is outside"));
  p["spec"]["priority"] = -5;
  CHECK(pod_request(p, Dialect::Nvidia).request.priority == -5);
}

// Found by fuzz_k8s_objects (second 10-minute run): tencent.com/vcuda-memory "1Ei" on a node
// overflowed the per-GPU MiB (mem / count * 256, signed overflow). Node GPU counts and memory
// are now range-checked before any narrowing or multiplication, and quantities' milli values
// saturate instead of wrapping.
TEST_CASE("absurd node GPU amounts are refused, not overflowed", "[k8s][bad]") {
  auto node = [](json capacity, json labels = json::object()) {
    return json{{"metadata", {{"name", "n1"}, {"labels", labels}}}, {"status", {{"capacity", capacity}}}};
  };
  CHECK_THROWS_WITH(node_from_json(node({{"tencent.com/vcuda-core", "200"}, {"tencent.com/vcuda-memory", "1Ei"}}), Dialect::Tencent),
                    Catch::Contains("n1") && Catch::Contains("impossible GPU memory"));
  CHECK_THROWS_WITH(node_from_json(node({{"aliyun.com/gpu-count", "2"}, {"aliyun.com/gpu-mem", "9e15"}}), Dialect::Aliyun),
                    Catch::Contains("impossible GPU memory"));
  CHECK_THROWS_WITH(node_from_json(node({{"nvidia.com/gpu", "4294967297"}}), Dialect::Nvidia),
                    Catch::Contains("impossible GPU count 4294967297"));
  CHECK_THROWS_AS(node_from_json(node({{"cpu", "9e18"}}), Dialect::Nvidia), InvalidArgument);
  CHECK(parse_quantity("9e18", "q").milli_value() == INT64_MAX);
  auto ok = node_from_json(node({{"tencent.com/vcuda-core", "200"}, {"tencent.com/vcuda-memory", "64"}, {"cpu", "8"}}), Dialect::Tencent);
  REQUIRE(ok.node.gpus.size() == 2);
  CHECK(ok.node.gpus[0].mib_total == 32 * 256);
}

TEST_CASE("absurd pod GPU amounts are refused before any multiplication", "[k8s][bad]") {
  auto pod = [](json limits) {
    return json{{"metadata", {{"name", "p"}}}, {"spec", {{"containers", {{{"name", "c"}, {"resources", {{"limits", limits}}}}}}}}};
  };
  CHECK_THROWS_WITH(pod_request(pod({{"aliyun.com/gpu-mem", "9000000000000000000"}}), Dialect::Aliyun),
                    Catch::Contains("aliyun.com/gpu-mem 9000000000000000000 is impossibly large"));
  CHECK_THROWS_WITH(pod_request(pod({{"tencent.com/vcuda-core", "100"}, {"tencent.com/vcuda-memory", "1Ei"}}), Dialect::Tencent),
                    Catch::Contains("tencent.com/vcuda-memory"));
  CHECK_THROWS_WITH(pod_request(pod({{"tencent.com/vcuda-core", "429496729600"}}), Dialect::Tencent),
                    Catch::Contains("impossible GPU count 4294967296"));
  CHECK_THROWS_WITH(pod_request(pod({{"nvidia.com/gpu", "4294967297"}}), Dialect::Nvidia),
                    Catch::Contains("impossible GPU count 4294967297"));
  CHECK_THROWS_AS(pod_request(pod({{"nvidia.com/gpu", "1"}, {"nvidia.com/gpucores", "9000000000000000000"}}), Dialect::Hami),
                  InvalidArgument);
}

// Found while refactoring the conformance runners: a hami-score case with init_containers > 0
// and no containers made calc_score read past the container list (segfault).
TEST_CASE("hami calc_score refuses an init-container count larger than the container list", "[k8s][bad]") {
  hami::PodAsk ask;
  ask.init_containers = 1;
  CHECK_THROWS_WITH(hami::calc_score({}, ask), Catch::Contains("1 init containers but lists 0 containers"));
  ask.init_containers = -1;
  CHECK_THROWS_AS(hami::calc_score({}, ask), InvalidArgument);
  json suite = {{"suite", "hami-score"},
                {"cases", {{{"id", "broken"}, {"kind", "calc_score"}, {"nodes", json::array()}, {"containers", json::array()},
                            {"init_containers", 2}, {"expect", {{"selected", ""}}}}}}};
  auto rep = conform::run_suite(suite, ".");
  CHECK(rep.passed == 0);
  REQUIRE(rep.failures.size() == 1);
  CHECK(rep.failures[0].id == "broken");
  CHECK_THAT(rep.failures[0].got, Catch::Contains("error: hami calc_score: the pod says it has 2 init containers"));
}
