// gpushare/solve/registry.hpp — node policies by name, for command lines and Python.
//
// Adding a policy: write its header, add its type to `AnyPolicy` and one row to `make_policy`.
//
// @code
//   gpushare::AnyPolicy p = gpushare::make_policy("binpack");
//   auto r = gpushare::schedule(cluster, req, p);
// @endcode
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "../model/errors.hpp"
#include "node_policies.hpp"
#include "schedule.hpp"

namespace gpushare {

/// @brief Any of the built-in node policies.
using AnyPolicy = std::variant<FirstFit, BestFit, BinPack, Spread, Random>;

/// @brief Names accepted by make_policy, in a stable order.
inline std::vector<std::string> policy_names() { return {"best-fit", "binpack", "first-fit", "random", "spread"}; }

/// @brief The policy called `name` ("best-fit", "binpack", "first-fit", "random", "spread");
/// `seed` feeds "random".  Throws InvalidArgument listing the known names otherwise.
inline AnyPolicy make_policy(const std::string& name, std::uint64_t seed = 0) {
  if (name == "best-fit") return BestFit{};
  if (name == "binpack") return BinPack{};
  if (name == "first-fit") return FirstFit{};
  if (name == "spread") return Spread{};
  if (name == "random") return Random{seed};
  std::string known;
  for (const auto& n : policy_names()) known += (known.empty() ? "" : ", ") + n;
  throw InvalidArgument("policy: unknown name '" + name + "' (known: " + known + ")");
}

/// @brief `schedule` for a policy chosen at run time.
inline ScheduleResult schedule(const Cluster& cluster, const Request& request, AnyPolicy& policy,
                               const ScheduleOptions& options = {}) {
  return std::visit([&](auto& p) { return schedule(cluster, request, p, options); }, policy);
}

}  // namespace gpushare
