// gpushare/model/cluster.hpp — nodes plus their usage; the one place where state changes.
//
// `Cluster::allocate` and `Cluster::release` are the only mutators of usage.  Both check
// everything first and then apply, so a call that throws leaves the cluster exactly as it was:
// no GPU, CPU or host memory is ever over-allocated, and releasing restores the exact previous
// state.  Usage is kept as flat arrays (structure of arrays: free milli / free MiB per GPU,
// free CPU / host MiB per node) so policies can scan it quickly, and a FreeGpuIndex is kept in
// step for sub-linear single-GPU best-fit queries.
//
// @code
//   gpushare::Cluster c;
//   c.add_node(node);                              // validated, names unique
//   auto result = gpushare::schedule(c, request, gpushare::BestFit{});
//   if (result) c.allocate(*result.placement);     // throws CapacityError etc. on misuse
//   c.release(request.name);                       // back to the exact previous state
// @endcode
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/model/free_gpu_index.hpp"
#include "gpushare/model/node.hpp"
#include "gpushare/model/placement.hpp"
#include "gpushare/model/request.hpp"

namespace gpushare {

/// @brief Read-only view of one node and its free capacities, valid until the next mutation.
struct NodeView {
  const Node* node = nullptr;
  std::size_t index = 0;                    ///< node index in the cluster
  const std::int64_t* free_milli = nullptr; ///< free compute per GPU, node->gpus.size() entries
  const std::int64_t* free_mib = nullptr;   ///< free memory per GPU
  std::int64_t free_cpu_milli = 0;
  std::int64_t free_host_mib = 0;

  int gpu_count() const { return static_cast<int>(node->gpus.size()); }
  const Gpu& gpu(int i) const { return node->gpus[static_cast<std::size_t>(i)]; }
  const std::string& name() const { return node->name; }
};

/// @brief Free capacities of every GPU and node: two snapshots compare equal iff usage is equal.
struct UsageSnapshot {
  std::vector<std::int64_t> gpu_free_milli, gpu_free_mib, node_free_cpu_milli, node_free_host_mib;
  friend bool operator==(const UsageSnapshot& a, const UsageSnapshot& b) {
    return a.gpu_free_milli == b.gpu_free_milli && a.gpu_free_mib == b.gpu_free_mib &&
           a.node_free_cpu_milli == b.node_free_cpu_milli &&
           a.node_free_host_mib == b.node_free_host_mib;
  }
  friend bool operator!=(const UsageSnapshot& a, const UsageSnapshot& b) { return !(a == b); }
};

/// @brief A set of nodes and what is allocated on them.
class Cluster {
 public:
  Cluster() = default;
  /// @brief Builds a cluster from nodes; throws InvalidArgument on a bad or duplicate node.
  explicit Cluster(std::vector<Node> nodes) {
    for (auto& n : nodes) add_node(std::move(n));
  }

  /// @brief Adds an empty node; returns its index.  Throws InvalidArgument (bad field) or
  /// ConflictError (duplicate name); the cluster is unchanged on error.
  std::size_t add_node(Node n) {
    validate(n);
    if (by_name_.count(n.name)) throw ConflictError("add node " + n.name + ": a node with this name already exists");
    const std::size_t i = nodes_.size();
    by_name_.emplace(n.name, i);
    gpu_offset_.push_back(free_milli_.size());
    free_cpu_.push_back(n.cpu_milli);
    free_host_.push_back(n.host_mib);
    for (const Gpu& g : n.gpus) {
      free_milli_.push_back(g.milli_total);
      free_mib_.push_back(g.mib_total);
      total_gpu_milli_ += g.milli_total;
      free_gpu_milli_ += g.milli_total;
    }
    nodes_.push_back(std::move(n));
    for (int g = 0; g < static_cast<int>(nodes_.back().gpus.size()); ++g) index_insert(i, g);
    ++version_;
    return i;
  }

