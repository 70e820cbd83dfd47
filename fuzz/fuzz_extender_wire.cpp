// Fuzzes the extender v1 decoders: any input is either decoded or rejected with a
// gpushare::ParseError (or nlohmann's parse error for non-JSON); nothing else may escape, and
// a decoded message must re-encode.
#include <gpushare/k8s/extender_v1.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    auto a = gpushare::k8s::ExtenderArgs::from_json(j);
    (void)a.candidate_names();
    gpushare::k8s::ExtenderFilterResult r;
    r.node_names = a.candidate_names();
    (void)r.to_json().dump();
  } catch (const gpushare::ParseError&) {
  }
  try {
    auto b = gpushare::k8s::ExtenderBindingArgs::from_json(j);
    (void)b;
  } catch (const gpushare::ParseError&) {
  }
  return 0;
}
