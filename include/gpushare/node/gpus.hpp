// gpushare/node/gpus.hpp — the GPUs of one node as the device plugin sees them: index, UUID,
// memory, model, health and the interconnect topology.  Three sources fill it: NVML
// (node/nvml.hpp), the text of `nvidia-smi --query-gpu=index,uuid,memory.total,name
// --format=csv,noheader,nounits` plus `nvidia-smi topo -m` (io/nvidia_smi_topo.hpp), and a JSON
// file (`--fake-gpus`, for tests and machines without GPUs).  Needs nlohmann_json.
//
// Fake-GPU file:
//   {"gpus": [{"index": 0, "uuid": "GPU-0a...", "memory_mib": 16384, "model": "Tesla-V100-SXM2-16GB",
//              "healthy": true, "numa": 0}, ...],
//    "topology": { ...the fixture format of io/topology_json.hpp... }}      (optional)
//
// @code
//   auto inv = gpushare::node::inventory_from_json(nlohmann::json::parse(text), "fake-gpus gpus.json");
//   inv.gpus[1].uuid;   // "GPU-..."
//   inv.topology.nvlink()(0, 1);
// @endcode
#pragma once

#include <cctype>
#include <cstdint>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/io/json_number.hpp"
#include "gpushare/io/topology_json.hpp"
#include "gpushare/model/errors.hpp"
#include "gpushare/model/topology.hpp"

namespace gpushare {
namespace node {

/// @brief One GPU of the node.
struct NodeGpu {
  int index = 0;
  std::string uuid;        ///< "GPU-xxxxxxxx-..." as NVML and nvidia-smi print it
  std::int64_t mib = 0;    ///< total memory
  std::string model;
  bool healthy = true;
  int numa = -1;           ///< NUMA node, -1 when unknown
};

/// @brief Every GPU of the node (index i at position i) and their topology.
struct GpuInventory {
  std::vector<NodeGpu> gpus;
  Topology topology;
  std::string source;  ///< "nvml", "nvidia-smi" or "fake-gpus FILE", for messages

  /// @brief Position of the GPU with this UUID, -1 when none.
  int find_uuid(const std::string& uuid) const {
    for (const auto& g : gpus)
      if (g.uuid == uuid) return g.index;
    return -1;
  }
};

/// @brief Checks the invariants every source must meet: indices 0..n-1 in order, UUIDs unique,
/// non-empty and at most 50 characters (device IDs must stay under the kubelet's 63), memory
/// positive, topology of the same size.  Throws InvalidArgument naming `what` and the GPU.
inline void validate_inventory(const GpuInventory& inv, const std::string& what) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < inv.gpus.size(); ++i) {
    const NodeGpu& g = inv.gpus[i];
    const std::string w = what + ": GPU " + std::to_string(i);
    if (g.index != static_cast<int>(i)) throw InvalidArgument(w + ": index " + std::to_string(g.index) + " (GPUs must be listed by index 0..n-1)");
    if (g.uuid.empty()) throw InvalidArgument(w + ": empty uuid");
    if (g.uuid.size() > 50) throw InvalidArgument(w + ": uuid '" + g.uuid + "' longer than 50 characters");
    for (char c : g.uuid)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
        throw InvalidArgument(w + ": uuid '" + g.uuid + "' has a character other than letters, digits, '-', '_', '.'");
    if (!seen.insert(g.uuid).second) throw InvalidArgument(w + ": uuid '" + g.uuid + "' listed twice");
    if (g.mib <= 0) throw InvalidArgument(w + ": memory must be positive");
  }
  if (inv.topology.size() != static_cast<int>(inv.gpus.size()))
    throw InvalidArgument(what + ": topology has " + std::to_string(inv.topology.size()) + " GPUs, the list has " +
                          std::to_string(inv.gpus.size()));
}

