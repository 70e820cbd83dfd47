// The kueue-quota and gpu-admission-quota conformance suites pass with zero failures.
#include <catch2/catch.hpp>

#include <fstream>
#include <iostream>

#include <gpushare/modes/conform/run.hpp>

namespace {
nlohmann::json load(const std::string& file) {
  std::ifstream in(std::string(GPUSHARE_DATA_DIR) + "/conformance/" + file);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}
}  // namespace

TEST_CASE("kueue-quota suite passes") {
  const auto suite = load("kueue-quota.json");
  const auto r = gpushare::conform::run_suite(suite, std::string(GPUSHARE_DATA_DIR) + "/conformance");
  for (const auto& f : r.failures) std::cerr << f.id << " expected " << f.expected << " got " << f.got << "\n";
  CHECK(r.supported);
  CHECK(r.passed == static_cast<int>(suite["cases"].size()));
  CHECK(r.failed() == 0);
}

TEST_CASE("gpu-admission-quota suite passes") {
  const auto suite = load("gpu-admission-quota.json");
  const auto r = gpushare::conform::run_suite(suite, std::string(GPUSHARE_DATA_DIR) + "/conformance");
  for (const auto& f : r.failures) std::cerr << f.id << " expected " << f.expected << " got " << f.got << "\n";
  CHECK(r.supported);
  CHECK(r.passed == static_cast<int>(suite["cases"].size()));
  CHECK(r.failed() == 0);
}