  /// @brief Removes the node called `name`.  Throws NotFound if there is none and ConflictError
  /// if anything is still allocated on it; the cluster is unchanged on error.  Nodes after it
  /// move down one index (live allocations are renumbered; Placements held by callers keep
  /// their old `node_index`, so re-read them with `allocation(name)`).
  void remove_node(const std::string& name) {
    const std::size_t i = node_index(name);
    for (const auto& kv : allocations_) {
      if (kv.second.node_index == i) {
        throw ConflictError("remove node " + name + ": request " + kv.first + " is still allocated on it");
      }
    }
    std::vector<Node> rest;
    rest.reserve(nodes_.size() - 1);
    for (std::size_t k = 0; k < nodes_.size(); ++k)
      if (k != i) rest.push_back(nodes_[k]);
    std::vector<Placement> live;
    for (const auto& kv : allocations_) {
      live.push_back(kv.second);
      if (live.back().node_index > i) --live.back().node_index;
    }
    Cluster next = restore(std::move(rest), live);
    next.version_ = version_ + 1;
    *this = std::move(next);
  }

  /// @brief A cluster with `nodes` (health flags included) and `allocations` applied, as a
  /// copy or a saved state would have them.  Allocations on GPUs that are unhealthy now are
  /// restored too (work stays on a GPU that turned unhealthy); capacity and shape are still
  /// checked and any violation throws.
  static Cluster restore(std::vector<Node> nodes, const std::vector<Placement>& allocations) {
    std::vector<std::pair<std::size_t, int>> unhealthy;
    for (std::size_t i = 0; i < nodes.size(); ++i)
      for (Gpu& g : nodes[i].gpus)
        if (!g.healthy) {
          unhealthy.emplace_back(i, g.index);
          g.healthy = true;
        }
    Cluster c(std::move(nodes));
    for (const Placement& p : allocations) c.allocate(p);
    for (const auto& [node, gpu] : unhealthy) c.set_gpu_healthy(node, gpu, false);
    return c;
  }

  std::size_t size() const { return nodes_.size(); }
  const std::vector<Node>& nodes() const { return nodes_; }
  /// @brief The node at index i; throws NotFound if out of range.
  const Node& node(std::size_t i) const { check_node(i, "node"); return nodes_[i]; }
  /// @brief Index of the node called `name`, if any.
  std::optional<std::size_t> find_node(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) return std::nullopt;
    return it->second;
  }
  /// @brief Index of the node called `name`; throws NotFound naming it.
  std::size_t node_index(const std::string& name) const {
    auto it = by_name_.find(name);
    if (it == by_name_.end()) throw NotFound("unknown node '" + name + "'");
    return it->second;
  }

  /// @brief Number of GPUs in the cluster (healthy or not).
  std::size_t gpu_count() const { return free_milli_.size(); }
  /// @brief Global id of GPU 0 of node i; GPU g of node i has global id gpu_offset(i) + g.
  std::size_t gpu_offset(std::size_t i) const { return gpu_offset_[i]; }

  /// @brief A view of node i with its free capacities.
  NodeView view(std::size_t i) const {
    const std::size_t o = gpu_offset_[i];
    return NodeView{&nodes_[i], i, free_milli_.data() + o, free_mib_.data() + o, free_cpu_[i], free_host_[i]};
  }

  std::int64_t free_milli(std::size_t node, int gpu) const { return free_milli_[gpu_slot(node, gpu)]; }
  std::int64_t free_mib(std::size_t node, int gpu) const { return free_mib_[gpu_slot(node, gpu)]; }
  std::int64_t free_cpu_milli(std::size_t node) const { check_node(node, "free_cpu_milli"); return free_cpu_[node]; }
  std::int64_t free_host_mib(std::size_t node) const { check_node(node, "free_host_mib"); return free_host_[node]; }

  /// @brief Sum of all GPUs' compute capacity in milli-GPU.
  std::int64_t total_gpu_milli() const { return total_gpu_milli_; }
  /// @brief Sum of all GPUs' free compute in milli-GPU.
  std::int64_t free_gpu_milli() const { return free_gpu_milli_; }

