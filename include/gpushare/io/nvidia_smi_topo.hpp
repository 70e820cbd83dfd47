// Parser for the text printed by `nvidia-smi topo -m` (and `-mp`). Handles tab- and
// space-aligned output, the old SOC spelling, NIC rows/columns (resolved through the
// "NIC Legend"), and the CPU Affinity / NUMA Affinity / GPU NUMA ID columns. Malformed input
// throws gpushare::ParseError naming the line and column.
//
// @code
//   auto smi = gpushare::parse_nvidia_smi_topo(text);   // cells, affinities, NIC names
//   gpushare::Topology t = smi.to_topology();            // NV# -> nvlink(), PCIe labels -> pcie()
// @endcode
#pragma once

#include <cctype>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/model/topology.hpp"

namespace gpushare {

/// @brief What `nvidia-smi topo -m` printed, cell by cell (GPU x GPU part plus per-GPU columns).
struct SmiTopo {
  int gpus = 0;                                            ///< number of GPU rows
  std::vector<std::vector<std::string>> cells;             ///< GPU x GPU cells, trimmed
  std::optional<std::vector<std::optional<std::string>>> cpu_affinity;  ///< per GPU, or no column
  std::optional<std::vector<std::optional<int>>> numa_affinity;         ///< per GPU, or no column
  std::vector<std::string> nics;  ///< non-GPU device columns in printed order, legend-resolved

  /// @brief Convert to a Topology: NV# cells give the NVLink count (PCIe level unknown there),
  /// PCIe labels give the level; NUMA from the NUMA Affinity column when present.
  Topology to_topology() const;
};

namespace detail {

struct SmiField {
  std::string text;  // trimmed
  int column;        // 1-based column of the field's first non-blank character (or field start)
};

inline std::string smi_trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// Tab mode: every tab separates a field (empty fields kept). Space mode: runs of >= min_gap
// spaces separate fields.
inline std::vector<SmiField> smi_split(const std::string& line, bool tabs, int min_gap) {
  std::vector<SmiField> out;
  if (tabs) {
    std::size_t start = 0;
    for (;;) {
      std::size_t t = line.find('\t', start);
      std::string raw = line.substr(start, t == std::string::npos ? std::string::npos : t - start);
      std::size_t lead = 0;
      while (lead < raw.size() && raw[lead] == ' ') ++lead;
      out.push_back({smi_trim(raw), static_cast<int>(start + (lead < raw.size() ? lead : 0)) + 1});
      if (t == std::string::npos) break;
      start = t + 1;
    }
    return out;
  }
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    if (i >= line.size()) break;
    std::size_t s = i;
    for (;;) {
      while (i < line.size() && line[i] != ' ') ++i;
      std::size_t j = i;
      while (j < line.size() && line[j] == ' ') ++j;
      if (j >= line.size() || static_cast<int>(j - i) >= min_gap) break;
      i = j;
    }
    out.push_back({line.substr(s, i - s), static_cast<int>(s) + 1});
  }
  return out;
}

[[noreturn]] inline void smi_fail(int line, int col, const std::string& msg) {
  throw ParseError("nvidia-smi topo: line " + std::to_string(line) + ", column " +
                   std::to_string(col) + ": " + msg);
}

inline bool smi_is_gpu_label(const std::string& s, int& idx) {
  if (s.size() < 4 || s.compare(0, 3, "GPU") != 0) return false;
  int v = 0;
  for (std::size_t k = 3; k < s.size(); ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    v = v * 10 + (s[k] - '0');
    if (v > 100000) return false;
  }
  idx = v;
  return true;
}

inline bool smi_is_nvlink(const std::string& s, int& count) {
  if (s.size() < 3 || s[0] != 'N' || s[1] != 'V') return false;
  int v = 0;
  for (std::size_t k = 2; k < s.size(); ++k) {
    if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    v = v * 10 + (s[k] - '0');
    if (v > 100000) return false;
  }
  count = v;
  return true;
}

}  // namespace detail

