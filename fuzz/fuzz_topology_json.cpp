// Fuzzes the topology JSON loader: a loaded topology must survive a write/read round trip.
#include <gpushare/io/topology_json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const nlohmann::json j = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(data), size), nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    const gpushare::Topology t = gpushare::topology_from_json(j);
    const nlohmann::json again = gpushare::topology_to_json(t);
    if (gpushare::topology_to_json(gpushare::topology_from_json(again)) != again) {
      std::fprintf(stderr, "topology JSON does not round-trip\n");
      std::abort();
    }
  } catch (const gpushare::Error&) {
  }
  return 0;
}
