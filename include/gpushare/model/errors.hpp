// gpushare/model/errors.hpp — the typed errors every gpushare call throws.
//
// Every failure is a `gpushare::Error` carrying a `ErrorKind` and a message a person can act
// on: it names the input (node, GPU, request, file) and the field, and says how much was
// missing.  A call that throws has changed nothing.
//
// @code
//   try { cluster.allocate(p); }
//   catch (const gpushare::CapacityError& e) { std::cerr << e.what() << '\n'; }
// @endcode
#pragma once

#include <stdexcept>
#include <string>

namespace gpushare {

/// @brief What went wrong, coarsely; the message says the rest.
enum class ErrorKind {
  invalid_argument,  ///< malformed or out-of-range input (negative size, milli > 1000, bad field)
  not_found,         ///< a name or index that does not exist (unknown node, GPU, allocation)
  capacity,          ///< the operation would over-allocate a GPU, CPU or host memory
  conflict,          ///< the operation clashes with existing state (duplicate name, double release)
  parse,             ///< a text input (CSV, JSON, nvidia-smi) could not be read
};

/// @brief Base of every exception thrown by gpushare.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  /// @brief The coarse category of the failure.
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

/// @brief Malformed or out-of-range input.
class InvalidArgument : public Error {
 public:
  explicit InvalidArgument(const std::string& m) : Error(ErrorKind::invalid_argument, m) {}
};

/// @brief A node, GPU or allocation that does not exist.
class NotFound : public Error {
 public:
  explicit NotFound(const std::string& m) : Error(ErrorKind::not_found, m) {}
};

/// @brief An allocation that would exceed some capacity.
class CapacityError : public Error {
 public:
  explicit CapacityError(const std::string& m) : Error(ErrorKind::capacity, m) {}
};

/// @brief An operation that clashes with current state (e.g. releasing twice).
class ConflictError : public Error {
 public:
  explicit ConflictError(const std::string& m) : Error(ErrorKind::conflict, m) {}
};

/// @brief A text input that could not be parsed; the message names file, line and column.
class ParseError : public Error {
 public:
  explicit ParseError(const std::string& m) : Error(ErrorKind::parse, m) {}
};

}  // namespace gpushare
