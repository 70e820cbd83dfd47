// gpushare/modes/conform/report.hpp — the result of running one conformance suite, and the per-case
// loop every runner shares.  Needs nlohmann_json.
//
// A conformance suite (../shared/data/conformance/*.json) is a list of cases with inputs and
// expected outputs for one compatible mode.  Each runner returns a SuiteReport: how many cases
// passed and, for each failed case, its id with the expected and the actual value as JSON text.
#pragma once

#include <exception>
#include <functional>  // std::equal_to<>, the usual `matches`
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gpushare {
namespace conform {

/// @brief One failed case: its id, what the suite expects and what gpushare produced.
struct CaseFailure {
  std::string id;
  std::string expected;  ///< compact JSON
  std::string got;       ///< compact JSON, or "error: <what>" when the case threw
};

/// @brief Outcome of one suite file.
struct SuiteReport {
  std::string suite;          ///< the file's `suite` field
  bool supported = false;     ///< false if no runner exists for this suite
  int passed = 0;
  std::vector<CaseFailure> failures;
  int failed() const { return static_cast<int>(failures.size()); }
};

/// @brief How a failure names case `c`: its `id` string, any other `id` as JSON text, else "?".
inline std::string case_id(const nlohmann::json& c) {
  if (!c.is_object() || !c.contains("id")) return "?";
  return c["id"].is_string() ? c["id"].get<std::string>() : c["id"].dump();
}

/// @brief A case's own `expect` field: what most suites compare gpushare's answer with.
inline nlohmann::json case_expectation(const nlohmann::json& c) { return c.at("expect"); }

/// @brief Runs every case of `suite["cases"]` through one runner's logic and counts the outcomes.
///
/// For each case, in order: `expected = expected_of(case)`, `got = produce(case)`; the case passes
/// when `matches(got, expected)`, else it is recorded as {case_id(case), expected.dump(),
/// got.dump()}.  A std::exception thrown by any of the three fails that case with
/// got = "error: <what()>" (plain text) and the next case runs; other exceptions propagate.
/// @param suite a parsed suite: an object with a `cases` array
/// @param produce `nlohmann::json(const nlohmann::json& c)`: gpushare's answer to case `c`
/// @param matches `bool(const nlohmann::json& got, const nlohmann::json& expected)`
/// @param expected_of `nlohmann::json(const nlohmann::json& c)`; by default the case's `expect`
/// @return passed count and failures; `suite` and `supported` are left for run_suite to set
/// @code
///   SuiteReport r = run_cases(
///       suite, [](const nlohmann::json& c) -> nlohmann::json { return c.at("a").get<int>() + c.at("b").get<int>(); },
///       std::equal_to<>());
/// @endcode
template <class Produce, class Matches, class ExpectedOf = nlohmann::json (*)(const nlohmann::json&)>
SuiteReport run_cases(const nlohmann::json& suite, Produce produce, Matches matches,
                      ExpectedOf expected_of = &case_expectation) {
  SuiteReport rep;
  for (const auto& c : suite.at("cases")) {
    const std::string id = case_id(c);
    nlohmann::json expected;
    try {
      expected = expected_of(c);
      const nlohmann::json got = produce(c);
      if (matches(got, expected)) ++rep.passed;
      else rep.failures.push_back({id, expected.dump(), got.dump()});
    } catch (const std::exception& e) {
      rep.failures.push_back({id, expected.dump(), std::string("error: ") + e.what()});
    }
  }
  return rep;
}

}  // namespace conform
}  // namespace gpushare