  /// @brief Applies a placement.  Throws (and changes nothing) if the node or a GPU does not
  /// exist, a GPU is unhealthy, any capacity would be exceeded, or the request name is already
  /// allocated.
  void allocate(const Placement& p) {
    check_placement(p, "allocate");
    if (allocations_.count(p.request)) {
      throw ConflictError("allocate " + p.request + ": a request with this name is already allocated on node " +
                          allocations_.at(p.request).node);
    }
    const NodeView v = view(p.node_index);
    const std::string what = "allocate " + p.request + ": node " + p.node;
    auto short_of = [&](const std::string& res, std::int64_t free, std::int64_t need, const char* unit) {
      throw CapacityError(what + res + " has " + std::to_string(free) + " " + unit + " free, needs " +
                          std::to_string(need));
    };
    if (v.free_cpu_milli < p.cpu_milli) short_of(" CPU", v.free_cpu_milli, p.cpu_milli, "milli-CPU");
    if (v.free_host_mib < p.host_mib) short_of(" host memory", v.free_host_mib, p.host_mib, "MiB");
    for (int g : p.gpus) {
      if (!v.gpu(g).healthy) throw CapacityError(what + " GPU " + std::to_string(g) + " is unhealthy");
      if (v.free_milli[g] < p.milli_per_gpu) short_of(" GPU " + std::to_string(g), v.free_milli[g], p.milli_per_gpu, "milli-GPU");
      if (v.free_mib[g] < p.mib_per_gpu) short_of(" GPU " + std::to_string(g), v.free_mib[g], p.mib_per_gpu, "MiB");
    }
    allocations_.emplace(p.request, p);  // may throw bad_alloc before any usage changes
    apply(p, -1);
  }

  /// @brief Undoes an allocation.  `p` must equal the placement that was allocated under
  /// `p.request`; throws NotFound (never allocated, or released already) or ConflictError.
  void release(const Placement& p) {
    auto it = allocations_.find(p.request);
    if (it == allocations_.end()) {
      throw NotFound("release " + p.request + ": no allocation named '" + p.request +
                     "' (never allocated, or released already)");
    }
    if (it->second != p) {
      throw ConflictError("release " + p.request + ": placement differs from the allocated one on node " +
                          it->second.node);
    }
    apply(it->second, +1);
    allocations_.erase(it);
  }

  /// @brief Releases the allocation named `request`; returns what was released.
  Placement release(const std::string& request) {
    auto it = allocations_.find(request);
    if (it == allocations_.end()) {
      throw NotFound("release " + request + ": no allocation named '" + request +
                     "' (never allocated, or released already)");
    }
    Placement p = it->second;
    release(p);
    return p;
  }

  /// @brief The live allocation named `request`, or nullptr.
  const Placement* allocation(const std::string& request) const {
    auto it = allocations_.find(request);
    return it == allocations_.end() ? nullptr : &it->second;
  }
  /// @brief Number of live allocations.
  std::size_t allocation_count() const { return allocations_.size(); }
  /// @brief All live allocations, sorted by request name.
  std::vector<Placement> allocations() const {
    std::vector<Placement> out;
    out.reserve(allocations_.size());
    for (const auto& kv : allocations_) out.push_back(kv.second);
    std::sort(out.begin(), out.end(), [](const Placement& a, const Placement& b) { return a.request < b.request; });
    return out;
  }

  /// @brief Marks a GPU healthy or not.  Work already on an unhealthy GPU stays until released;
  /// new work never goes there.
  void set_gpu_healthy(std::size_t node, int gpu, bool healthy) {
    const std::size_t s = gpu_slot(node, gpu);
    Gpu& g = nodes_[node].gpus[static_cast<std::size_t>(gpu)];
    if (g.healthy == healthy) return;
    if (g.healthy) index_.erase(key(s));
    g.healthy = healthy;
    if (healthy) index_.insert(key(s));
    ++version_;
  }

  /// @brief Index of healthy GPUs ordered by (free milli, free MiB, global id).
  const FreeGpuIndex& free_gpu_index() const { return index_; }
  /// @brief Node index of a global GPU id (binary search over offsets).
  std::size_t node_of_gpu(std::size_t global_gpu) const {
    auto it = std::upper_bound(gpu_offset_.begin(), gpu_offset_.end(), global_gpu);
    return static_cast<std::size_t>(it - gpu_offset_.begin()) - 1;
  }

  /// @brief Incremented on every change; caches keyed on it know when to recompute.
  std::uint64_t version() const { return version_; }

  /// @brief Copy of every free capacity, for exact state comparisons.
  UsageSnapshot snapshot() const { return UsageSnapshot{free_milli_, free_mib_, free_cpu_, free_host_}; }