/// @brief Reads the fake-GPU JSON (see the file comment).  A missing topology means n GPUs with
/// unknown PCIe levels and no NVLink.  Throws ParseError / InvalidArgument naming `what` and the field.
inline GpuInventory inventory_from_json(const nlohmann::json& j, const std::string& what) {
  if (!j.is_object()) throw ParseError(what + ": top level must be an object");
  if (!j.contains("gpus") || !j.at("gpus").is_array()) throw ParseError(what + ": 'gpus' missing or not an array");
  GpuInventory inv;
  inv.source = what;
  const auto& a = j.at("gpus");
  if (a.size() > 64) throw InvalidArgument(what + ": more than 64 GPUs");
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto& e = a[i];
    const std::string w = what + ": gpus[" + std::to_string(i) + "]";
    if (!e.is_object()) throw ParseError(w + ": must be an object");
    NodeGpu g;
    g.index = e.contains("index") ? static_cast<int>(io::json_integer(e.at("index"), w + ".index", 0, 63)) : static_cast<int>(i);
    if (!e.contains("uuid") || !e.at("uuid").is_string()) throw ParseError(w + ".uuid: missing or not a string");
    g.uuid = e.at("uuid").get<std::string>();
    if (!e.contains("memory_mib")) throw ParseError(w + ".memory_mib: missing");
    g.mib = io::json_integer(e.at("memory_mib"), w + ".memory_mib", 1, std::int64_t(1) << 40);
    if (e.contains("model")) {
      if (!e.at("model").is_string()) throw ParseError(w + ".model: must be a string");
      g.model = e.at("model").get<std::string>();
    }
    if (e.contains("healthy")) {
      if (!e.at("healthy").is_boolean()) throw ParseError(w + ".healthy: must be true or false");
      g.healthy = e.at("healthy").get<bool>();
    }
    if (e.contains("numa")) g.numa = static_cast<int>(io::json_integer(e.at("numa"), w + ".numa", -1, 1024));
    inv.gpus.push_back(g);
  }
  if (j.contains("topology")) {
    try {
      inv.topology = topology_from_json(j.at("topology"));
    } catch (const Error& e) {
      throw ParseError(what + ": topology: " + e.what());
    }
  } else {
    inv.topology = Topology(static_cast<int>(inv.gpus.size()));
  }
  for (const auto& g : inv.gpus)
    if (g.numa >= 0 && g.index < inv.topology.size()) inv.topology.set_numa(g.index, g.numa);
  validate_inventory(inv, what);
  return inv;
}

/// @brief Parses `nvidia-smi --query-gpu=index,uuid,memory.total,name --format=csv,noheader,nounits`
/// (one "0, GPU-..., 16384, Tesla V100" line per GPU).  Throws ParseError naming the line.
inline std::vector<NodeGpu> parse_smi_query_csv(const std::string& text) {
  std::vector<NodeGpu> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    std::vector<std::string> f;
    std::size_t p = 0;
    for (int k = 0; k < 3; ++k) {  // the name (last) may itself contain commas
      const auto q = line.find(',', p);
      if (q == std::string::npos) break;
      f.push_back(trim(line.substr(p, q - p)));
      p = q + 1;
    }
    f.push_back(trim(line.substr(p)));
    const std::string w = "nvidia-smi --query-gpu line " + std::to_string(lineno);
    if (f.size() != 4) throw ParseError(w + ": expected 4 fields (index, uuid, memory.total, name), got " + std::to_string(f.size()));
    NodeGpu g;
    try {
      std::size_t used = 0;
      const long idx = std::stol(f[0], &used);
      if (used != f[0].size() || idx < 0 || idx > 63) throw std::invalid_argument("index");
      g.index = static_cast<int>(idx);
      const long long mib = std::stoll(f[2], &used);
      if (used != f[2].size() || mib <= 0) throw std::invalid_argument("memory");
      g.mib = mib;
    } catch (const std::exception&) {
      throw ParseError(w + ": index '" + f[0] + "' or memory.total '" + f[2] + "' is not a number (use --format=csv,noheader,nounits)");
    }
    g.uuid = f[1];
    g.model = f[3];
    out.push_back(g);
  }
  return out;
}

/// @brief Device-plugin JSON view of an inventory (for logs and `--print-gpus`).
inline nlohmann::json inventory_to_json(const GpuInventory& inv) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& g : inv.gpus)
    a.push_back({{"index", g.index}, {"uuid", g.uuid}, {"memory_mib", g.mib}, {"model", g.model},
                 {"healthy", g.healthy}, {"numa", g.numa}});
  return {{"source", inv.source}, {"gpus", a}, {"topology", topology_to_json(inv.topology)}};
}

}  // namespace node
}  // namespace gpushare
