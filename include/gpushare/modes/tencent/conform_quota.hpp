// gpushare/modes/tencent/conform_quota.hpp — runner of the gpu-admission-quota suite (JSON
// loading of its inputs).  Needs nlohmann_json.
//
// @code
//   auto r = gpushare::conform::run_gpu_admission_quota(suite, dir);
// @endcode
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/modes/tencent/quota.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {

/// @brief Runs the gpu-admission-quota suite.
inline SuiteReport run_gpu_admission_quota(const nlohmann::json& suite, const std::string& /*suite_dir*/) {
  const std::string model_key = "tkestack.io/gpu-model", pool_key = "tkestack.io/gpu-pool";
  auto produce = [&](const nlohmann::json& c) -> nlohmann::json {
    GpuAdmissionConfig cfg;
    const bool has_cfg = c.contains("quota_config") && !c["quota_config"].is_null();
    if (has_cfg)
      for (auto it = c["quota_config"].begin(); it != c["quota_config"].end(); ++it) {
        GpuAdmissionNamespaceQuota nq;
        if (it.value().contains("quota"))
          for (auto m = it.value()["quota"].begin(); m != it.value()["quota"].end(); ++m) nq.quota[m.key()] = m.value().get<std::int64_t>();
        if (it.value().contains("pool") && it.value()["pool"].is_array())
          nq.pools = it.value()["pool"].get<std::vector<std::string>>();
        cfg.namespaces[it.key()] = nq;
      }
    std::vector<GpuAdmissionNode> nodes;
    for (auto it = c.at("node_labels").begin(); it != c.at("node_labels").end(); ++it)
      nodes.push_back({it.key(), it.value().value(model_key, ""), it.value().value(pool_key, "")});
    std::vector<GpuAdmissionPod> pods;
    if (c.contains("usage"))
      for (const auto& p : c["usage"].value("pods", nlohmann::json::array()))
        pods.push_back({p.value("name", ""), p.at("namespace").get<std::string>(), p.value("node", ""),
                        p.value("vcuda_core", std::int64_t{0}), p.value("phase", "Running")});
    const auto& rq = c.at("request");
    GpuAdmissionRequest req{rq.value("name", ""), rq.at("namespace").get<std::string>(),
                            rq.value("vcuda_core", std::int64_t{0}), rq.value("vcuda_memory", std::int64_t{0})};
    const GpuAdmissionResult r = gpu_admission_filter(has_cfg ? &cfg : nullptr, nodes, pods, req);
    return {{"gpu_pod", r.gpu_pod},
            {"quota_applies", r.quota_applies},
            {"allowed_models", r.allowed_models ? nlohmann::json(*r.allowed_models) : nlohmann::json()},
            {"passed_nodes", r.passed},
            {"failed_nodes", r.failed},
            {"error", nullptr}};
  };
  // passed_nodes compare as a set: gpushare lists them sorted, the suite need not.
  auto matches = [](const nlohmann::json& got, nlohmann::json exp) {
    if (exp.contains("passed_nodes")) {
      auto v = exp["passed_nodes"].get<std::vector<std::string>>();
      std::sort(v.begin(), v.end());
      exp["passed_nodes"] = v;
    }
    return got == exp;
  };
  return run_cases(suite, produce, matches);
}

}  // namespace conform
}  // namespace gpushare