 private:
  void check_node(std::size_t i, const char* what) const {
    if (i >= nodes_.size()) {
      throw NotFound(std::string(what) + ": node index " + std::to_string(i) + " out of range (cluster has " +
                     std::to_string(nodes_.size()) + " nodes)");
    }
  }
  std::size_t gpu_slot(std::size_t node, int gpu) const {
    check_node(node, "gpu");
    if (gpu < 0 || gpu >= static_cast<int>(nodes_[node].gpus.size())) {
      throw NotFound("node " + nodes_[node].name + " has no GPU " + std::to_string(gpu) + " (it has " +
                     std::to_string(nodes_[node].gpus.size()) + ")");
    }
    return gpu_offset_[node] + static_cast<std::size_t>(gpu);
  }

  // Shape checks shared by allocate: node exists and matches, GPUs exist and are distinct,
  // amounts are in range.  Capacity is checked by the caller.
  void check_placement(const Placement& p, const char* op) const {
    const std::string what = std::string(op) + " " + (p.request.empty() ? "<unnamed>" : p.request);
    if (p.request.empty()) throw InvalidArgument(what + ": placement.request (the allocation name) must not be empty");
    if (p.node_index >= nodes_.size()) {
      throw NotFound(what + ": node index " + std::to_string(p.node_index) + " out of range (cluster has " +
                     std::to_string(nodes_.size()) + " nodes)");
    }
    const Node& n = nodes_[p.node_index];
    if (n.name != p.node) {
      throw NotFound(what + ": node '" + p.node + "' is not node " + std::to_string(p.node_index) + " ('" + n.name + "')");
    }
    detail::check_range(what, "cpu_milli", p.cpu_milli, 0, limits::max_cpu_milli);
    detail::check_range(what, "host_mib", p.host_mib, 0, limits::max_host_mib);
    detail::check_range(what, "milli_per_gpu", p.milli_per_gpu, 0, limits::max_milli_per_gpu);
    detail::check_range(what, "mib_per_gpu", p.mib_per_gpu, 0, limits::max_mib_per_gpu);
    if (p.gpus.empty() && (p.milli_per_gpu != 0 || p.mib_per_gpu != 0)) {
      throw InvalidArgument(what + ": milli_per_gpu/mib_per_gpu set but no GPUs given");
    }
    for (std::size_t k = 0; k < p.gpus.size(); ++k) {
      const int g = p.gpus[k];
      if (g < 0 || g >= static_cast<int>(n.gpus.size())) {
        throw NotFound(what + ": node " + n.name + " has no GPU " + std::to_string(g) + " (it has " +
                       std::to_string(n.gpus.size()) + ")");
      }
      if (k > 0 && p.gpus[k - 1] >= g) {
        throw InvalidArgument(what + ": gpus must be distinct and ascending, got " + std::to_string(p.gpus[k - 1]) +
                              " before " + std::to_string(g));
      }
    }
  }

  // sign = -1 takes capacity, +1 gives it back.  Only called after all checks passed.
  void apply(const Placement& p, int sign) {
    const std::size_t i = p.node_index;
    free_cpu_[i] += sign * p.cpu_milli;
    free_host_[i] += sign * p.host_mib;
    for (int g : p.gpus) {
      const std::size_t s = gpu_offset_[i] + static_cast<std::size_t>(g);
      const bool indexed = nodes_[i].gpus[static_cast<std::size_t>(g)].healthy;
      if (indexed) index_.erase(key(s));
      free_milli_[s] += sign * p.milli_per_gpu;
      free_mib_[s] += sign * p.mib_per_gpu;
      free_gpu_milli_ += sign * p.milli_per_gpu;
      if (indexed) index_.insert(key(s));
    }
    ++version_;
  }

  FreeGpuIndex::Key key(std::size_t slot) const {
    return FreeGpuIndex::Key{free_milli_[slot], free_mib_[slot], static_cast<std::int64_t>(slot)};
  }
  void index_insert(std::size_t node, int gpu) {
    if (nodes_[node].gpus[static_cast<std::size_t>(gpu)].healthy) index_.insert(key(gpu_offset_[node] + static_cast<std::size_t>(gpu)));
  }

  std::vector<Node> nodes_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::vector<std::size_t> gpu_offset_;
  std::vector<std::int64_t> free_milli_, free_mib_, free_cpu_, free_host_;
  std::int64_t total_gpu_milli_ = 0, free_gpu_milli_ = 0;
  std::unordered_map<std::string, Placement> allocations_;
  FreeGpuIndex index_;
  std::uint64_t version_ = 0;
};

}  // namespace gpushare
