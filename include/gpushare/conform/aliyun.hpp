// gpushare/conform/aliyun.hpp — runner for the `aliyun-gpushare` conformance suite.
//
// @code
//   auto r = gpushare::conform::run_aliyun(suite_json, dir);
// @endcode
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../k8s/aliyun.hpp"
#include "report.hpp"

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
  SuiteReport rep;
  for (const auto& c : suite.at("cases")) {
    const std::string id = c.value("id", "?");
    const nlohmann::json& exp = c.at("expect");
    nlohmann::json got;
    bool ok = false;
    try {
      const std::string kind = c.at("kind").get<std::string>();
      if (kind == "bind") {
        auto b = al::bind(detail::aliyun_gpus(c.at("gpus")), detail::aliyun_request(c));
        if (b.ok()) got = {{"gpu", b.gpu}}; else got = {{"error", b.error}};
        ok = exp.contains("error") ? got.contains("error") : got == exp;
      } else if (kind == "filter") {
        const std::int64_t req = detail::aliyun_request(c);
        got = {{"pass", nlohmann::json::array()}, {"fail", nlohmann::json::object()}};
        for (const auto& n : c.at("nodes")) {
          auto f = al::filter(detail::aliyun_gpus(n.at("gpus")), req);
          if (f.pass) got["pass"].push_back(n.at("name")); else got["fail"][n.at("name").get<std::string>()] = f.reason;
        }
        ok = got == exp;
      } else if (kind == "capacity") {
        const std::int64_t count = c.at("gpu_count").get<std::int64_t>();
        if (c.contains("device_memory_mib")) {
          const bool mib = c.at("memory_unit").get<std::string>() == "MiB";
          const std::int64_t per = al::per_gpu_units(c.at("device_memory_mib").get<std::int64_t>(), mib);
          got = {{"per_gpu_total", al::per_gpu_total(per * count, count)}, {"node_gpu_mem", per * count}};
        } else {
          got = {{"per_gpu_total", al::per_gpu_total(c.at("node_gpu_mem").get<std::int64_t>(), count)}};
        }
        ok = got == exp;
      } else if (kind == "usage") {
        std::vector<al::PodUse> pods;
        for (const auto& p : c.at("pods")) pods.push_back({p.at("gpu_index").get<int>(), p.at("mem").get<std::int64_t>(), p.value("phase", "")});
        got = {{"used", al::usage(c.at("gpu_count").get<int>(), pods)}};
        ok = got == exp;
      } else {
        got = "unknown kind " + kind;
      }
    } catch (const std::exception& e) {
      got = std::string("exception: ") + e.what();
    }
    if (ok) ++rep.passed; else rep.failures.push_back({id, exp.dump(), got.dump()});
  }
  return rep;
}

}  // namespace conform
}  // namespace gpushare
