// JSON loading/saving of gpushare::Topology in the fixture format of shared/data/topology
// (keys gpus, pcie [n x n labels or null], nvlink [n x n ints], nvswitch, numa, optional name).
// Kept apart from model/topology.hpp so the model does not depend on nlohmann.
//
// @code
//   nlohmann::json j = nlohmann::json::parse(std::ifstream("dgx1-volta.json"));
//   gpushare::Topology t = gpushare::topology_from_json(j);
//   nlohmann::json back = gpushare::topology_to_json(t);
// @endcode
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

#include "gpushare/model/errors.hpp"
#include "gpushare/model/topology.hpp"

namespace gpushare {

namespace detail {
/// Whether `v` is a JSON integer in [lo, hi] (lo >= 0), read without any narrowing cast.
inline bool integer_in(const nlohmann::json& v, std::uint64_t lo, std::uint64_t hi) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() >= lo && v.get<std::uint64_t>() <= hi;
  if (!v.is_number_integer() || v.get<std::int64_t>() < 0) return false;
  const auto u = static_cast<std::uint64_t>(v.get<std::int64_t>());
  return u >= lo && u <= hi;
}
}  // namespace detail

/// @brief Build a Topology from a fixture-format JSON object. Throws ParseError naming the field.
inline Topology topology_from_json(const nlohmann::json& j) {
  auto fail = [](const std::string& m) -> void { throw ParseError("topology json: " + m); };
  if (!j.is_object()) fail("top level is not an object");
  if (!j.contains("gpus") || !j["gpus"].is_number_integer()) fail("'gpus' missing or not an integer");
  if (!detail::integer_in(j["gpus"], 0, 4096)) fail("'gpus' out of range 0..4096");
  const int n = j["gpus"].get<int>();
  Topology t(n);
  if (j.contains("name") && j["name"].is_string()) t.set_name(j["name"].get<std::string>());
  auto matrix = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key) || !j[key].is_array() || static_cast<int>(j[key].size()) != n)
      fail(std::string("'") + key + "' must be an array of " + std::to_string(n) + " rows");
    for (int i = 0; i < n; ++i)
      if (!j[key][i].is_array() || static_cast<int>(j[key][i].size()) != n)
        fail(std::string("'") + key + "[" + std::to_string(i) + "]' must have " +
             std::to_string(n) + " entries");
    return j[key];
  };
  const auto& pc = matrix("pcie");
  const auto& nv = matrix("nvlink");
  for (int i = 0; i < n; ++i)
    for (int k = 0; k < n; ++k) {
      const std::string where = "[" + std::to_string(i) + "][" + std::to_string(k) + "]";
      if (!detail::integer_in(nv[i][k], 0, 1024))
        fail("'nvlink" + where + "' is not an integer in 0..1024");
      if (nv[i][k] != nv[k][i]) fail("'nvlink" + where + "' is not symmetric");
      if (pc[i][k] != pc[k][i]) fail("'pcie" + where + "' is not symmetric");
      PcieLevel lvl = PcieLevel::unknown;
      if (!pc[i][k].is_null() &&
          (!pc[i][k].is_string() || !parse_pcie_level(pc[i][k].get<std::string>(), lvl)))
        fail("'pcie" + where + "' is not one of X, BRD, PIX, PXB, PHB, NODE, SYS or null");
      if ((i == k) != (lvl == PcieLevel::self) && !(i != k && pc[i][k].is_null()) &&
          !(i == k && pc[i][k].is_null()))
        fail("'pcie" + where + "': X must be exactly the diagonal");
      if (i == k && nv[i][k].get<int>() != 0) fail("'nvlink" + where + "' diagonal must be 0");
      if (i < k) t.set_link(i, k, lvl, nv[i][k].get<int>());
    }
  if (j.contains("nvswitch")) {
    if (!j["nvswitch"].is_boolean()) fail("'nvswitch' is not a boolean");
    t.set_nvswitch(j["nvswitch"].get<bool>());
  }
  if (j.contains("numa") && !j["numa"].is_null()) {
    const auto& nu = j["numa"];
    if (!nu.is_array() || static_cast<int>(nu.size()) != n)
      fail("'numa' must be an array of " + std::to_string(n) + " entries");
    for (int i = 0; i < n; ++i) {
      if (nu[i].is_null()) continue;
      if (!detail::integer_in(nu[i], 0, 65535))
        fail("'numa[" + std::to_string(i) + "]' is not an integer in 0..65535 or null");
      t.set_numa(i, nu[i].get<int>());
    }
  }
  return t;
}

/// @brief Serialise a Topology in the fixture format (unknown levels and NUMA as null).
inline nlohmann::json topology_to_json(const Topology& t) {
  const int n = t.size();
  nlohmann::json j;
  if (!t.name().empty()) j["name"] = t.name();
  j["gpus"] = n;
  j["pcie"] = nlohmann::json::array();
  j["nvlink"] = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    nlohmann::json pr = nlohmann::json::array(), nr = nlohmann::json::array();
    for (int k = 0; k < n; ++k) {
      auto l = t.pcie_level(i, k);
      if (l == PcieLevel::unknown) pr.push_back(nullptr);
      else pr.push_back(to_string(l));
      nr.push_back(t.nvlink()(i, k));
    }
    j["pcie"].push_back(pr);
    j["nvlink"].push_back(nr);
  }
  j["nvswitch"] = t.nvswitch();
  j["numa"] = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    if (t.numa()(i) < 0) j["numa"].push_back(nullptr);
    else j["numa"].push_back(t.numa()(i));
  }
  return j;
}

/// @brief Topologies by node name from a JSON object {"node name": topology object, ...}
/// (gpushare-extender --topology).  Throws ParseError naming the node.
/// @code
///   auto topos = gpushare::node_topologies_from_json(nlohmann::json::parse(R"({"n1": {"gpus": 2}})"));
/// @endcode
inline std::map<std::string, Topology> node_topologies_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw ParseError("node topologies json: top level is not an object of node name -> topology");
  std::map<std::string, Topology> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    try {
      out.emplace(it.key(), topology_from_json(it.value()));
    } catch (const ParseError& e) {
      throw ParseError("node topologies json: node '" + it.key() + "': " + e.what());
    }
  }
  return out;
}

}  // namespace gpushare
