// gpushare/modes/tencent/conform_admission.hpp — runner for the `tencent-gpu-admission` suite.
//
// @code
//   auto r = gpushare::conform::run_tencent_admission(suite_json, dir);
// @endcode
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/modes/tencent/admission.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {

/// @brief Runs every case of tencent-gpu-admission.json.  Errors and skips compare by kind.
inline SuiteReport run_tencent_admission(const nlohmann::json& suite, const std::string& /*dir*/) {
  namespace tc = k8s::tencent;
  auto produce = [](const nlohmann::json& c) -> nlohmann::json {
    std::vector<tc::NodeState> nodes;
    for (const auto& n : c.at("nodes")) {
      tc::NodeState s{n.at("name").get<std::string>(), {}};
      for (const auto& g : n.at("gpus"))
        s.gpus.push_back({g.at("core_total").get<std::int64_t>(), g.at("core_used").get<std::int64_t>(),
                          g.at("mem_total").get<std::int64_t>(), g.at("mem_used").get<std::int64_t>()});
      nodes.push_back(s);
    }
    std::vector<tc::ContainerAsk> cs;
    const bool multi = c.contains("containers");
    if (multi) {
      for (const auto& x : c.at("containers")) cs.push_back({x.at("cores").get<std::int64_t>(), x.at("memory_units").get<std::int64_t>()});
    } else {
      cs.push_back({c.at("request").at("cores").get<std::int64_t>(), c.at("request").at("memory_units").get<std::int64_t>()});
    }
    auto f = tc::filter(nodes, cs);
    if (f.skip) return {{"skip", "not a GPU pod"}};
    nlohmann::json got;
    got["failed"] = f.failed;
    if (f.node.empty()) {
      got["error"] = "no node can host the pod";
    } else {
      got["node"] = f.node;
      if (multi) got["gpus_per_container"] = f.gpus; else got["gpus"] = f.gpus.at(0);
    }
    return got;
  };
  // A skip matches any expected skip; a pod no node can host matches an expected error with the
  // same per-node failures, whatever the message.
  auto matches = [](const nlohmann::json& got, const nlohmann::json& exp) {
    if (got.contains("skip")) return exp.contains("skip");
    if (got.contains("error")) return exp.contains("error") && exp.at("failed") == got.at("failed");
    return got == exp;
  };
  return run_cases(suite, produce, matches);
}

}  // namespace conform
}  // namespace gpushare
