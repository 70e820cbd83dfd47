// gpushare/model/free_gpu_index.hpp — an ordered index of healthy GPUs by free capacity.
//
// The cluster keeps this index up to date on every allocate/release so that a single-GPU
// best-fit query ("the GPU with the least room left that still fits") costs a logarithmic
// search instead of a scan over every GPU.  Keys are (free milli, free MiB, global GPU id);
// global GPU ids grow with (node index, GPU index), so the first fitting key is also the one
// the documented tie-break (lowest node, then lowest GPU) picks.
#pragma once

#include <cstdint>
#include <set>
#include <tuple>

namespace gpushare {

/// @brief Ordered set of (free milli, free MiB, global GPU id) over healthy GPUs.
class FreeGpuIndex {
 public:
  struct Key {
    std::int64_t free_milli;
    std::int64_t free_mib;
    std::int64_t gpu;  ///< global GPU id (Cluster::gpu_offset(node) + index)
    friend bool operator<(const Key& a, const Key& b) {
      return std::tie(a.free_milli, a.free_mib, a.gpu) < std::tie(b.free_milli, b.free_mib, b.gpu);
    }
  };
  using const_iterator = std::set<Key>::const_iterator;

  void insert(const Key& k) { keys_.insert(k); }
  void erase(const Key& k) { keys_.erase(k); }
  void clear() { keys_.clear(); }
  std::size_t size() const { return keys_.size(); }
  const_iterator begin() const { return keys_.begin(); }
  const_iterator end() const { return keys_.end(); }

  /// @brief Visits keys with free_milli >= milli and free_mib >= mib in ascending key order
  /// until `visit(key)` returns true; returns the accepted key or nullptr.
  ///
  /// Runs of keys whose memory is too small are skipped with one logarithmic jump per distinct
  /// free-milli value, so the cost is O(distinct milli values x log n) in the worst case
  /// rather than O(n).
  template <class Visit>
  const Key* find_first(std::int64_t milli, std::int64_t mib, Visit&& visit) const {
    auto it = keys_.lower_bound(Key{milli, mib, INT64_MIN});
    while (it != keys_.end()) {
      if (it->free_mib < mib) {  // jump to the first key of this milli run with enough memory
        it = keys_.lower_bound(Key{it->free_milli, mib, INT64_MIN});
        continue;
      }
      if (visit(*it)) return &*it;
      ++it;
    }
    return nullptr;
  }

 private:
  std::set<Key> keys_;
};

}  // namespace gpushare
