#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <fstream>
#include <string>

#include "gpushare/modes/conform/run.hpp"
#include "gpushare/modes/tencent/topology.hpp"

using namespace gpushare;

TEST_CASE("tencent-gpu-manager-topology suite passes") {
  const std::string dir = std::string(GPUSHARE_DATA_DIR) + "/conformance";
  std::ifstream f(dir + "/tencent-gpu-manager-topology.json");
  REQUIRE(f.good());
  auto suite = nlohmann::json::parse(f);
  auto r = conform::run_suite(suite, dir);
  for (auto& fl : r.failures) WARN(fl.id << " expected " << fl.expected << " got " << fl.got);
  CHECK(r.supported);
  CHECK(r.passed == static_cast<int>(suite["cases"].size()));
  CHECK(r.failed() == 0);
}

TEST_CASE("tencent allocator: failed allocation books nothing") {
  TencentTopologyAllocator a({{"X", "PIX"}, {"PIX", "X"}}, 1024);
  CHECK(a.allocate(300, 1).error == "no free node");
  CHECK(a.gpu_free(0));
  CHECK(a.gpu_free(1));
  CHECK(a.allocate(50, 1, /*predicate_gpu=*/1).error != "");
  CHECK(a.cores_left(0) == 100);
  CHECK_THROWS_AS(TencentTopologyAllocator({{"X", "FOO"}, {"FOO", "X"}}, 1), InvalidArgument);
}
