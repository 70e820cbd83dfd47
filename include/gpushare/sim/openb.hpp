// gpushare/sim/openb.hpp — the trace simulator's input types and the loader for Alibaba's openb
// trace (cluster-trace-gpu-v2023: node lists and every pod-list variant, 5 or 11 columns).
//
// A load either returns every row or throws gpushare::ParseError naming the file, the line and
// the column; nothing is half-loaded.
//
// @code
//   auto nodes = gpushare::sim::load_openb_nodes("openb_node_list_gpu_node.csv");
//   auto pods  = gpushare::sim::load_openb_pods("openb_pod_list_default.csv");
// @endcode
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace sim {

/// @brief One machine of the simulated cluster: CPU (milli-cores), memory (MiB), GPU count and model.
struct SimNode {
  std::string name;        ///< node id (`sn` column)
  std::int64_t cpu_milli = 0;   ///< CPU capacity, milli-cores
  std::int64_t memory_mib = 0;  ///< memory capacity, MiB
  int gpus = 0;            ///< number of GPUs (0..8), each 1000 milli-GPU
  std::string model;       ///< GPU model label (empty when gpus == 0)
};

/// @brief One task of the trace. GPU demand is `num_gpu` GPUs of `gpu_milli` each.
struct SimPod {
  std::string name;            ///< task id
  std::int64_t cpu_milli = 0;       ///< CPU request, milli-cores
  std::int64_t memory_mib = 0;      ///< memory request, MiB
  int num_gpu = 0;             ///< GPUs requested (0 = CPU-only)
  int gpu_milli = 0;           ///< milli-GPU per requested GPU (0..1000)
  std::vector<std::string> gpu_spec;  ///< allowed GPU models; empty = any
  std::int64_t creation_time = -1;  ///< seconds, -1 when the file has no timestamps
  std::int64_t deletion_time = -1;  ///< seconds, -1 when the file has no timestamps
  /// @brief Total milli-GPU demand (gpu_milli * num_gpu).
  std::int64_t total_milli() const { return std::int64_t(gpu_milli) * num_gpu; }
  /// @brief A GPU-sharing task: one GPU, less than all of it.
  bool is_share() const { return num_gpu == 1 && gpu_milli < 1000; }
};

/// @brief The GPU models that appear in the openb node lists; anything else is rejected.
inline const std::vector<std::string>& known_gpu_models() {
  static const std::vector<std::string> m{"G1", "G2", "G3", "T4", "P100", "V100M16", "V100M32", "A10"};
  return m;
}

namespace detail {

inline std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') { out.push_back(cur); cur.clear(); }
    else if (c != '\r') cur.push_back(c);
  }
  out.push_back(cur);
  return out;
}

inline std::string where(const std::string& file, size_t line, const std::string& column) {
  return file + ":" + std::to_string(line) + ": column '" + column + "'";
}

inline std::int64_t parse_int(const std::string& s, const std::string& file, size_t line,
                         const std::string& column, std::int64_t lo, std::int64_t hi) {
  if (s.empty()) throw ParseError(where(file, line, column) + ": empty value");
  size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') { neg = s[0] == '-'; i = 1; }
  if (i >= s.size()) throw ParseError(where(file, line, column) + ": '" + s + "' is not an integer");
  std::int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9')
      throw ParseError(where(file, line, column) + ": '" + s + "' is not an integer");
    if (v > (std::int64_t(1) << 58)) throw ParseError(where(file, line, column) + ": '" + s + "' is too large");
    v = v * 10 + (s[i] - '0');
  }
  if (neg) v = -v;
  if (v < lo) throw ParseError(where(file, line, column) + ": " + s + " is below the minimum " + std::to_string(lo));
  if (v > hi) throw ParseError(where(file, line, column) + ": " + s + " is above the maximum " + std::to_string(hi));
  return v;
}

inline std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ParseError(path + ": cannot open file");
  std::vector<std::string> lines;
  std::string l;
  while (std::getline(in, l)) lines.push_back(l);
  return lines;
}

inline void check_header(const std::vector<std::string>& got, const std::vector<std::string>& want,
                         const std::string& file) {
  if (got.size() != want.size())
    throw ParseError(file + ":1: header has " + std::to_string(got.size()) + " columns, expected " +
                     std::to_string(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i])
      throw ParseError(file + ":1: column " + std::to_string(i + 1) + " is '" + got[i] + "', expected '" + want[i] + "'");
}