/// @brief Parse `nvidia-smi topo -m` output. Throws ParseError("line L, column C: ...").
inline SmiTopo parse_nvidia_smi_topo(const std::string& text) {
  using namespace detail;
  std::vector<std::string> lines;
  {
    std::size_t s = 0;
    while (s <= text.size()) {
      std::size_t e = text.find('\n', s);
      std::string l = text.substr(s, e == std::string::npos ? std::string::npos : e - s);
      if (!l.empty() && l.back() == '\r') l.pop_back();
      lines.push_back(l);
      if (e == std::string::npos) break;
      s = e + 1;
    }
  }
  // Header: first non-blank line.
  std::size_t h = 0;
  while (h < lines.size() && smi_trim(lines[h]).empty()) ++h;
  if (h == lines.size()) smi_fail(1, 1, "empty input, expected a header line starting with GPU0");
  const bool tabs = lines[h].find('\t') != std::string::npos;
  std::vector<SmiField> head;
  for (auto& f : smi_split(lines[h], tabs, 2))
    if (!f.text.empty()) head.push_back(f);
  const int hl = static_cast<int>(h) + 1;
  int ndev = 0, ngpu = 0;
  bool has_cpu = false, has_numa = false;
  int cpu_pos = -1, numa_pos = -1;  // offset after the device cells in a row
  std::vector<std::string> dev_names;
  bool in_extra = false;
  int extra = 0;
  for (auto& f : head) {
    int gi = 0;
    if (f.text == "CPU Affinity") { has_cpu = true; cpu_pos = extra++; in_extra = true; continue; }
    if (f.text == "NUMA Affinity") { has_numa = true; numa_pos = extra++; in_extra = true; continue; }
    if (f.text == "GPU NUMA ID") { extra++; in_extra = true; continue; }
    if (in_extra) smi_fail(hl, f.column, "device column '" + f.text + "' after affinity columns");
    if (smi_is_gpu_label(f.text, gi)) {
      if (gi != ngpu || ndev != ngpu)
        smi_fail(hl, f.column, "expected GPU" + std::to_string(ngpu) + ", got '" + f.text + "'");
      ++ngpu;
    }
    dev_names.push_back(f.text);
    ++ndev;
  }
  if (ngpu == 0) smi_fail(hl, 1, "header has no GPU0 column");

  SmiTopo out;
  out.gpus = ngpu;
  out.cells.assign(ngpu, std::vector<std::string>(ngpu));
  if (has_cpu) out.cpu_affinity.emplace(ngpu);
  if (has_numa) out.numa_affinity.emplace(ngpu);

  std::size_t li = h + 1;
  int rows = 0;
  for (; li < lines.size(); ++li) {
    const std::string t = smi_trim(lines[li]);
    if (t.empty() || t == "Legend:" || t == "NIC Legend:") break;
    const int ln = static_cast<int>(li) + 1;
    // Space-aligned rows: a single-space gap separates fields too (cells never contain spaces);
    // tab rows keep empty fields so empty affinity cells are seen.
    std::vector<SmiField> f = smi_split(lines[li], tabs, 1);
    if (tabs && lines[li].find('\t') == std::string::npos)
      smi_fail(ln, 1, "row is not tab-separated like the header");
    if (f.empty() || f[0].text.empty()) smi_fail(ln, 1, "row has no device label");
    if (rows >= ndev) smi_fail(ln, f[0].column, "more rows than header columns");
    if (f[0].text != dev_names[rows])
      smi_fail(ln, f[0].column,
               "expected row '" + dev_names[rows] + "', got '" + f[0].text + "'");
    if (static_cast<int>(f.size()) < 1 + ndev)
      smi_fail(ln, static_cast<int>(lines[li].size()) + 1,
               "row has " + std::to_string(f.size() - 1) + " cells, expected " +
                   std::to_string(ndev));
    for (int c = 0; c < ndev; ++c) {
      const SmiField& cell = f[1 + c];
      int nv = 0;
      PcieLevel lvl{};
      const bool diag = (c == rows);
      if (diag) {
        if (cell.text != "X") smi_fail(ln, cell.column, "diagonal cell must be X, got '" + cell.text + "'");
      } else if (cell.text == "X" || !(smi_is_nvlink(cell.text, nv) || parse_pcie_level(cell.text, lvl))) {
        smi_fail(ln, cell.column, "bad link cell '" + cell.text + "'");
      }
      if (rows < ngpu && c < ngpu) out.cells[rows][c] = cell.text;
    }
    if (rows < ngpu) {
      auto at = [&](int pos) -> const SmiField* {
        std::size_t k = 1 + ndev + pos;
        return (pos >= 0 && k < f.size()) ? &f[k] : nullptr;
      };
      if (has_cpu) {
        const SmiField* c = at(cpu_pos);
        if (c && !c->text.empty() && c->text != "N/A") (*out.cpu_affinity)[rows] = c->text;
      }
      if (has_numa) {
        const SmiField* c = at(numa_pos);
        if (c && !c->text.empty() && c->text != "N/A") {
          int v = 0;
          for (char ch : c->text) {
            if (!std::isdigit(static_cast<unsigned char>(ch)))
              smi_fail(ln, c->column, "NUMA Affinity '" + c->text + "' is not an integer");
            v = v * 10 + (ch - '0');
            if (v > 1000000) smi_fail(ln, c->column, "NUMA Affinity too large");
          }
          (*out.numa_affinity)[rows] = v;
        }
      }
    }
    ++rows;
  }
  if (rows < ngpu)
    smi_fail(static_cast<int>(li) + 1, 1,
             "expected row GPU" + std::to_string(rows) + " (" + std::to_string(ngpu) + " GPUs)");
  // NIC legend.
  std::vector<std::pair<std::string, std::string>> legend;
  for (; li < lines.size(); ++li) {
    const std::string t = smi_trim(lines[li]);
    if (t.size() > 3 && t.compare(0, 3, "NIC") == 0) {
      std::size_t colon = t.find(':');
      if (colon == std::string::npos) continue;
      std::string key = t.substr(0, colon);
      bool digits = key.size() > 3;
      for (std::size_t k = 3; k < key.size(); ++k)
        digits = digits && std::isdigit(static_cast<unsigned char>(key[k]));
      if (digits) legend.emplace_back(key, smi_trim(t.substr(colon + 1)));
    }
  }
  for (int d = ngpu; d < ndev; ++d) {
    std::string n = dev_names[d];
    for (auto& kv : legend)
      if (kv.first == n) { n = kv.second; break; }
    out.nics.push_back(n);
  }
  // Symmetry of the GPU part.
  for (int i = 0; i < ngpu; ++i)
    for (int j = i + 1; j < ngpu; ++j)
      if (out.cells[i][j] != out.cells[j][i])
        throw ParseError("nvidia-smi topo: cell GPU" + std::to_string(i) + "/GPU" +
                         std::to_string(j) + " is '" + out.cells[i][j] + "' but GPU" +
                         std::to_string(j) + "/GPU" + std::to_string(i) + " is '" +
                         out.cells[j][i] + "'");
  return out;
}

inline Topology SmiTopo::to_topology() const {
  Topology t(gpus);
  for (int i = 0; i < gpus; ++i)
    for (int j = i + 1; j < gpus; ++j) {
      int nv = 0;
      PcieLevel lvl = PcieLevel::unknown;
      if (!detail::smi_is_nvlink(cells[i][j], nv)) parse_pcie_level(cells[i][j], lvl);
      t.set_link(i, j, lvl, nv);
    }
  if (numa_affinity)
    for (int i = 0; i < gpus; ++i)
      if ((*numa_affinity)[i]) t.set_numa(i, *(*numa_affinity)[i]);
  bool all_nv = gpus > 2;
  for (int i = 0; i < gpus && all_nv; ++i)
    for (int j = i + 1; j < gpus; ++j)
      if (t.nvlink()(i, j) < 6) { all_nv = false; break; }
  // Every pair with NV6 or more (DGX-2/A100/H100 style) is only possible through NVSwitch.
  t.set_nvswitch(all_nv);
  return t;
}

}  // namespace gpushare
