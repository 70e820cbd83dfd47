// gpushare/conform/report.hpp — the result of running one conformance suite.
//
// A conformance suite (../shared/data/conformance/*.json) is a list of cases with inputs and
// expected outputs for one compatible mode.  Each runner returns a SuiteReport: how many cases
// passed and, for each failed case, its id with the expected and the actual value as JSON text.
#pragma once

#include <string>
#include <vector>

namespace gpushare {
namespace conform {

/// @brief One failed case: its id, what the suite expects and what gpushare produced.
struct CaseFailure {
  std::string id;
  std::string expected;  ///< compact JSON
  std::string got;       ///< compact JSON, or an error message
};

/// @brief Outcome of one suite file.
struct SuiteReport {
  std::string suite;          ///< the file's `suite` field
  bool supported = false;     ///< false if no runner exists for this suite
  int passed = 0;
  std::vector<CaseFailure> failures;
  int failed() const { return static_cast<int>(failures.size()); }
};

}  // namespace conform
}  // namespace gpushare
