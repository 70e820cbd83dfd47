// Fuzzes the `nvidia-smi topo -m` parser: any text parses to a consistent Topology or raises
// gpushare::Error (ParseError with line and column).
#include <gpushare/io/nvidia_smi_topo.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const gpushare::Topology t = gpushare::parse_nvidia_smi_topo(text).to_topology();
    (void)t;
  } catch (const gpushare::Error&) {
  }
  return 0;
}
