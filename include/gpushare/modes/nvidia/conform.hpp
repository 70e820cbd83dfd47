// Conformance runner for suite "gpuallocator-besteffort" (mode nvidia, go-gpuallocator
// BestEffort). Single cases call nvidia_besteffort(available, required, size); sequence cases
// start with every GPU free and remove what each step returns.
//
// @code
//   auto r = gpushare::conform::run_gpuallocator_besteffort(suite, "../shared/data/conformance");
// @endcode
#pragma once

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/io/topology_json.hpp"
#include "gpushare/modes/nvidia/besteffort.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {

namespace detail {
/// @brief Loads ../topology/<name>.json relative to the suite folder (cached per call site).
inline const Topology& load_fixture(std::map<std::string, Topology>& cache,
                                    const std::string& suite_dir, const std::string& name) {
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  const std::string path = suite_dir + "/../topology/" + name + ".json";
  std::ifstream f(path);
  if (!f) throw NotFound("topology fixture not found: " + path);
  nlohmann::json j = nlohmann::json::parse(f);
  return cache.emplace(name, topology_from_json(j)).first->second;
}
}  // namespace detail

/// @brief Runs the gpuallocator-besteffort suite.
inline SuiteReport run_gpuallocator_besteffort(const nlohmann::json& suite,
                                               const std::string& suite_dir) {
  std::map<std::string, Topology> cache;
  auto produce = [&](const nlohmann::json& c) -> nlohmann::json {
    const Topology& t = detail::load_fixture(cache, suite_dir, c.at("topology").get<std::string>());
    if (!c.contains("sequence"))
      return nvidia_besteffort(t, c.at("available").get<std::vector<int>>(),
                               c.at("required").get<std::vector<int>>(), c.at("size").get<int>());
    nlohmann::json got = nlohmann::json::array();
    std::vector<int> free;
    for (int i = 0; i < t.size(); ++i) free.push_back(i);
    for (const auto& step : c["sequence"]) {
      auto r = nvidia_besteffort(t, free, {}, step.at("size").get<int>());
      got.push_back(r);
      for (int d : r) free.erase(std::find(free.begin(), free.end(), d));
    }
    return got;
  };
  // A sequence case expects one answer a step.
  auto expected_of = [](const nlohmann::json& c) -> nlohmann::json {
    if (!c.contains("sequence")) return c.at("expect");
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& step : c["sequence"]) steps.push_back(step.at("expect"));
    return steps;
  };
  return run_cases(suite, produce, std::equal_to<>(), expected_of);
}

}  // namespace conform
}  // namespace gpushare
