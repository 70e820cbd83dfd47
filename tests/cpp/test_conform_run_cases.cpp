// conform::run_cases, the per-case loop every conformance runner uses: counting, failure records,
// errors turned into failed cases, the "?" id, and a runner-supplied expectation.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

#include <gpushare/modes/conform/report.hpp>

using gpushare::conform::run_cases;
using nlohmann::json;

namespace {
// Doubles "x"; throws on a negative one, as a runner does on input it cannot read.
json doubled(const json& c) {
  const int x = c.at("x").get<int>();
  if (x < 0) throw std::invalid_argument("negative x");
  return 2 * x;
}
}  // namespace

TEST_CASE("run_cases counts a pass, records a difference and turns a throw into a failure") {
  const json suite = json::parse(R"({"cases": [
      {"id": "ok", "x": 2, "expect": 4},
      {"id": "boom", "x": -1, "expect": -2},
      {"id": "wrong", "x": 3, "expect": 7}]})");
  const auto r = run_cases(suite, doubled, std::equal_to<>());
  CHECK(r.passed == 1);
  REQUIRE(r.failed() == 2);
  // The throwing case does not stop the ones after it.
  CHECK(r.failures[0].id == "boom");
  CHECK(r.failures[0].expected == "-2");
  CHECK(r.failures[0].got == "error: negative x");
  CHECK(r.failures[1].id == "wrong");
  CHECK(r.failures[1].expected == "7");
  CHECK(r.failures[1].got == "6");
}

TEST_CASE("run_cases names a case without id \"?\" and fails a case without expect") {
  const json suite = json::parse(R"({"cases": [{"x": 1, "expect": 5}, {"id": "no-expect", "x": 1},
                                               {"id": 7, "x": 1, "expect": 0}, {"id": null, "x": 1, "expect": 2}]})");
  const auto r = run_cases(suite, doubled, std::equal_to<>());
  CHECK(r.passed == 1);  // a null id does not stop a case that matches
  REQUIRE(r.failed() == 3);
  CHECK(r.failures[0].id == "?");
  CHECK(r.failures[0].got == "2");
  CHECK(r.failures[1].id == "no-expect");
  CHECK(r.failures[1].expected == "null");
  CHECK_THAT(r.failures[1].got, Catch::StartsWith("error: ") && Catch::Contains("'expect'"));  // nlohmann's wording
  CHECK(r.failures[2].id == "7");
}

TEST_CASE("run_cases uses the runner's comparison and expectation") {
  const json suite = json::parse(R"({"cases": [{"id": "a", "x": 2, "want": [4]}, {"id": "b", "x": 2, "want": [5]}]})");
  auto within_one = [](const json& got, const json& exp) { return std::abs(got.get<int>() - exp.get<int>()) <= 1; };
  auto first_want = [](const json& c) { return c.at("want").at(0); };
  const auto r = run_cases(suite, doubled, within_one, first_want);
  CHECK(r.passed == 2);
  CHECK(r.failed() == 0);
  const auto strict = run_cases(suite, doubled, std::equal_to<>(), first_want);
  CHECK(strict.passed == 1);
  REQUIRE(strict.failed() == 1);
  CHECK(strict.failures[0].id == "b");
  CHECK(strict.failures[0].expected == "5");
}

TEST_CASE("run_cases lets an exception that is not a std::exception through") {
  const json suite = json::parse(R"({"cases": [{"id": "a", "expect": 1}]})");
  auto throws_int = [](const json&) -> json { throw 42; };
  CHECK_THROWS_AS(run_cases(suite, throws_int, std::equal_to<>()), int);
}
