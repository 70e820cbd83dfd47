// gpushare/k8s/journal.hpp — an append-only journal of allocations, so a service that keeps
// its cluster in memory survives restarts.  Needs nlohmann_json.
//
// Every committed allocate and release is appended as one JSON line and flushed before the
// caller answers its client; `replay` rebuilds the allocations on a cluster that already has
// its nodes.  A torn last line (the process died mid-write) is reported, ignored and cut off
// the file (so later appends stay readable); any other bad line is an error naming the file
// and line, and nothing is applied.
//
// @code
//   gpushare::k8s::Journal journal("/var/lib/gpushare/state.jsonl");
//   auto report = journal.replay(cluster);      // after a restart
//   cluster.allocate(p); journal.append_allocate(p);
// @endcode
#pragma once

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gpushare/io/json_number.hpp"
#include "gpushare/model/cluster.hpp"
#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace k8s {

/// @brief Placement as JSON: {"request","node","gpus","milli_per_gpu","mib_per_gpu","cpu_milli","host_mib"}.
inline nlohmann::json placement_to_json(const Placement& p) {
  return {{"request", p.request}, {"node", p.node}, {"gpus", p.gpus}, {"milli_per_gpu", p.milli_per_gpu},
          {"mib_per_gpu", p.mib_per_gpu}, {"cpu_milli", p.cpu_milli}, {"host_mib", p.host_mib}};
}

/// @brief Reads a placement written by placement_to_json; the node index is looked up in
/// `cluster`.  Throws ParseError / NotFound naming `what` and the field.
inline Placement placement_from_json(const nlohmann::json& j, const Cluster& cluster, const std::string& what) {
  auto get = [&](const char* key) -> const nlohmann::json& {
    if (!j.is_object() || !j.contains(key)) throw ParseError(what + ": missing field '" + key + "'");
    return j.at(key);
  };
  try {
    Placement p;
    p.request = get("request").get<std::string>();
    p.node = get("node").get<std::string>();
    const auto& gpus = get("gpus");
    if (!gpus.is_array()) throw ParseError(what + ": 'gpus' must be an array");
    for (std::size_t k = 0; k < gpus.size(); ++k)
      p.gpus.push_back(static_cast<int>(io::json_integer(gpus[k], what + ": gpus[" + std::to_string(k) + "]", 0, 1 << 20)));
    constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min(), hi = std::numeric_limits<std::int64_t>::max();
    p.milli_per_gpu = io::json_integer(get("milli_per_gpu"), what + ": milli_per_gpu", lo, hi);
    p.mib_per_gpu = io::json_integer(get("mib_per_gpu"), what + ": mib_per_gpu", lo, hi);
    p.cpu_milli = io::json_integer(get("cpu_milli"), what + ": cpu_milli", lo, hi);
    p.host_mib = io::json_integer(get("host_mib"), what + ": host_mib", lo, hi);
    auto idx = cluster.find_node(p.node);
    if (!idx) throw NotFound(what + ": node '" + p.node + "' is not in the cluster");
    p.node_index = *idx;
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw ParseError(what + ": wrong type: " + e.what());
  }
}

/// @brief What `Journal::replay` did.
struct ReplayReport {
  std::size_t applied = 0;            ///< operations applied
  std::vector<std::string> problems;  ///< operations that could not be applied, and why
  bool torn_tail = false;             ///< the last line was incomplete: ignored and cut off the file
};

/// @brief Cuts an incomplete last line (no newline: its writer died mid-write) off the file at
/// `path`, so lines appended later start on a line of their own.  A missing file is fine.
/// @return whether anything was cut
/// @throws Error if the file cannot be read or shortened
inline bool cut_torn_tail(const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) return false;  // missing or empty
  std::ifstream in(path, std::ios::binary);
  std::uintmax_t keep = 0, at = 0;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i)
      if (buf[i] == '\n') keep = at + std::uintmax_t(i) + 1;
    at += std::uintmax_t(in.gcount());
  }
  if (at != size) throw Error(ErrorKind::conflict, "journal " + path + ": read failed");
  if (keep == size) return false;
  std::filesystem::resize_file(path, keep, ec);
  if (ec) throw Error(ErrorKind::conflict, "journal " + path + ": cannot cut off the torn last line: " + ec.message());
  return true;
}

/// @brief Append-only JSON-lines journal of allocate/release operations.
class Journal {
 public:
  explicit Journal(std::string path) : path_(std::move(path)) {}
  const std::string& path() const { return path_; }

  /// @brief Appends an allocation and flushes it to the file.
  void append_allocate(const Placement& p) { append({{"op", "allocate"}, {"placement", placement_to_json(p)}}); }
  /// @brief Appends a release and flushes it to the file.
  void append_release(const std::string& request) { append({{"op", "release"}, {"request", request}}); }

  /// @brief Appends, as one line, "release whatever `p.request` holds, then allocate `p`" (a pod
  /// moving, or getting back what it held), so a crash never leaves half of the move.
  void append_reallocate(const Placement& p) { append({{"op", "reallocate"}, {"placement", placement_to_json(p)}}); }

