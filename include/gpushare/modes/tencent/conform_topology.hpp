// Conformance runner for suite "tencent-gpu-manager-topology" (mode tencent topology,
// tkestack/gpu-manager link / fragment / share on its PCIe tree).
//
// @code
//   auto r = gpushare::conform::run_tencent_gpu_manager_topology(suite, "../shared/data/conformance");
// @endcode
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/modes/tencent/topology.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {

namespace detail {
/// @brief Whether a sequence step asks for GPUs (and so has an expectation) rather than occupying,
/// freeing or releasing.
inline bool tencent_step_asks(const nlohmann::json& step) {
  return !step.contains("occupy") && !step.contains("free") && !step.contains("release");
}
}  // namespace detail

/// @brief Runs the tencent-gpu-manager-topology suite; a case passes when every step matches.
inline SuiteReport run_tencent_gpu_manager_topology(const nlohmann::json& suite, const std::string&) {
  auto produce = [](const nlohmann::json& c) {
    nlohmann::json got = nlohmann::json::array();
    TencentTopologyAllocator a(c.at("topology_cells").get<std::vector<std::vector<std::string>>>(),
                               c.value("gpu_memory_mib", std::int64_t{16384}));
    const bool evaluate = c.value("api", std::string("allocate")) == "evaluate";
    if (c.contains("used"))
      for (const auto& u : c["used"])
        a.occupy(u.at("gpu").get<int>(), u.at("cores").get<int>(), u.value("memory_units", 0));
    struct Booked { std::vector<int> gpus; int cores, units; };
    std::vector<Booked> booked;  // per sequence step (release k names a step index)
    for (const auto& s : c.at("sequence")) {
      booked.push_back({{}, 0, 0});
      if (s.contains("occupy")) {
        const auto& o = s["occupy"];
        a.occupy(o.at("gpu").get<int>(), o.at("cores").get<int>(), o.value("memory_units", 0));
        continue;
      }
      if (s.contains("free")) {
        const auto& o = s["free"];
        a.release(o.at("gpu").get<int>(), o.at("cores").get<int>(), o.value("memory_units", 0));
        continue;
      }
      if (s.contains("release")) {
        const auto& b = booked.at(s["release"].get<std::size_t>());
        for (int g : b.gpus) a.release(g, b.cores, b.units);
        continue;
      }
      const int cores = s.at("cores").get<int>();
      const int units = s.value("memory_units", 0);
      nlohmann::json out;
      if (evaluate) {
        std::vector<int> r;
        if (s.value("mode", std::string()) == "fragment") r = a.evaluate_fragment(cores / 100);
        else if (cores > 100) r = a.evaluate_link(cores / 100);
        else if (cores == 100) r = a.evaluate_fragment(1);
        else r = a.evaluate_share(cores, units);
        out = r;
        booked.back() = {{}, cores, units};
      } else {
        auto r = a.allocate(cores, units, s.value("predicate_gpu", -1));
        if (r.ok()) out = r.gpus;
        else out = nlohmann::json{{"error", r.error}};
        booked.back() = {r.gpus, cores, units};
      }
      got.push_back(out);
    }
    return got;
  };
  // One expectation per step that asks for GPUs (the others occupy, free or release).
  auto expected_of = [](const nlohmann::json& c) {
    nlohmann::json steps = nlohmann::json::array();
    for (const auto& s : c.at("sequence"))
      if (detail::tencent_step_asks(s))
        steps.push_back(s.contains("expect_error") ? nlohmann::json{{"error", s["expect_error"]}} : s.at("expect"));
    return steps;
  };
  return run_cases(suite, produce, std::equal_to<>(), expected_of);
}

}  // namespace conform
}  // namespace gpushare
