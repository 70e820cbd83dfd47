// gpushare/k8s/quantity.hpp — Kubernetes resource quantities ("1", "500m", "8Gi", "1e3").
//
// Parses every spelling the API server accepts (decimal SI suffixes n u m k M G T P E, binary
// suffixes Ki Mi Gi Ti Pi Ei, decimal exponents e/E) exactly, with integer arithmetic, and
// rounds like Kubernetes: `value()` and `milli_value()` round up (towards +infinity).
// Numbers may also arrive as JSON numbers; see quantity_from_json in pod.hpp.
//
// @code
//   gpushare::k8s::Quantity q = gpushare::k8s::parse_quantity("8Gi", "pod p container c");
//   q.value();        // 8589934592
//   gpushare::k8s::parse_quantity("500m", "x").milli_value();  // 500
// @endcode
#pragma once

#include <cctype>
#include <cstdint>
#include <string>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace k8s {

/// 128-bit integer for exact quantity arithmetic (GCC/Clang extension).
__extension__ typedef __int128 i128;

/// @brief An exact Kubernetes quantity, kept in nano-units (1e-9), the finest Kubernetes scale.
struct Quantity {
  /// Value times 10^9, rounded up to an integer.  Kubernetes itself keeps no finer precision.
  i128 nano = 0;

  /// @brief Value rounded up to an integer (Kubernetes `Quantity.Value()`).
  std::int64_t value() const { return saturate(ceil_div(nano, 1000000000)); }
  /// @brief Value times 1000 rounded up (Kubernetes `Quantity.MilliValue()`); saturates at the
  /// int64 range (a parsed quantity may be up to 2^63 - 1, so its milli value may not fit), and
  /// the callers' limits then refuse it.
  std::int64_t milli_value() const { return saturate(ceil_div(nano, 1000000)); }
  /// @brief True if the value is a whole number.
  bool is_integer() const { return nano % 1000000000 == 0; }
  bool negative() const { return nano < 0; }

  static std::int64_t saturate(i128 v) {
    if (v > static_cast<i128>(INT64_MAX)) return INT64_MAX;
    if (v < static_cast<i128>(INT64_MIN)) return INT64_MIN;
    return static_cast<std::int64_t>(v);
  }
  static i128 ceil_div(i128 a, i128 b) {
    i128 q = a / b;
    if ((a % b != 0) && ((a > 0) == (b > 0))) ++q;
    return q;
  }
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nano == b.nano; }
  friend bool operator!=(const Quantity& a, const Quantity& b) { return a.nano != b.nano; }
};

namespace detail {
/// Largest |nano| accepted: 2^63 units, far beyond any real resource.
inline i128 quantity_limit() { return static_cast<i128>(INT64_MAX) * 1000000000; }
}  // namespace detail

/// @brief Parses a Kubernetes quantity string.  `what` names the object and field for errors
/// (e.g. "pod default/p: containers[0].resources.limits[aliyun.com/gpu-mem]").
/// Throws ParseError for a malformed spelling and InvalidArgument for an impossible magnitude.
inline Quantity parse_quantity(const std::string& text, const std::string& what) {
  auto bad = [&](const std::string& why) -> ParseError {
    return ParseError(what + ": invalid quantity '" + text + "' (" + why + ")");
  };
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n == 0) throw bad("empty");
  bool neg = false;
  if (text[i] == '+' || text[i] == '-') { neg = text[i] == '-'; ++i; }
  i128 mant = 0;
  int frac_digits = 0, digits = 0;
  bool seen_dot = false;
  const i128 cap = static_cast<i128>(1) << 100;
  for (; i < n; ++i) {
    char c = text[i];
    if (c == '.') {
      if (seen_dot) throw bad("two decimal points");
      seen_dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    ++digits;
    if (mant < cap) {
      mant = mant * 10 + (c - '0');
      if (seen_dot) ++frac_digits;
    } else if (!seen_dot) {
      throw InvalidArgument(what + ": quantity '" + text + "' is too large");
    }  // further fractional digits beyond precision are dropped (below nano scale anyway)
  }
  if (digits == 0) throw bad("no digits");
  // suffix
  const std::string suf = text.substr(i);
  int exp10 = 0, exp2 = 0;
  if (suf.empty()) {
  } else if (suf == "n") exp10 = -9;
  else if (suf == "u") exp10 = -6;
  else if (suf == "m") exp10 = -3;
  else if (suf == "k") exp10 = 3;
  else if (suf == "M") exp10 = 6;
  else if (suf == "G") exp10 = 9;
  else if (suf == "T") exp10 = 12;
  else if (suf == "P") exp10 = 15;
  else if (suf == "E") exp10 = 18;
  else if (suf == "Ki") exp2 = 10;
  else if (suf == "Mi") exp2 = 20;
  else if (suf == "Gi") exp2 = 30;
  else if (suf == "Ti") exp2 = 40;
  else if (suf == "Pi") exp2 = 50;
  else if (suf == "Ei") exp2 = 60;
  else if (suf[0] == 'e' || suf[0] == 'E') {
    std::size_t j = 1;
    bool eneg = false;
    if (j < suf.size() && (suf[j] == '+' || suf[j] == '-')) { eneg = suf[j] == '-'; ++j; }
    if (j >= suf.size()) throw bad("empty exponent");
    long e = 0;
    for (; j < suf.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(suf[j]))) throw bad("bad exponent");
      e = e * 10 + (suf[j] - '0');
      if (e > 1000) throw InvalidArgument(what + ": quantity '" + text + "' is out of range");
    }
    exp10 = static_cast<int>(eneg ? -e : e);
  } else {
    throw bad("unknown suffix '" + suf + "'");
  }
  // nano = mant * 2^exp2 * 10^(exp10 + 9 - frac_digits), rounded up.
  int p10 = exp10 + 9 - frac_digits;
  i128 v = mant;
  const i128 lim = detail::quantity_limit();
  for (int k = 0; k < exp2; ++k) {
    v *= 2;
    if (v > lim) throw InvalidArgument(what + ": quantity '" + text + "' is too large");
  }
  if (p10 >= 0) {
    for (int k = 0; k < p10; ++k) {
      if (v == 0) break;
      v *= 10;
      if (v > lim) throw InvalidArgument(what + ": quantity '" + text + "' is too large");
    }
    if (neg) v = -v;
  } else {
    i128 d = 1;
    bool underflow = false;
    for (int k = 0; k < -p10; ++k) {
      if (d > lim * 10) { underflow = true; break; }
      d *= 10;
    }
    if (underflow) v = (v == 0 ? 0 : (neg ? 0 : 1));
    else v = Quantity::ceil_div(neg ? -v : v, d);
  }
  Quantity q;
  q.nano = v;
  return q;
}

}  // namespace k8s
}  // namespace gpushare
