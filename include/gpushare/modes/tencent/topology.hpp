// Mode `tencent` topology: the allocator of tkestack/gpu-manager (device plugin) on its PCIe
// tree, reproduced from its documented rules.
//  - Tree: levels PIX 10, PXB 20, PHB 30, NODE/SOC 40, SYS 50 (BRD is treated as PIX). For each
//    level, GPU pairs at that level merge into groups (first overlapping group absorbs the pair);
//    each GPU links upward, level by level, to the first group overlapping its current ancestor;
//    the root's children are the top ancestors. A group's "available" count is the number of
//    completely free GPUs under it (any booking, even shared, makes a GPU unavailable).
//  - link (cores > 100, n = cores/100): per GPU, the first ancestor (below the root) with
//    available >= n; candidates sorted by (level, available, lowest free GPU); first n free GPUs.
//  - fragment (cores == 100): descend from the root into the child group with the fewest
//    available GPUs (>= n) until none qualifies; lowest-index free GPU(s) of that node.
//  - share (cores < 100): GPUs sorted by (cores left, 256 MiB blocks left, index); first fit.
// Ties that upstream leaves to Go map order are broken by the lowest available GPU index.
//
// @code
//   gpushare::TencentTopologyAllocator a(cells, /*gpu_memory_mib=*/16384);
//   auto r = a.allocate(200, 1);    // r.gpus == {0, 1} on a PIX pair; r.error when refused
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "gpushare/model/errors.hpp"

namespace gpushare {

/// @brief Outcome of one gpu-manager allocation: GPUs in pick order, or an error text.
struct TencentAllocResult {
  std::vector<int> gpus;
  std::string error;  ///< empty on success
  bool ok() const { return error.empty(); }
};

/// @brief gpu-manager topology allocator state for one node.
class TencentTopologyAllocator {
 public:
  /// @brief cells: n x n matrix of X / PIX / PXB / PHB / NODE / SOC / SYS (BRD as PIX).
  TencentTopologyAllocator(const std::vector<std::vector<std::string>>& cells, std::int64_t gpu_memory_mib)
      : mem_(gpu_memory_mib) {
    n_ = static_cast<int>(cells.size());
    if (gpu_memory_mib < 0) throw InvalidArgument("tencent topology: gpu_memory_mib < 0");
    for (const auto& r : cells)
      if (static_cast<int>(r.size()) != n_) throw InvalidArgument("tencent topology: cells not square");
    cores_.assign(n_, 100);
    memory_.assign(n_, mem_);
    build(cells);
  }

  int size() const { return n_; }
  int cores_left(int g) const { return cores_.at(g); }
  std::int64_t memory_left_mib(int g) const { return memory_.at(g); }
  bool gpu_free(int g) const { return cores_.at(g) == 100; }

  /// @brief Book `cores` (>= 100 = whole GPU) and memory units (256 MiB) on one GPU.
  void occupy(int g, int cores, int memory_units) {
    check(g);
    if (cores >= 100) { cores_[g] = 0; memory_[g] = 0; return; }
    cores_[g] = std::max(0, cores_[g] - cores);
    memory_[g] = std::max<std::int64_t>(0, memory_[g] - 256LL * memory_units);
  }
  /// @brief Undo a booking (>= 100 restores the GPU fully; otherwise adds back, capped).
  void release(int g, int cores, int memory_units) {
    check(g);
    if (cores >= 100) { cores_[g] = 100; memory_[g] = mem_; return; }
    cores_[g] = std::min(100, cores_[g] + cores);
    memory_[g] = std::min<std::int64_t>(mem_, memory_[g] + 256LL * memory_units);
  }

  /// @brief Link evaluator (n whole GPUs); empty when impossible.
  std::vector<int> evaluate_link(int n) const {
    if (n <= 0) return {};
    std::vector<int> cands;
    for (int g = 0; g < n_; ++g) {
      for (int a = nodes_[g].parent; a >= 0 && a != root_; a = nodes_[a].parent)
        if (avail(a) >= n) {
          if (std::find(cands.begin(), cands.end(), a) == cands.end()) cands.push_back(a);
          break;
        }
    }
    if (cands.empty()) cands.push_back(root_);
    std::stable_sort(cands.begin(), cands.end(), [&](int x, int y) {
      if (nodes_[x].level != nodes_[y].level) return nodes_[x].level < nodes_[y].level;
      if (avail(x) != avail(y)) return avail(x) < avail(y);
      return lowest_free(x) < lowest_free(y);
    });
    return take_free(cands.front(), n);
  }

  /// @brief Fragment evaluator (n whole GPUs, normally 1); empty when impossible.
  std::vector<int> evaluate_fragment(int n) const {
    if (n <= 0) return {};
    int cur = root_;
    for (;;) {
      std::vector<int> ch = nodes_[cur].children;
      std::stable_sort(ch.begin(), ch.end(), [&](int x, int y) {
        if (avail(x) != avail(y)) return avail(x) < avail(y);
        return lowest_free(x) < lowest_free(y);
      });
      int next = -1;
      for (int c : ch)
        if (!nodes_[c].children.empty() && avail(c) >= n) { next = c; break; }
      if (next < 0) break;
      cur = next;
    }
    return take_free(cur, n);
  }