/// @brief Every data row of a CSV file, split, with its 1-based line number; the header must
/// be `cols` (or, if `short_cols` > 0 and the header has that many fields, its first
/// `short_cols`) and every row must have as many fields.  Blank lines are skipped.
template <class Row>
void for_each_row(const std::string& path, std::vector<std::string> cols, size_t short_cols, Row&& row) {
  auto lines = read_lines(path);
  if (lines.empty()) throw ParseError(path + ":1: empty file, expected a header");
  const auto header = split_csv_line(lines[0]);
  if (short_cols > 0 && header.size() == short_cols) cols.resize(short_cols);
  check_header(header, cols, path);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i] == "\r") continue;
    const auto f = split_csv_line(lines[i]);
    const size_t ln = i + 1;
    if (f.size() != cols.size())
      throw ParseError(path + ":" + std::to_string(ln) + ": row has " + std::to_string(f.size()) +
                       " columns, expected " + std::to_string(cols.size()));
    row(f, ln);
  }
}

}  // namespace detail

/// @brief Load an openb node list (`sn,cpu_milli,memory_mib,gpu,model`).
/// @throws ParseError naming file, line and column on any malformed row, unknown model or negative size.
inline std::vector<SimNode> load_openb_nodes(const std::string& path) {
  std::vector<SimNode> out;
  detail::for_each_row(path, {"sn", "cpu_milli", "memory_mib", "gpu", "model"}, 0,
                       [&](const std::vector<std::string>& f, size_t ln) {
    SimNode n;
    n.name = f[0];
    if (n.name.empty()) throw ParseError(detail::where(path, ln, "sn") + ": empty value");
    n.cpu_milli = detail::parse_int(f[1], path, ln, "cpu_milli", 0, std::int64_t(1) << 40);
    n.memory_mib = detail::parse_int(f[2], path, ln, "memory_mib", 0, std::int64_t(1) << 40);
    n.gpus = int(detail::parse_int(f[3], path, ln, "gpu", 0, 8));
    n.model = f[4];
    if (n.gpus > 0) {
      bool ok = false;
      for (const auto& m : known_gpu_models()) ok = ok || m == n.model;
      if (!ok) throw ParseError(detail::where(path, ln, "model") + ": unknown GPU model '" + n.model + "'");
    }
    out.push_back(std::move(n));
  });
  return out;
}

/// @brief Load an openb pod list: the 11-column files or the 5-column multigpu variants.
/// @throws ParseError naming file, line and column on any malformed row, unknown model or negative size.
inline std::vector<SimPod> load_openb_pods(const std::string& path) {
  const std::vector<std::string> full{"name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "gpu_spec",
                                      "qos", "pod_phase", "creation_time", "deletion_time", "scheduled_time"};
  std::vector<SimPod> out;
  detail::for_each_row(path, full, 5, [&](const std::vector<std::string>& f, size_t ln) {
    SimPod p;
    p.name = f[0];
    if (p.name.empty()) throw ParseError(detail::where(path, ln, "name") + ": empty value");
    p.cpu_milli = detail::parse_int(f[1], path, ln, "cpu_milli", 0, std::int64_t(1) << 40);
    p.memory_mib = detail::parse_int(f[2], path, ln, "memory_mib", 0, std::int64_t(1) << 40);
    p.num_gpu = int(detail::parse_int(f[3], path, ln, "num_gpu", 0, 8));
    p.gpu_milli = int(detail::parse_int(f[4], path, ln, "gpu_milli", 0, 1000));
    if (p.num_gpu == 0 && p.gpu_milli != 0)
      throw ParseError(detail::where(path, ln, "gpu_milli") + ": " + f[4] + " with num_gpu 0");
    if (p.num_gpu > 0 && p.gpu_milli == 0)
      throw ParseError(detail::where(path, ln, "gpu_milli") + ": 0 with num_gpu " + f[3]);
    if (p.num_gpu > 1 && p.gpu_milli != 1000)
      throw ParseError(detail::where(path, ln, "gpu_milli") + ": " + f[4] + " with num_gpu " + f[3] +
                       " (multi-GPU tasks take whole GPUs)");
    if (f.size() == full.size()) {
      if (!f[5].empty()) {
        std::stringstream ss(f[5]);
        std::string m;
        while (std::getline(ss, m, '|')) {
          bool ok = false;
          for (const auto& k : known_gpu_models()) ok = ok || k == m;
          if (!ok) throw ParseError(detail::where(path, ln, "gpu_spec") + ": unknown GPU model '" + m + "'");
          p.gpu_spec.push_back(m);
        }
      }
      const std::int64_t tmax = std::int64_t(1) << 40;
      p.creation_time = f[8].empty() ? -1 : detail::parse_int(f[8], path, ln, "creation_time", 0, tmax);
      p.deletion_time = f[9].empty() ? -1 : detail::parse_int(f[9], path, ln, "deletion_time", 0, tmax);
      if (p.creation_time >= 0 && p.deletion_time >= 0 && p.deletion_time < p.creation_time)
        throw ParseError(detail::where(path, ln, "deletion_time") + ": " + f[9] + " is before creation_time " + f[8]);
    }
    out.push_back(std::move(p));
  });
  return out;
}

}  // namespace sim
}  // namespace gpushare
