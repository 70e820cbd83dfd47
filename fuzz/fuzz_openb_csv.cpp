// Fuzzes the openb CSV loaders: any bytes either load or raise gpushare::Error (ParseError
// naming file, line and column); nothing else may escape and nothing may crash.
#include <gpushare/sim/openb.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The loaders read files, so the input goes through one.
  static const std::string path = "/tmp/gpushare_fuzz_openb_" + std::to_string(::getpid()) + ".csv";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    (void)gpushare::sim::load_openb_nodes(path);
  } catch (const gpushare::Error&) {
  }
  try {
    (void)gpushare::sim::load_openb_pods(path);
  } catch (const gpushare::Error&) {
  }
  std::remove(path.c_str());
  return 0;
}