  /// @brief Share evaluator: best-fit GPU for cores < 100 and memory units; empty if none.
  std::vector<int> evaluate_share(int cores, int memory_units) const {
    std::vector<int> order(n_);
    for (int g = 0; g < n_; ++g) order[g] = g;
    std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
      if (cores_[x] != cores_[y]) return cores_[x] < cores_[y];
      return memory_[x] / 256 < memory_[y] / 256;
    });
    for (int g : order)
      if (cores_[g] >= cores && memory_[g] >= 256LL * memory_units) return {g};
    return {};
  }

  /// @brief The device-plugin allocation: validates, picks by mode, books on success.
  /// predicate_gpu (share mode only, -1 = none) must equal the pick.
  TencentAllocResult allocate(int cores, int memory_units, int predicate_gpu = -1) {
    TencentAllocResult r;
    if (cores == 0 && memory_units == 0) return r;
    if (cores < 0 || memory_units < 0) { r.error = "negative request"; return r; }
    std::vector<int> pick;
    if (cores > 100) {
      if (cores % 100 != 0) { r.error = "cores above 100 must be a multiple of 100"; return r; }
      pick = evaluate_link(cores / 100);
    } else if (cores == 100) {
      pick = evaluate_fragment(1);
    } else {
      if (cores == 0 || memory_units == 0) { r.error = "share mode needs non-zero cores and memory"; return r; }
      if (256LL * memory_units > mem_) { r.error = "request memory larger than one GPU"; return r; }
      pick = evaluate_share(cores, memory_units);
      if (!pick.empty() && predicate_gpu >= 0 && pick.front() != predicate_gpu) {
        r.error = "picked GPU differs from predicate (gpu-admission) GPU";
        return r;
      }
    }
    if (pick.empty()) { r.error = "no free node"; return r; }
    for (int g : pick) occupy(g, cores, memory_units);
    r.gpus = pick;
    return r;
  }

 private:
  struct TreeNode {
    int level = 0;              // 0 for a GPU leaf, 10..50 for groups, 100 for the root
    std::vector<int> gpus;      // GPUs under this node, ascending
    std::vector<int> children;  // node ids
    int parent = -1;
  };

  static int level_of(const std::string& c) {
    if (c == "PIX" || c == "BRD") return 10;
    if (c == "PXB") return 20;
    if (c == "PHB") return 30;
    if (c == "NODE" || c == "SOC" || c == "CPU") return 40;
    if (c == "SYS") return 50;
    throw InvalidArgument("tencent topology: unknown cell '" + c + "'");
  }

  void check(int g) const {
    if (g < 0 || g >= n_) throw InvalidArgument("tencent topology: GPU " + std::to_string(g) + " out of range");
  }

  static bool overlaps(const std::vector<int>& a, const std::vector<int>& b) {
    for (int x : a)
      if (std::find(b.begin(), b.end(), x) != b.end()) return true;
    return false;
  }

  void build(const std::vector<std::vector<std::string>>& cells) {
    nodes_.assign(n_, TreeNode{});
    for (int g = 0; g < n_; ++g) nodes_[g].gpus = {g};
    const int levels[] = {10, 20, 30, 40, 50};
    std::vector<std::vector<int>> by_level(5);
    for (int li = 0; li < 5; ++li) {
      for (int i = 0; i < n_; ++i)
        for (int j = i + 1; j < n_; ++j) {
          if (cells[i][j] == "X") throw InvalidArgument("tencent topology: X off the diagonal");
          if (level_of(cells[i][j]) != levels[li]) continue;
          std::vector<int> pair = {i, j};
          int hit = -1;
          for (int id : by_level[li])
            if (overlaps(nodes_[id].gpus, pair)) { hit = id; break; }
          if (hit < 0) {
            TreeNode t;
            t.level = levels[li];
            nodes_.push_back(t);
            hit = static_cast<int>(nodes_.size()) - 1;
            by_level[li].push_back(hit);
          }
          auto& gs = nodes_[hit].gpus;
          for (int x : pair)
            if (std::find(gs.begin(), gs.end(), x) == gs.end()) gs.push_back(x);
          std::sort(gs.begin(), gs.end());
        }
    }
    // Link each GPU upward level by level.
    for (int g = 0; g < n_; ++g) {
      int cur = g;
      for (int li = 0; li < 5; ++li)
        for (int id : by_level[li])
          if (overlaps(nodes_[id].gpus, nodes_[cur].gpus)) {
            if (id != cur && nodes_[cur].parent < 0) {
              nodes_[cur].parent = id;
              nodes_[id].children.push_back(cur);
            }
            cur = id;
            break;
          }
    }
    TreeNode root;
    root.level = 100;
    for (int g = 0; g < n_; ++g) root.gpus.push_back(g);
    nodes_.push_back(root);
    root_ = static_cast<int>(nodes_.size()) - 1;
    for (int g = 0; g < n_; ++g) {
      int top = g;
      while (nodes_[top].parent >= 0) top = nodes_[top].parent;
      if (top != root_ && nodes_[top].parent < 0) {
        nodes_[top].parent = root_;
        nodes_[root_].children.push_back(top);
      }
    }
  }

  int avail(int node) const {
    int c = 0;
    for (int g : nodes_[node].gpus) c += gpu_free(g) ? 1 : 0;
    return c;
  }
  int lowest_free(int node) const {
    for (int g : nodes_[node].gpus)
      if (gpu_free(g)) return g;
    return n_;
  }
  std::vector<int> take_free(int node, int n) const {
    std::vector<int> out;
    for (int g : nodes_[node].gpus)
      if (gpu_free(g) && static_cast<int>(out.size()) < n) out.push_back(g);
    if (static_cast<int>(out.size()) < n) return {};
    return out;
  }

  int n_ = 0;
  std::int64_t mem_;
  std::vector<int> cores_;
  std::vector<std::int64_t> memory_;
  std::vector<TreeNode> nodes_;
  int root_ = -1;
};

}  // namespace gpushare
