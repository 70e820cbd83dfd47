// Exact choice of k GPUs out of the free GPUs of a node that maximises the total pair bandwidth
// score (see docs/TOPOLOGY.md):
//   pair weight w(a,b) = 100000 * nvlink(a,b) + pcie_points(a,b),
//   pcie_points: BRD 6, PIX 5, PXB 4, PHB 3, NODE 2, SYS 1, unknown 0,
//   set score = sum of w over unordered pairs of the set.
// With k <= 64 the PCIe part of a set score stays below 100000, so the total NVLink count always
// dominates and PCIe closeness only breaks ties between equal NVLink totals.
// Optional tie-break `leave_best_for_later`: among sets with the best score, prefer the one whose
// GPUs have the smallest total weight to the other free GPUs, i.e. the one cutting fewest links
// of what stays free (cut(S) = sum_deg(S) - 2 * score(S)), so well-connected free sets survive.
// Solved by branch and bound (include-first on the GPU with the largest gain; admissible bound
// from per-candidate gains plus half their best partner weights).
//
// @code
//   auto r = gpushare::best_gpu_set(topo, /*free=*/{0,1,2,3,4,5,6,7}, /*k=*/4);
//   if (r.found) use(r.gpus);          // sorted ascending, r.score is the set score
// @endcode
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gpushare/model/errors.hpp"
#include "gpushare/model/topology.hpp"

namespace gpushare {

/// @brief PCIe points used by the set score (BRD 6 ... SYS 1, unknown/self 0).
inline int topology_pcie_points(PcieLevel l) {
  switch (l) {
    case PcieLevel::board: return 6;
    case PcieLevel::pix: return 5;
    case PcieLevel::pxb: return 4;
    case PcieLevel::phb: return 3;
    case PcieLevel::node: return 2;
    case PcieLevel::sys: return 1;
    default: return 0;
  }
}

/// @brief NVLink weight in the pair score (one NVLink outweighs any PCIe total of <= 64 GPUs).
constexpr std::int64_t kTopologyNvlinkWeight = 100000;

/// @brief Pair weight w(a,b) of the set score.
inline std::int64_t topology_pair_weight(const Topology& t, int a, int b) {
  if (a == b) return 0;
  return kTopologyNvlinkWeight * t.nvlink()(a, b) + topology_pcie_points(t.pcie_level(a, b));
}

/// @brief Score of a set: sum of pair weights over its unordered pairs.
inline std::int64_t topology_set_score(const Topology& t, const std::vector<int>& gpus) {
  std::int64_t s = 0;
  for (std::size_t i = 0; i < gpus.size(); ++i)
    for (std::size_t j = i + 1; j < gpus.size(); ++j) s += topology_pair_weight(t, gpus[i], gpus[j]);
  return s;
}

/// @brief Options of best_gpu_set.
struct TopologySetOptions {
  /// Among equally scored sets, keep the best-connected free GPUs for later requests.
  bool leave_best_for_later = false;
};

/// @brief Result of best_gpu_set.
struct TopologySetResult {
  bool found = false;         ///< false when fewer than k GPUs are free
  std::vector<int> gpus;      ///< chosen GPUs, ascending
  std::int64_t score = 0;     ///< topology_set_score of gpus
  std::int64_t cut = 0;       ///< total weight from gpus to the other free GPUs
  long nodes = 0;             ///< search nodes visited (diagnostics)
};

namespace detail {

class TopoSetSearch {
 public:
  TopoSetSearch(const Topology& t, const std::vector<int>& free, int k, bool tie)
      : ids_(free), k_(k), tie_(tie) {
    n_ = static_cast<int>(free.size());
    W_.assign(static_cast<std::size_t>(n_) * n_, 0);
    deg_.assign(n_, 0);
    for (int i = 0; i < n_; ++i)
      for (int j = 0; j < n_; ++j) {
        W_[i * n_ + j] = topology_pair_weight(t, free[i], free[j]);
        deg_[i] += W_[i * n_ + j];
      }
  }

  TopologySetResult run(const std::vector<int>& required_idx) {
    std::vector<int> chosen = required_idx;
    std::vector<char> in(n_, 0);
    for (int r : required_idx) in[r] = 1;
    std::int64_t score = 0, dsum = 0;
    std::vector<std::int64_t> gain(n_, 0);
    for (std::size_t a = 0; a < chosen.size(); ++a) {
      dsum += deg_[chosen[a]];
      for (std::size_t b = a + 1; b < chosen.size(); ++b) score += W_[chosen[a] * n_ + chosen[b]];
    }
    std::vector<int> cand;
    for (int i = 0; i < n_; ++i)
      if (!in[i]) {
        cand.push_back(i);
        for (int c : chosen) gain[i] += W_[i * n_ + c];
      }
    dfs(chosen, cand, gain, score, dsum);
    TopologySetResult r;
    r.found = found_;
    r.nodes = nodes_;
    if (found_) {
      for (int i : best_set_) r.gpus.push_back(ids_[i]);
      std::sort(r.gpus.begin(), r.gpus.end());
      r.score = best_score_;
      r.cut = best_d_ - 2 * best_score_;
    }
    return r;
  }

