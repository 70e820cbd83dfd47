// gpushare/modes/hami/conform.hpp — runner for the `hami-score` conformance suite.
//
// @code
//   auto r = gpushare::conform::run_hami(suite_json, dir);
// @endcode
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/modes/hami/hami.hpp"
#include "gpushare/k8s/quantity.hpp"
#include "gpushare/modes/conform/report.hpp"

namespace gpushare {
namespace conform {

namespace detail {
inline k8s::hami::Device hami_device(const nlohmann::json& j) {
  k8s::hami::Device d;
  d.id = j.at("id").get<std::string>();
  d.index = j.at("index").get<int>();
  d.type = j.at("type").get<std::string>();
  d.count = j.at("count").get<std::int32_t>();
  d.used = j.at("used").get<std::int32_t>();
  d.totalmem = j.at("totalmem").get<std::int32_t>();
  d.usedmem = j.at("usedmem").get<std::int32_t>();
  d.totalcore = j.at("totalcore").get<std::int32_t>();
  d.usedcores = j.at("usedcores").get<std::int32_t>();
  d.numa = j.at("numa").get<int>();
  d.health = j.at("health").get<bool>();
  d.mode = j.value("mode", "");
  return d;
}
inline std::vector<k8s::hami::Device> hami_devices(const nlohmann::json& a) {
  std::vector<k8s::hami::Device> v;
  for (const auto& d : a) v.push_back(hami_device(d));
  return v;
}
inline k8s::hami::ContainerReq hami_req(const nlohmann::json& j) {
  return {j.at("type").get<std::string>(), j.at("nums").get<std::int32_t>(), j.at("memreq").get<std::int32_t>(),
          j.at("mem_percentage").get<std::int32_t>(), j.at("coresreq").get<std::int32_t>()};
}
inline nlohmann::json hami_req_json(const k8s::hami::ContainerReq& r) {
  return {{"type", r.type}, {"nums", r.nums}, {"memreq", r.memreq}, {"mem_percentage", r.mem_percentage}, {"coresreq", r.coresreq}};
}
inline k8s::hami::Annotations hami_ann(const nlohmann::json& c, const char* key) {
  k8s::hami::Annotations a;
  if (c.contains(key)) for (const auto& kv : c.at(key).items()) a[kv.key()] = kv.value().get<std::string>();
  return a;
}
inline nlohmann::json hami_picked(const std::vector<k8s::hami::Picked>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : v) a.push_back({{"idx", p.idx}, {"uuid", p.uuid}, {"usedmem", p.usedmem}, {"usedcores", p.usedcores}});
  return a;
}
/// Integer value of a quantity as Go's Quantity.AsInt64 (nullopt when not an exact int64).
inline std::optional<std::int64_t> hami_int(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  k8s::Quantity q = k8s::parse_quantity(v.get<std::string>(), "hami quantity");
  if (!q.is_integer()) return std::nullopt;
  return q.value();
}
/// JSON equality where numbers compare with an absolute tolerance of 1e-4.
inline bool approx_equal(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return std::fabs(a.get<double>() - b.get<double>()) <= 1e-4;
  if (a.is_object() && b.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& kv : a.items()) if (!b.contains(kv.key()) || !approx_equal(kv.value(), b.at(kv.key()))) return false;
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) if (!approx_equal(a[i], b[i])) return false;
    return true;
  }
  return a == b;
}
}  // namespace detail

