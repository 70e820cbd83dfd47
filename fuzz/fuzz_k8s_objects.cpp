// Fuzzes the Kubernetes edge: any JSON is read as a Pod and as a Node in every dialect, and any
// string as a quantity; each either succeeds or raises gpushare::Error naming the field.
#include <gpushare/k8s/node.hpp>
#include <gpushare/k8s/pod.hpp>
#include <gpushare/k8s/quantity.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)gpushare::k8s::parse_quantity(text, "fuzz");
  } catch (const gpushare::Error&) {
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  using gpushare::k8s::Dialect;
  for (Dialect d : {Dialect::Aliyun, Dialect::Tencent, Dialect::Hami, Dialect::Nvidia}) {
    try {
      auto pr = gpushare::k8s::pod_request(j, d);
      gpushare::validate(pr.request);
    } catch (const gpushare::Error&) {
    }
    try {
      auto n = gpushare::k8s::node_from_json(j, d);
      gpushare::validate(n.node);
    } catch (const gpushare::Error&) {
    }
  }
  return 0;
}