 private:
  // Is (s, -d) strictly better than the incumbent?
  bool better(std::int64_t s, std::int64_t d) const {
    if (!found_) return true;
    if (s != best_score_) return s > best_score_;
    return tie_ && d < best_d_;
  }

  void dfs(std::vector<int>& chosen, std::vector<int> cand, std::vector<std::int64_t>& gain,
           std::int64_t score, std::int64_t dsum) {
    ++nodes_;
    const int r = k_ - static_cast<int>(chosen.size());
    if (r == 0) {
      if (better(score, dsum)) {
        found_ = true;
        best_score_ = score;
        best_d_ = dsum;
        best_set_ = chosen;
      }
      return;
    }
    const int m = static_cast<int>(cand.size());
    if (m < r) return;
    // Bound (times two): 2*score + top r of (2*gain(c) + best r-1 partner weights among cand).
    std::vector<std::int64_t> val(m), tmp;
    std::vector<std::int64_t> degs(m);
    int pick = 0;
    for (int a = 0; a < m; ++a) {
      tmp.clear();
      for (int b = 0; b < m; ++b)
        if (b != a) tmp.push_back(W_[cand[a] * n_ + cand[b]]);
      const int take = std::min<int>(r - 1, static_cast<int>(tmp.size()));
      std::partial_sort(tmp.begin(), tmp.begin() + take, tmp.end(), std::greater<std::int64_t>());
      std::int64_t v = 2 * gain[cand[a]];
      for (int q = 0; q < take; ++q) v += tmp[q];
      val[a] = v;
      degs[a] = deg_[cand[a]];
      if (gain[cand[a]] > gain[cand[pick]] ||
          (gain[cand[a]] == gain[cand[pick]] && v > val[pick]))
        pick = a;
    }
    if (found_) {
      std::vector<std::int64_t> sv = val;
      std::nth_element(sv.begin(), sv.begin() + (r - 1), sv.end(), std::greater<std::int64_t>());
      std::int64_t ub2 = 2 * score;
      for (int q = 0; q < r; ++q) ub2 += sv[q];
      if (ub2 < 2 * best_score_) return;
      if (ub2 == 2 * best_score_ || ub2 < 2 * best_score_ + 2) {
        // Primary can at most tie (scores are integers): need a strictly smaller degree sum.
        if (!tie_) return;
        std::nth_element(degs.begin(), degs.begin() + (r - 1), degs.end());
        std::int64_t dlb = dsum;
        for (int q = 0; q < r; ++q) dlb += degs[q];
        if (dlb >= best_d_) return;
      }
    }
    const int c = cand[pick];
    cand.erase(cand.begin() + pick);
    // Include c.
    chosen.push_back(c);
    for (int x : cand) gain[x] += W_[x * n_ + c];
    dfs(chosen, cand, gain, score + gain[c], dsum + deg_[c]);
    for (int x : cand) gain[x] -= W_[x * n_ + c];
    chosen.pop_back();
    // Exclude c.
    dfs(chosen, std::move(cand), gain, score, dsum);
  }

  std::vector<int> ids_;
  int k_, n_ = 0;
  bool tie_;
  std::vector<std::int64_t> W_, deg_;
  bool found_ = false;
  std::int64_t best_score_ = 0, best_d_ = 0;
  std::vector<int> best_set_;
  long nodes_ = 0;
};

}  // namespace detail

/// @brief Exact best set of k GPUs out of `free` containing every `required` GPU.
/// Throws InvalidArgument for k < 0, duplicate/out-of-range GPUs, required not in free or
/// |required| > k. Returns found == false when fewer than k GPUs are free.
inline TopologySetResult best_gpu_set(const Topology& t, const std::vector<int>& free, int k,
                                      const std::vector<int>& required = {},
                                      const TopologySetOptions& opt = {}) {
  if (k < 0) throw InvalidArgument("best_gpu_set: k < 0");
  if (k > 64) throw InvalidArgument("best_gpu_set: k > 64");
  std::vector<char> seen(t.size(), 0);
  for (int g : free) {
    if (g < 0 || g >= t.size())
      throw InvalidArgument("best_gpu_set: free GPU " + std::to_string(g) + " out of range");
    if (seen[g]) throw InvalidArgument("best_gpu_set: free GPU " + std::to_string(g) + " listed twice");
    seen[g] = 1;
  }
  if (static_cast<int>(required.size()) > k)
    throw InvalidArgument("best_gpu_set: more required GPUs than k");
  std::vector<int> req_idx;
  for (int r : required) {
    auto it = std::find(free.begin(), free.end(), r);
    if (it == free.end())
      throw InvalidArgument("best_gpu_set: required GPU " + std::to_string(r) + " is not free");
    int idx = static_cast<int>(it - free.begin());
    if (std::find(req_idx.begin(), req_idx.end(), idx) != req_idx.end())
      throw InvalidArgument("best_gpu_set: required GPU " + std::to_string(r) + " listed twice");
    req_idx.push_back(idx);
  }
  if (k > static_cast<int>(free.size())) return {};
  detail::TopoSetSearch s(t, free, k, opt.leave_best_for_later);
  return s.run(req_idx);
}

}  // namespace gpushare
