// Mode `nvidia`: the BestEffort policy of NVIDIA go-gpuallocator (what the NVIDIA device plugin
// answers to GetPreferredAllocation), reproduced from its documented rules:
//   pair score = PCIe points (SYS 10, NODE 20, PHB 30, PXB 40, PIX 50, BRD 60, unknown 0)
//                + 100 per NVLink;
//   `available` is padded with empty slots to a multiple of `size` and every partition into
//   groups of `size` is visited depth-first (next group = first unplaced slot + a lexicographic
//   (size-1)-combination of later slots; padding slots all in one group). The best-total
//   partition with a padding-free group holding every required device wins (earliest on
//   ties); the answer is its best such group (earliest on ties).
// Two implementations give identical answers: `nvidia_besteffort` (branch and bound over the
// same order, pruning only branches that cannot beat the incumbent strictly) and
// `nvidia_besteffort_enumerate` (the plain enumeration, kept as a reference and for benchmarks).
//
// @code
//   auto set = gpushare::nvidia_besteffort(topo, {0,1,2,3,4,5,6,7}, /*required=*/{}, 2);
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/model/topology.hpp"

namespace gpushare {

/// @brief go-gpuallocator pair score of GPUs a, b (a != b).
inline int gpuallocator_pair_score(const Topology& t, int a, int b) {
  int p = 0;
  switch (t.pcie_level(a, b)) {
    case PcieLevel::sys: p = 10; break;
    case PcieLevel::node: p = 20; break;
    case PcieLevel::phb: p = 30; break;
    case PcieLevel::pxb: p = 40; break;
    case PcieLevel::pix: p = 50; break;
    case PcieLevel::board: p = 60; break;
    default: p = 0;
  }
  return p + 100 * t.nvlink()(a, b);
}

namespace detail {

class BestEffortSearch {
 public:
  BestEffortSearch(const Topology& t, const std::vector<int>& avail, const std::vector<int>& req,
                   int size, bool prune)
      : size_(size), prune_(prune) {
    n_ = static_cast<int>(avail.size());
    m_ = ((n_ + size - 1) / size) * size;
    padding_ = m_ - n_;
    S_.assign(m_ * m_, 0);
    for (int i = 0; i < n_; ++i)
      for (int j = 0; j < n_; ++j)
        if (i != j) S_[i * m_ + j] = gpuallocator_pair_score(t, avail[i], avail[j]);
    for (int r : req)
      for (int i = 0; i < n_; ++i)
        if (avail[i] == r) req_mask_ |= (std::uint64_t{1} << i);
    req_count_ = static_cast<int>(req.size());
  }

  // Returns slot indices of the answer group (empty if no valid partition).
  std::vector<int> run() {
    cur_.clear();
    dfs(0, 0, false);
    if (!found_) return {};
    // Best group of the best partition among padding-free groups holding every required.
    int best_g = -1;
    long best_s = 0;
    for (std::size_t g = 0; g < best_groups_.size(); ++g) {
      if (!group_ok(best_groups_[g])) continue;
      long s = group_score(best_groups_[g]);
      if (best_g < 0 || s > best_s) { best_g = static_cast<int>(g); best_s = s; }
    }
    std::vector<int> out;
    for (int s = 0; s < m_; ++s)
      if (best_groups_[best_g] >> s & 1) out.push_back(s);
    return out;
  }

  long partitions_visited() const { return leaves_; }

 private:
  bool has_padding(std::uint64_t g) const { return (g >> n_) != 0; }
  bool group_ok(std::uint64_t g) const {
    return !has_padding(g) && (g & req_mask_) == req_mask_;
  }
  long group_score(std::uint64_t g) const {
    long s = 0;
    for (int a = 0; a < m_; ++a)
      if (g >> a & 1)
        for (int b = a + 1; b < m_; ++b)
          if (g >> b & 1) s += S_[a * m_ + b];
    return s;
  }
  // Upper bound of what the unplaced slots can still add: each real slot contributes at most
  // half the sum of its (size-1) best partners among the unplaced slots.
  long bound(std::uint64_t placed) const {
    long twice = 0;
    int top[64];
    for (int i = 0; i < n_; ++i) {
      if (placed >> i & 1) continue;
      int k = 0;
      for (int j = 0; j < n_; ++j)
        if (j != i && !(placed >> j & 1)) top[k++] = S_[i * m_ + j];
      int take = std::min(k, size_ - 1);
      std::partial_sort(top, top + take, top + k, [](int a, int b) { return a > b; });
      for (int q = 0; q < take; ++q) twice += top[q];
    }
    return twice / 2;
  }

