// gpushare/solve/score.hpp — the value a node policy gives a feasible node.
//
// Higher is better.  Scores compare lexicographically (primary, then secondary); when two
// nodes score the same, `schedule` picks the lower node index.
#pragma once

#include <ostream>
#include <tuple>

namespace gpushare {

/// @brief A node's score under a policy: higher wins, compared (primary, secondary).
struct Score {
  double primary = 0;
  double secondary = 0;
  friend bool operator<(const Score& a, const Score& b) {
    return std::tie(a.primary, a.secondary) < std::tie(b.primary, b.secondary);
  }
  friend bool operator>(const Score& a, const Score& b) { return b < a; }
  friend bool operator==(const Score& a, const Score& b) {
    return a.primary == b.primary && a.secondary == b.secondary;
  }
  friend bool operator!=(const Score& a, const Score& b) { return !(a == b); }
};

inline std::ostream& operator<<(std::ostream& os, const Score& s) {
  return os << "Score(" << s.primary << ", " << s.secondary << ")";
}

}  // namespace gpushare
