// gpushare/io/json_number.hpp — integers read from untrusted JSON, checked.  Needs nlohmann_json.
//
// nlohmann's `get<int>()` converts whatever number it finds: a float such as 1e40 is cast, which
// is undefined behaviour, and a 64-bit integer is silently narrowed.  Every decoder of outside
// input (annotations, journals, topology files) reads its integers through json_integer instead.
//
// @code
//   const int numa = int(gpushare::io::json_integer(dev.at("numa"), "device 0 numa", -1, 1 << 20));
// @endcode
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "gpushare/model/errors.hpp"

namespace gpushare {
namespace io {

/// @brief The integer held by `v`, which must be a JSON integer (floats are refused, even 2.0)
/// within [lo, hi].
/// @param v    the JSON value
/// @param what names the input and the field in the error message
/// @param lo   smallest value accepted
/// @param hi   largest value accepted
/// @throws ParseError if `v` is not an integer; InvalidArgument if it is outside [lo, hi]
inline std::int64_t json_integer(const nlohmann::json& v, const std::string& what, std::int64_t lo,
                                 std::int64_t hi) {
  if (!v.is_number_integer()) throw ParseError(what + ": must be an integer, got " + v.dump());
  bool inside;
  if (v.is_number_unsigned()) {  // nlohmann stores every non-negative integer literal as unsigned
    const std::uint64_t u = v.get<std::uint64_t>();
    inside = hi >= 0 && u <= static_cast<std::uint64_t>(hi) && (lo <= 0 || u >= static_cast<std::uint64_t>(lo));
  } else {
    const std::int64_t s = v.get<std::int64_t>();
    inside = s >= lo && s <= hi;
  }
  if (!inside)
    throw InvalidArgument(what + ": " + v.dump() + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return v.get<std::int64_t>();
}

}  // namespace io
}  // namespace gpushare