  void dfs(std::uint64_t placed, long total, bool valid) {
    int first = 0;
    while (first < m_ && (placed >> first & 1)) ++first;
    if (first == m_) {
      ++leaves_;
      if (!valid) return;
      if (!found_ || total > best_) {
        found_ = true;
        best_ = total;
        best_groups_ = cur_;
      }
      return;
    }
    // The bound is useless once a single group is left (its completion is forced).
    if (prune_ && found_ && m_ - __builtin_popcountll(placed) > size_ &&
        total + bound(placed) <= best_)
      return;
    std::vector<int> rest;
    for (int s = first + 1; s < m_; ++s)
      if (!(placed >> s & 1)) rest.push_back(s);
    const int k = size_ - 1;
    std::vector<int> idx(k);
    for (int q = 0; q < k; ++q) idx[q] = q;
    const int r = static_cast<int>(rest.size());
    if (k > r) return;
    for (;;) {
      std::uint64_t g = std::uint64_t{1} << first;
      for (int q = 0; q < k; ++q) g |= std::uint64_t{1} << rest[idx[q]];
      int ph = __builtin_popcountll(g >> n_);
      if (ph == 0 || ph == padding_) {
        const int rq = __builtin_popcountll(g & req_mask_);
        // With pruning on, a group splitting the required devices makes every completion
        // invalid, so skip it (the plain enumeration visits it and rejects it at the leaf).
        if (!(prune_ && rq > 0 && rq < req_count_)) {
          cur_.push_back(g);
          dfs(placed | g, total + group_score(g), valid || group_ok(g));
          cur_.pop_back();
        }
      }
      int q = k - 1;
      while (q >= 0 && idx[q] == r - k + q) --q;
      if (q < 0) break;
      ++idx[q];
      for (int p = q + 1; p < k; ++p) idx[p] = idx[p - 1] + 1;
    }
  }

  int size_, n_ = 0, m_ = 0, padding_ = 0, req_count_ = 0;
  bool prune_;
  std::uint64_t req_mask_ = 0;
  std::vector<int> S_;
  std::vector<std::uint64_t> cur_, best_groups_;
  bool found_ = false;
  long best_ = 0;
  long leaves_ = 0;
};

inline std::vector<int> besteffort_impl(const Topology& t, const std::vector<int>& available,
                                        const std::vector<int>& required, int size, bool prune) {
  for (int a : available)
    if (a < 0 || a >= t.size())
      throw InvalidArgument("nvidia_besteffort: available device " + std::to_string(a) +
                            " is not a GPU of the topology (0.." + std::to_string(t.size() - 1) + ")");
  if (available.size() > 63)
    throw InvalidArgument("nvidia_besteffort: more than 63 available devices");
  const int n = static_cast<int>(available.size());
  if (size <= 0 || size > n || static_cast<int>(required.size()) > size ||
      static_cast<int>(required.size()) > n)
    return {};
  for (int r : required)
    if (std::find(available.begin(), available.end(), r) == available.end()) return {};
  if (size == 1) return {required.empty() ? available[0] : required[0]};
  BestEffortSearch s(t, available, required, size, prune);
  std::vector<int> out;
  for (int slot : s.run()) out.push_back(available[slot]);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

/// @brief go-gpuallocator BestEffort: `size` devices out of `available` (order matters for
/// ties) that must include `required`; sorted ascending, empty when nothing is allocated.
/// Exact same answer as the plain enumeration, with branch and bound.
inline std::vector<int> nvidia_besteffort(const Topology& t, const std::vector<int>& available,
                                          const std::vector<int>& required, int size) {
  return detail::besteffort_impl(t, available, required, size, true);
}

/// @brief Same rules by plain enumeration of every partition (reference / benchmark baseline).
inline std::vector<int> nvidia_besteffort_enumerate(const Topology& t,
                                                    const std::vector<int>& available,
                                                    const std::vector<int>& required, int size) {
  return detail::besteffort_impl(t, available, required, size, false);
}

}  // namespace gpushare
