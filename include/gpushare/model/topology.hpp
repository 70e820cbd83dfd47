// GPU interconnect topology of one node: per GPU pair the PCIe relation, the NVLink count and an
// NVSwitch flag, plus the NUMA node of each GPU. Stored as Eigen matrices so the set-choice code
// can read them cheaply. Loaders live elsewhere (io/topology_json.hpp needs nlohmann,
// io/nvidia_smi_topo.hpp parses `nvidia-smi topo -m` text), so this header has no JSON dependency.
//
// @code
//   gpushare::Topology t(2);
//   t.set_link(0, 1, gpushare::PcieLevel::phb, /*nvlinks=*/2);
//   int nv = t.nvlink()(0, 1);            // 2
//   auto lvl = t.pcie_level(0, 1);        // PcieLevel::phb
// @endcode
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <vector>

#include "gpushare/model/errors.hpp"

namespace gpushare {

/// @brief PCIe relation between two devices, closest first (names as `nvidia-smi topo -m`).
enum class PcieLevel : std::int8_t {
  self = 0,     ///< X: the same device
  board = 1,    ///< BRD: same board (multi-GPU card)
  pix = 2,      ///< PIX: at most one PCIe bridge
  pxb = 3,      ///< PXB: several PCIe bridges, no host bridge
  phb = 4,      ///< PHB: through a PCIe host bridge (the CPU)
  node = 5,     ///< NODE: between host bridges inside one NUMA node
  sys = 6,      ///< SYS (old spelling SOC): across NUMA nodes / sockets
  unknown = 7,  ///< not known (e.g. hidden behind an NV# cell, or null in a fixture)
};

/// @brief Label of a level: "X", "BRD", "PIX", "PXB", "PHB", "NODE", "SYS" or "" for unknown.
inline const char* to_string(PcieLevel l) {
  switch (l) {
    case PcieLevel::self: return "X";
    case PcieLevel::board: return "BRD";
    case PcieLevel::pix: return "PIX";
    case PcieLevel::pxb: return "PXB";
    case PcieLevel::phb: return "PHB";
    case PcieLevel::node: return "NODE";
    case PcieLevel::sys: return "SYS";
    default: return "";
  }
}

/// @brief Parse a PCIe label (accepts the old "SOC" for SYS). Returns false if not a PCIe label.
inline bool parse_pcie_level(const std::string& s, PcieLevel& out) {
  if (s == "X") out = PcieLevel::self;
  else if (s == "BRD") out = PcieLevel::board;
  else if (s == "PIX") out = PcieLevel::pix;
  else if (s == "PXB") out = PcieLevel::pxb;
  else if (s == "PHB") out = PcieLevel::phb;
  else if (s == "NODE") out = PcieLevel::node;
  else if (s == "SYS" || s == "SOC") out = PcieLevel::sys;
  else return false;
  return true;
}

/// @brief Interconnect topology of the GPUs of one node (indices 0..n-1).
class Topology {
 public:
  using LevelMatrix = Eigen::Matrix<std::int8_t, Eigen::Dynamic, Eigen::Dynamic>;

  /// @brief An empty topology.
  Topology() = default;

  /// @brief n GPUs, all pairs unknown PCIe, no NVLink, NUMA unknown (-1).
  explicit Topology(int n) { resize(n); }

  /// @brief Number of GPUs.
  int size() const { return static_cast<int>(nvlink_.rows()); }

  /// @brief PCIe level matrix (values of PcieLevel); diagonal is `self`.
  const LevelMatrix& pcie() const { return pcie_; }
  /// @brief NVLink count matrix (symmetric, zero diagonal).
  const Eigen::MatrixXi& nvlink() const { return nvlink_; }
  /// @brief NUMA node of each GPU, -1 when unknown.
  const Eigen::VectorXi& numa() const { return numa_; }
  /// @brief True when GPUs are joined through NVSwitch.
  bool nvswitch() const { return nvswitch_; }
  /// @brief Optional machine name.
  const std::string& name() const { return name_; }

  /// @brief PCIe level of pair (i, j).
  PcieLevel pcie_level(int i, int j) const {
    check(i, "i");
    check(j, "j");
    return static_cast<PcieLevel>(pcie_(i, j));
  }

  /// @brief Set both directions of pair (i, j), i != j.
  void set_link(int i, int j, PcieLevel level, int nvlinks) {
    check(i, "i");
    check(j, "j");
    if (i == j) throw InvalidArgument("Topology::set_link: i == j (" + std::to_string(i) + ")");
    if (nvlinks < 0) throw InvalidArgument("Topology::set_link: nvlinks < 0");
    if (level == PcieLevel::self) throw InvalidArgument("Topology::set_link: level X for i != j");
    pcie_(i, j) = pcie_(j, i) = static_cast<std::int8_t>(level);
    nvlink_(i, j) = nvlink_(j, i) = nvlinks;
  }

  /// @brief Set the NUMA node of GPU i (-1 = unknown).
  void set_numa(int i, int node) {
    check(i, "i");
    if (node < -1) throw InvalidArgument("Topology::set_numa: node < -1");
    numa_(i) = node;
  }
  /// @brief Set the NVSwitch flag.
  void set_nvswitch(bool v) { nvswitch_ = v; }
  /// @brief Set the name.
  void set_name(std::string n) { name_ = std::move(n); }

  /// @brief Resize to n GPUs and reset every entry.
  void resize(int n) {
    if (n < 0) throw InvalidArgument("Topology: negative GPU count");
    pcie_ = LevelMatrix::Constant(n, n, static_cast<std::int8_t>(PcieLevel::unknown));
    for (int i = 0; i < n; ++i) pcie_(i, i) = static_cast<std::int8_t>(PcieLevel::self);
    nvlink_ = Eigen::MatrixXi::Zero(n, n);
    numa_ = Eigen::VectorXi::Constant(n, -1);
  }

 private:
  void check(int i, const char* what) const {
    if (i < 0 || i >= size())
      throw InvalidArgument(std::string("Topology: GPU index ") + what + "=" + std::to_string(i) +
                            " out of range [0," + std::to_string(size()) + ")");
  }

  LevelMatrix pcie_;
  Eigen::MatrixXi nvlink_;
  Eigen::VectorXi numa_;
  bool nvswitch_ = false;
  std::string name_;
};

}  // namespace gpushare