  /// @brief Applies the journal to `cluster` (which must have the nodes and no allocations the
  /// journal repeats).  Operations that no longer apply (a node gone, capacity changed) are
  /// listed in the report, never skipped silently.  A line that is not JSON (except a torn last
  /// line) or not a journal operation (check_op) throws ParseError naming file and line, and then
  /// nothing has been applied.  A torn last
  /// line is cut off the file (and a last line missing its newline gets one), so the appends of
  /// this run start on a line of their own and the next replay reads them.
  ReplayReport replay(Cluster& cluster) {
    std::lock_guard<std::mutex> lock(mutex_);
    ReplayReport report;
    std::vector<std::pair<std::size_t, nlohmann::json>> ops;
    std::uintmax_t complete_bytes = 0;  // bytes up to the end of the last complete line
    bool ended_with_newline = true;
    {
      std::ifstream in(path_);
      if (!in) return report;  // no journal yet: a fresh start
      std::string line;
      std::size_t number = 0;
      while (std::getline(in, line)) {
        ++number;
        ended_with_newline = !in.eof();
        try {
          if (!line.empty()) {
            ops.emplace_back(number, nlohmann::json::parse(line));
            check_op(ops.back().second, path_ + ":" + std::to_string(number));
          }
        } catch (const nlohmann::json::parse_error& e) {
          if (!ended_with_newline) {
            report.torn_tail = true;
            break;
          }
          throw ParseError(path_ + ":" + std::to_string(number) + ": not a JSON line: " + e.what());
        }
        complete_bytes += line.size() + (ended_with_newline ? 1 : 0);
      }
    }
    if (report.torn_tail) {
      std::error_code ec;
      std::filesystem::resize_file(path_, complete_bytes, ec);
      if (ec) throw Error(ErrorKind::conflict, "journal " + path_ + ": cannot cut off the torn last line: " + ec.message());
    } else if (!ended_with_newline) {
      std::ofstream out(path_, std::ios::app);
      out << '\n';
      out.flush();
      if (!out) throw Error(ErrorKind::conflict, "journal " + path_ + ": write failed");
    }
    for (const auto& [n, op] : ops) {
      const std::string where = path_ + ":" + std::to_string(n);
      try {
        const std::string kind = op.at("op").get<std::string>();  // shapes checked by check_op
        if (kind == "allocate") {
          cluster.allocate(placement_from_json(op.at("placement"), cluster, where));
        } else if (kind == "reallocate") {
          const Placement p = placement_from_json(op.at("placement"), cluster, where);
          const Placement* held = cluster.allocation(p.request);
          const std::optional<Placement> old = held ? std::optional<Placement>(*held) : std::nullopt;
          if (old) cluster.release(*old);
          try {
            cluster.allocate(p);
          } catch (const Error&) {
            if (old) cluster.allocate(*old);  // restores exactly what was just released
            throw;
          }
        } else {
          cluster.release(op.at("request").get<std::string>());
        }
        ++report.applied;
      } catch (const Error& e) {
        report.problems.push_back(e.what());
      }
    }
    return report;
  }

  /// @brief Rewrites the journal as one allocate line per live allocation of `cluster`
  /// (compaction); written to a temporary file and renamed over the old one.
  void compact(const Cluster& cluster) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      for (const Placement& p : cluster.allocations())
        out << nlohmann::json{{"op", "allocate"}, {"placement", placement_to_json(p)}}.dump() << '\n';
      out.flush();
      if (!out) throw Error(ErrorKind::conflict, "journal " + tmp + ": write failed");
    }
    if (std::rename(tmp.c_str(), path_.c_str()) != 0) throw Error(ErrorKind::conflict, "journal " + path_ + ": rename failed");
  }

 private:
  // A line's shape, checked before anything is applied: an object with a string "op" that is
  // allocate / reallocate (with a "placement" object) or release (with a string "request").
  static void check_op(const nlohmann::json& op, const std::string& where) {
    if (!op.is_object() || !op.contains("op") || !op.at("op").is_string())
      throw ParseError(where + ": not a journal operation (an object with a string 'op')");
    const std::string kind = op.at("op").get<std::string>();
    if (kind == "allocate" || kind == "reallocate") {
      if (!op.contains("placement") || !op.at("placement").is_object())
        throw ParseError(where + ": " + kind + " needs a 'placement' object");
    } else if (kind == "release") {
      if (!op.contains("request") || !op.at("request").is_string())
        throw ParseError(where + ": release needs a string 'request'");
    } else {
      throw ParseError(where + ": unknown op '" + kind + "'");
    }
  }

  void append(const nlohmann::json& j) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::ofstream out(path_, std::ios::app);
    out << j.dump() << '\n';
    out.flush();
    if (!out) throw Error(ErrorKind::conflict, "journal " + path_ + ": write failed");
  }

  std::string path_;
  std::mutex mutex_;
};

}  // namespace k8s
}  // namespace gpushare
