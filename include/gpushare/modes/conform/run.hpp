// gpushare/modes/conform/run.hpp — runs a conformance suite by its `suite` field.  Needs nlohmann_json.
//
// Each compatible mode adds its runner as one header in this folder and one row in
// `runners()` below; a runner hands its per-case logic to `run_cases` (report.hpp).
// `run_suite` reports an unsupported suite as `supported == false` rather than throwing, so a
// command line can list every file's outcome.
//
// @code
//   nlohmann::json suite = nlohmann::json::parse(text);
//   gpushare::conform::SuiteReport r = gpushare::conform::run_suite(suite, "../shared/data/conformance");
//   std::cout << r.passed << " passed, " << r.failed() << " failed\n";
// @endcode
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/model/errors.hpp"
#include "gpushare/modes/tencent/conform_quota.hpp"
#include "gpushare/modes/kueue/conform.hpp"
#include "gpushare/modes/conform/report.hpp"
#include "gpushare/modes/nvidia/conform.hpp"
#include "gpushare/modes/tencent/conform_topology.hpp"
#include "gpushare/modes/aliyun/conform.hpp"
#include "gpushare/modes/hami/conform.hpp"
#include "gpushare/modes/tencent/conform_admission.hpp"

namespace gpushare {
namespace conform {

/// A runner takes the parsed suite and the folder the suite file lives in (fixtures such as
/// ../topology/<name>.json are found relative to it).
using SuiteRunner = std::function<SuiteReport(const nlohmann::json& suite, const std::string& suite_dir)>;

/// @brief Suite name -> runner, for every suite this build supports.
inline const std::map<std::string, SuiteRunner>& runners() {
  static const std::map<std::string, SuiteRunner> table = {
      {"gpuallocator-besteffort", &run_gpuallocator_besteffort},
      {"gpu-admission-quota", &run_gpu_admission_quota},
      {"kueue-quota", &run_kueue_quota},
      {"tencent-gpu-manager-topology", &run_tencent_gpu_manager_topology},
      {"aliyun-gpushare", &run_aliyun},
      {"hami-score", &run_hami},
      {"tencent-gpu-admission", &run_tencent_admission},
  };
  return table;
}

/// @brief Names of the suites this build can run, sorted.
inline std::vector<std::string> supported_suites() {
  std::vector<std::string> out;
  for (const auto& kv : runners()) out.push_back(kv.first);
  return out;
}

/// @brief Runs `suite` (a parsed suite file).  Throws ParseError if it has no string `suite`
/// field or no `cases` array; an unknown suite gives a report with `supported == false`.
inline SuiteReport run_suite(const nlohmann::json& suite, const std::string& suite_dir) {
  if (!suite.is_object() || !suite.contains("suite") || !suite["suite"].is_string()) {
    throw ParseError("conformance suite: missing string field 'suite'");
  }
  if (!suite.contains("cases") || !suite["cases"].is_array()) {
    throw ParseError("conformance suite " + suite["suite"].get<std::string>() + ": missing array field 'cases'");
  }
  const std::string name = suite["suite"].get<std::string>();
  auto it = runners().find(name);
  if (it == runners().end()) {
    SuiteReport r;
    r.suite = name;
    r.supported = false;
    return r;
  }
  SuiteReport r = it->second(suite, suite_dir);
  r.suite = name;
  r.supported = true;
  return r;
}

}  // namespace conform
}  // namespace gpushare
