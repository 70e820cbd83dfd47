// gpushare/version.hpp — the library's version, kept in this one place.
//
// CMake reads these three numbers from this file (see the top-level CMakeLists.txt),
// and Python's `gpushare.__version__` is built from them, so a release edits only here.
#pragma once

#define GPUSHARE_VERSION_MAJOR 0
#define GPUSHARE_VERSION_MINOR 1
#define GPUSHARE_VERSION_PATCH 0

namespace gpushare {

/// @brief The library version as "MAJOR.MINOR.PATCH".
inline const char* version() noexcept { return "0.1.0"; }

}  // namespace gpushare
