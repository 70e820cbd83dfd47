// Fuzzes the quota inputs: any bytes are read as a Kueue ClusterQueue/Cohort/ResourceFlavor
// document and as a kueue-quota conformance case (a whole suite file runs each of its cases).
// Whatever loads then admits workloads, commits the admitted ones and finishes them all.  Each
// step either succeeds or raises gpushare::Error; nothing else may escape, no sanitizer may
// fire, and finishing every workload must bring every usage back to zero.
#include <gpushare/modes/kueue/conform.hpp>
#include <gpushare/k8s/kueue_config.hpp>
#include <gpushare/solve/quota_admission.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace {

/// Admits one workload per queue (2 GPUs in milli-GPU, plus 1 of every resource the queue's first
/// flavor covers), commits it when admitted, then finishes everything and checks usage is zero.
void exercise(gpushare::QuotaState& st) {
  const auto specs = st.tree().queue_specs();
  int n = 0;
  for (const auto& q : specs) {
    gpushare::QuotaWorkload w{"fuzz-" + std::to_string(n++), q.name, n % 3 - 1, "", {{"gpu", 2000}}, n, n};
    if (!q.flavors.empty())
      for (const auto& r : q.flavors[0].resources) w.requests[r.first] += 1;
    const gpushare::QuotaDecision d = gpushare::admit(st, w);
    if (d.admit) gpushare::commit(st, w, d);
  }
  for (const auto& w : st.admitted()) st.finish(w.name);
  for (const auto& node : st.tree().nodes())
    for (auto u : node.usage)
      if (u != 0) __builtin_trap();  // finishing everything must return every usage to zero
}

void run_case(const nlohmann::json& c) {
  try {
    gpushare::QuotaState st = gpushare::conform::kueue_case_state(c);
    if (c.is_object() && c.contains("incoming")) {
      const gpushare::QuotaWorkload in = gpushare::conform::kueue_case_workload(c.at("incoming"));
      const gpushare::QuotaDecision d = gpushare::admit(st, in);
      if (d.admit) gpushare::commit(st, in, d);
    }
    exercise(st);
  } catch (const gpushare::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const gpushare::k8s::KueueConfig cfg = gpushare::k8s::parse_kueue_config(text, "fuzz");
    gpushare::QuotaState st(cfg.tree());
    exercise(st);
  } catch (const gpushare::Error&) {
  }
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return 0;
  // A whole suite file (the shared seeds) runs every case; anything else is one case.
  const bool suite = j.is_object() && j.contains("cases") && j.at("cases").is_array();
  const nlohmann::json cases = suite ? j.at("cases") : nlohmann::json::array({j});
  for (const auto& c : cases) run_case(c);
  return 0;
}
