// gpushare/modes/aliyun/conform.hpp — runner for the `aliyun-gpushare` conformance suite.
//
// @code
//   auto r = gpushare::conform::run_aliyun(suite_json, dir);
// @endcode
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/modes/aliyun/aliyun.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {

namespace detail {
inline std::vector<k8s::aliyun::GpuState> aliyun_gpus(const nlohmann::json& a) {
  std::vector<k8s::aliyun::GpuState> v;
  for (const auto& g : a) v.push_back({g.at("total").get<std::int64_t>(), g.at("used").get<std::int64_t>(),
                                       g.value("healthy", true)});
  return v;
}
inline std::int64_t aliyun_request(const nlohmann::json& c) {
  if (c.contains("container_limits")) {
    std::int64_t s = 0;
    for (const auto& x : c.at("container_limits")) s += x.get<std::int64_t>();
    return s;
  }
  return c.at("request").get<std::int64_t>();
}
}  // namespace detail

/// @brief Runs every case of aliyun-gpushare.json.  Bind errors compare by kind, not wording.
inline SuiteReport run_aliyun(const nlohmann::json& suite, const std::string& /*suite_dir*/) {
  namespace al = k8s::aliyun;
  auto produce = [](const nlohmann::json& c) -> nlohmann::json {
    const std::string kind = c.at("kind").get<std::string>();
    if (kind == "bind") {
      auto b = al::bind(detail::aliyun_gpus(c.at("gpus")), detail::aliyun_request(c));
      if (b.ok()) return {{"gpu", b.gpu}};
      return {{"error", b.error}};
    }
    if (kind == "filter") {
      const std::int64_t req = detail::aliyun_request(c);
      nlohmann::json got = {{"pass", nlohmann::json::array()}, {"fail", nlohmann::json::object()}};
      for (const auto& n : c.at("nodes")) {
        auto f = al::filter(detail::aliyun_gpus(n.at("gpus")), req);
        if (f.pass) got["pass"].push_back(n.at("name")); else got["fail"][n.at("name").get<std::string>()] = f.reason;
      }
      return got;
    }
    if (kind == "capacity") {
      const std::int64_t count = c.at("gpu_count").get<std::int64_t>();
      if (c.contains("device_memory_mib")) {
        const bool mib = c.at("memory_unit").get<std::string>() == "MiB";
        const std::int64_t per = al::per_gpu_units(c.at("device_memory_mib").get<std::int64_t>(), mib);
        return {{"per_gpu_total", al::per_gpu_total(per * count, count)}, {"node_gpu_mem", per * count}};
      }
      return {{"per_gpu_total", al::per_gpu_total(c.at("node_gpu_mem").get<std::int64_t>(), count)}};
    }
    if (kind == "usage") {
      std::vector<al::PodUse> pods;
      for (const auto& p : c.at("pods")) pods.push_back({p.at("gpu_index").get<int>(), p.at("mem").get<std::int64_t>(), p.value("phase", "")});
      return {{"used", al::usage(c.at("gpu_count").get<int>(), pods)}};
    }
    return "unknown kind " + kind;
  };
  // Only bind answers {"error": ...}; any bind error matches an expected one.
  auto matches = [](const nlohmann::json& got, const nlohmann::json& exp) {
    return exp.contains("error") ? got.contains("error") : got == exp;
  };
  return run_cases(suite, produce, matches);
}

}  // namespace conform
}  // namespace gpushare