/// @brief Runs every case of hami-score.json (scores compared with tolerance 1e-4).
inline SuiteReport run_hami(const nlohmann::json& suite, const std::string& /*dir*/) {
  namespace hm = k8s::hami;
  auto produce = [](const nlohmann::json& c) {
    nlohmann::json got;
    const std::string kind = c.at("kind").get<std::string>();
    if (kind == "device_score") {
      std::vector<hm::ContainerReq> reqs;
      for (const auto& r : c.at("requests")) reqs.push_back(detail::hami_req(r));
      hm::Weights w;
      if (c.contains("weights")) w = {c["weights"].at("slot").get<std::int64_t>(), c["weights"].at("core").get<std::int64_t>(), c["weights"].at("memory").get<std::int64_t>()};
      got = {{"score", hm::device_score(detail::hami_device(c.at("device")), reqs, w)}};
    } else if (kind == "node_default_score") {
      got = {{"score", hm::node_default_score(detail::hami_devices(c.at("devices")))}};
    } else if (kind == "device_less") {
      auto key = [](const nlohmann::json& j) {
        return hm::SortKey{j.at("score").get<float>(), j.at("numa").get<int>(), j.at("index").get<int>(), j.at("used").get<std::int32_t>()};
      };
      got = {{"less", hm::device_less(c.at("policy").get<std::string>(), c.value("numa_bind", false), key(c.at("a")), key(c.at("b")))}};
    } else if (kind == "node_select") {
      std::map<std::string, float> s;
      for (const auto& kv : c.at("scores").items()) s[kv.key()] = kv.value().get<float>();
      const std::string n = hm::node_select(s, c.at("node_policy").get<std::string>());
      got = {{"node", n.empty() ? nlohmann::json(nullptr) : nlohmann::json(n)}};
    } else if (kind == "type_check") {
      got = {{"allowed", hm::type_allowed(detail::hami_ann(c, "annotations"), c.at("card_type").get<std::string>(),
                                          c.value("device_mode", ""), c.value("request_type", "NVIDIA"))}};
    } else if (kind == "resource_request") {
      hm::Config cfg;
      const auto& cj = c.at("config");
      cfg.memory_factor = cj.value("memory_factor", 1);
      cfg.default_memory = cj.value("default_memory", 0);
      cfg.default_cores = cj.value("default_cores", 0);
      hm::ContainerResources r;
      if (c.contains("limits")) for (const auto& kv : c["limits"].items()) r.limits[kv.key()] = detail::hami_int(kv.value());
      if (c.contains("requests")) for (const auto& kv : c["requests"].items()) r.requests[kv.key()] = detail::hami_int(kv.value());
      auto q = hm::resource_request(r, cfg);
      got = {{"request", q ? detail::hami_req_json(*q) : nlohmann::json(nullptr)}};
    } else if (kind == "fit") {
      auto f = hm::fit(detail::hami_devices(c.at("devices")), detail::hami_req(c.at("request")),
                       detail::hami_ann(c, "annotations"), detail::hami_ann(c, "node_annotations"),
                       c.contains("annotations") && c["annotations"].contains("hami.io/gpu-scheduler-policy")
                           ? c["annotations"]["hami.io/gpu-scheduler-policy"].get<std::string>() : std::string("spread"));
      got = {{"fit", f.fit}, {"devices", detail::hami_picked(f.devices)}, {"reason", f.reason}};
    } else if (kind == "calc_score") {
      std::vector<hm::NodeDevices> nodes;
      for (const auto& n : c.at("nodes")) nodes.push_back({n.at("name").get<std::string>(), detail::hami_devices(n.at("devices")), detail::hami_ann(n, "annotations")});
      hm::PodAsk pod;
      for (const auto& ctr : c.at("containers")) {
        std::vector<hm::ContainerReq> v;
        for (const auto& r : ctr) v.push_back(detail::hami_req(r));
        pod.containers.push_back(v);
      }
      pod.init_containers = c.value("init_containers", 0);
      pod.annotations = detail::hami_ann(c, "annotations");
      hm::Weights w;
      if (auto it = pod.annotations.find("hami.io/device-scoring-weights"); it != pod.annotations.end()) {
        for (const auto& part : hm::detail::split(it->second)) {
          auto eq = part.find('=');
          const std::string k = hm::detail::trim(part.substr(0, eq));
          const std::int64_t v = std::stoll(hm::detail::trim(part.substr(eq + 1)));
          if (k == "slot") w.slot = v; else if (k == "core") w.core = v; else if (k == "memory") w.memory = v;
        }
      }
      auto r = hm::calc_score(nodes, pod, c.value("gpu_policy", "spread"), c.value("node_policy", "binpack"), w);
      got["nodes"] = nlohmann::json::object();
      for (const auto& kv : r.nodes) {
        nlohmann::json dv = nlohmann::json::array();
        for (const auto& ctr : kv.second.devices) dv.push_back(detail::hami_picked(ctr));
        got["nodes"][kv.first] = {{"score", kv.second.score}, {"devices", dv}};
      }
      got["failed"] = r.failed;
      got["selected"] = r.selected.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.selected);
    } else {
      got = "unknown kind " + kind;
    }
    return got;
  };
  return run_cases(suite, produce, &detail::approx_equal);
}

}  // namespace conform
}  // namespace gpushare
