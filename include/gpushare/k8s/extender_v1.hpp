// gpushare/k8s/extender_v1.hpp — the kube-scheduler extender v1 wire types, read and written
// exactly as kube-scheduler sends and expects them.  Needs nlohmann_json.
//
// kube-scheduler's Go types carry no JSON tags, so it writes the Go field names ("Pod",
// "NodeNames", ...) and Go's decoder matches keys case-insensitively.  The decoders here do
// the same (so "pod", "POD" and "Pod" are one field), and the encoders write the exact names.
//
//   filter     POST ExtenderArgs          -> ExtenderFilterResult
//   prioritize POST ExtenderArgs          -> HostPriorityList (scores 0..10)
//   bind       POST ExtenderBindingArgs   -> ExtenderBindingResult
//
// @code
//   auto args = gpushare::k8s::ExtenderArgs::from_json(nlohmann::json::parse(body));
//   gpushare::k8s::ExtenderFilterResult r;
//   r.node_names = {"n1"};
//   r.failed_nodes["n2"] = "no single GPU has 8192 MiB free";
//   std::string reply = r.to_json().dump();
// @endcode
#pragma once

#include <cctype>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace k8s {

/// @brief The largest score a prioritize reply may give (kube-scheduler's MaxExtenderPriority).
inline constexpr std::int64_t max_extender_priority = 10;

namespace detail {
inline bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

/// The value of `key` in object `j` matched like Go's encoding/json: an exact match wins,
/// otherwise the first case-insensitive match.  nullptr if absent or JSON null.
inline const nlohmann::json* field(const nlohmann::json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto exact = j.find(key);
  if (exact != j.end()) return exact->is_null() ? nullptr : &*exact;
  for (auto it = j.begin(); it != j.end(); ++it)
    if (iequals(it.key(), key)) return it->is_null() ? nullptr : &*it;
  return nullptr;
}

inline std::string string_field(const nlohmann::json& j, const std::string& key, const std::string& what) {
  const nlohmann::json* v = field(j, key);
  if (!v) return "";
  if (!v->is_string()) throw ParseError(what + ": field " + key + " must be a string, got " + std::string(v->type_name()));
  return v->get<std::string>();
}
}  // namespace detail

/// @brief Arguments of filter and prioritize: the pod and the candidate nodes, either as full
/// Node objects (`nodes`) or by name (`node_names`, when the extender is nodeCacheCapable).
struct ExtenderArgs {
  nlohmann::json pod;                                  ///< the core/v1 Pod object
  std::optional<std::vector<nlohmann::json>> nodes;    ///< Nodes.items, if sent
  std::optional<std::vector<std::string>> node_names;  ///< NodeNames, if sent

  /// @brief Candidate node names, from whichever of the two fields was sent.
  std::vector<std::string> candidate_names() const {
    if (node_names) return *node_names;
    std::vector<std::string> out;
    if (nodes)
      for (const auto& n : *nodes) {
        const nlohmann::json* meta = detail::field(n, "metadata");
        out.push_back(meta ? detail::string_field(*meta, "name", "ExtenderArgs.Nodes.items[].metadata") : "");
      }
    return out;
  }

  /// @brief Decodes ExtenderArgs; throws ParseError naming the field on a wrong shape.
  static ExtenderArgs from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw ParseError("ExtenderArgs: expected a JSON object, got " + std::string(j.type_name()));
    ExtenderArgs a;
    const nlohmann::json* pod = detail::field(j, "Pod");
    if (!pod || !pod->is_object()) throw ParseError("ExtenderArgs: field Pod is missing or not an object");
    a.pod = *pod;
    if (const nlohmann::json* nodes = detail::field(j, "Nodes")) {
      const nlohmann::json* items = detail::field(*nodes, "items");
      if (!nodes->is_object() || (items && !items->is_array())) {
        throw ParseError("ExtenderArgs: field Nodes must be a NodeList object with an items array");
      }
      a.nodes = std::vector<nlohmann::json>();
      if (items)
        for (const auto& n : *items) {
          if (!n.is_object()) throw ParseError("ExtenderArgs: Nodes.items[] must be Node objects");
          a.nodes->push_back(n);
        }
    }
    if (const nlohmann::json* names = detail::field(j, "NodeNames")) {
      if (!names->is_array()) throw ParseError("ExtenderArgs: field NodeNames must be an array of strings");
      a.node_names = std::vector<std::string>();
      for (const auto& n : *names) {
        if (!n.is_string()) throw ParseError("ExtenderArgs: NodeNames[] must be strings");
        a.node_names->push_back(n.get<std::string>());
      }
    }
    if (!a.nodes && !a.node_names) throw ParseError("ExtenderArgs: neither Nodes nor NodeNames is set");
    return a;
  }
};

/// @brief Reply to filter.  When the request came with Node objects the passing nodes are
/// returned as Nodes, otherwise as NodeNames (kube-scheduler reads the one it sent).
struct ExtenderFilterResult {
  std::optional<std::vector<nlohmann::json>> nodes;
  std::optional<std::vector<std::string>> node_names;
  std::map<std::string, std::string> failed_nodes;                   ///< may pass on a retry
  std::map<std::string, std::string> failed_and_unresolvable_nodes;  ///< preemption will not help
  std::string error;

  nlohmann::json to_json() const {
    nlohmann::json j = nlohmann::json::object();
    if (nodes) j["Nodes"] = {{"metadata", nlohmann::json::object()}, {"items", *nodes}};
    else j["Nodes"] = nullptr;
    j["NodeNames"] = node_names ? nlohmann::json(*node_names) : nlohmann::json(nullptr);
    j["FailedNodes"] = failed_nodes;
    j["FailedAndUnresolvableNodes"] = failed_and_unresolvable_nodes;
    j["Error"] = error;
    return j;
  }
};

/// @brief One prioritize entry: a node and its score in 0..max_extender_priority.
struct HostPriority {
  std::string host;
  std::int64_t score = 0;
};

/// @brief Reply to prioritize: a JSON array of {"Host", "Score"}.
inline nlohmann::json to_json(const std::vector<HostPriority>& list) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& h : list) j.push_back({{"Host", h.host}, {"Score", h.score}});
  return j;
}

/// @brief Arguments of bind.
struct ExtenderBindingArgs {
  std::string pod_name, pod_namespace, pod_uid, node;

  /// @brief Decodes ExtenderBindingArgs; throws ParseError naming a missing field.
  static ExtenderBindingArgs from_json(const nlohmann::json& j) {
    if (!j.is_object()) throw ParseError("ExtenderBindingArgs: expected a JSON object, got " + std::string(j.type_name()));
    ExtenderBindingArgs a;
    a.pod_name = detail::string_field(j, "PodName", "ExtenderBindingArgs");
    a.pod_namespace = detail::string_field(j, "PodNamespace", "ExtenderBindingArgs");
    a.pod_uid = detail::string_field(j, "PodUID", "ExtenderBindingArgs");
    a.node = detail::string_field(j, "Node", "ExtenderBindingArgs");
    if (a.pod_name.empty()) throw ParseError("ExtenderBindingArgs: field PodName is missing or empty");
    if (a.node.empty()) throw ParseError("ExtenderBindingArgs: field Node is missing or empty");
    return a;
  }
};

/// @brief Reply to bind: {"Error": ""} on success.
struct ExtenderBindingResult {
  std::string error;
  nlohmann::json to_json() const { return {{"Error", error}}; }
};

}  // namespace k8s
}  // namespace gpushare
