// Python bindings of the tenant replay (gpushare/sim/tenant_replay.hpp): rows for the pandas
// frames of gpushare.sim.replay_tenants.
#include <gpushare/catalogue.hpp>
#include <gpushare/sim/tenant_replay.hpp>

#include <pybind11/stl.h>

#include "bindings.hpp"

namespace py = pybind11;
using namespace gpushare;
using namespace gpushare::sim;

namespace gpushare_py {

namespace {
std::vector<TenantShare> shares(const std::vector<std::pair<std::string, double>>& tenants) {
  std::vector<TenantShare> ts;
  for (const auto& t : tenants) ts.push_back({t.first, t.second});
  return ts;
}
}  // namespace

void bind_sim_tenants(py::module_& m) {
  m.def(
      "sim_tenant_quota_from_shares",
      [](const std::vector<SimNode>& nodes, const std::vector<std::pair<std::string, double>>& tenants, bool any_model,
         bool cohort, std::optional<int64_t> borrowing_limit_milli, double capacity_share) {
        const std::vector<TenantShare> ts = shares(tenants);
        TenantQuotaOptions o;
        o.any_model = any_model;
        o.cohort = cohort;
        o.borrowing_limit_milli = borrowing_limit_milli;
        o.capacity_share = capacity_share;
        return tenant_quota_from_shares(nodes, ts, o);
      },
      py::arg("nodes"), py::arg("tenants"), py::arg("any_model") = false, py::arg("cohort") = true,
      py::arg("borrowing_limit_milli") = py::none(), py::arg("capacity_share") = 1.0,
      "A QuotaTree with one queue per tenant: each GPU model's capacity x capacity_share split by weight.");
  m.def(
      "sim_replay_tenants",
      [](const std::vector<SimNode>& nodes, const std::vector<SimPod>& pods,
         const std::vector<std::pair<std::string, double>>& tenants, const QuotaTree& quota, const std::string& policy,
         const std::vector<uint64_t>& seeds, double inflation, bool shuffle, bool timed, uint64_t assignment_seed,
         const std::string& any_model_flavor) {
        const SimPolicy& pol = sim_policy(policy);
        const std::vector<TenantShare> ts = shares(tenants);
        ReplayOptions o;
        o.inflation = inflation;
        o.shuffle = shuffle;
        o.timed = timed;
        o.max_pct = 0;
        TenantReplayOptions to;
        to.assignment_seed = assignment_seed;
        to.any_model_flavor = any_model_flavor;
        std::vector<TenantReplayResult> out;
        {
          py::gil_scoped_release nogil;
          TenantReplayer r(nodes, pods, ts, quota, o, to);
          for (uint64_t s : seeds) out.push_back(r.run(pol, s));
        }
        py::list tenant_rows, flavor_rows;
        for (const auto& res : out) {
          for (const auto& t : res.tenants) {
            py::dict d;
            d["seed"] = int64_t(res.seed);
            d["tenant"] = t.tenant;
            d["pods_submitted"] = t.pods_submitted;
            d["submitted_milli"] = t.submitted_milli;
            d["admitted_milli"] = t.admitted_milli;
            d["waiting_milli"] = t.waiting_milli;
            d["pods_placed"] = t.pods_placed;
            d["pods_failed"] = t.pods_failed;
            d["pods_waiting"] = t.pods_waiting;
            d["pods_retried"] = t.pods_retried;
            d["pods_borrowing"] = t.pods_borrowing;
            d["peak_borrowed_milli"] = t.peak_borrowed_milli;
            tenant_rows.append(d);
          }
          for (const auto& f : res.flavors) {
            py::dict d;
            d["seed"] = int64_t(res.seed);
            d["tenant"] = f.tenant;
            d["flavor"] = f.flavor;
            d["nominal_milli"] = f.nominal_milli;
            d["borrowing_limit_milli"] = f.borrowing_limit_milli ? py::cast(*f.borrowing_limit_milli) : py::none();
            d["pods_admitted"] = f.pods_admitted;
            d["admitted_milli"] = f.admitted_milli;
            d["peak_usage_milli"] = f.peak_usage_milli;
            flavor_rows.append(d);
          }
        }
        return py::make_tuple(tenant_rows, flavor_rows);
      },
      py::arg("nodes"), py::arg("pods"), py::arg("tenants"), py::arg("quota"), py::arg("policy"), py::arg("seeds"),
      py::arg("inflation") = 1.3, py::arg("shuffle") = true, py::arg("timed") = false, py::arg("assignment_seed") = 0,
      py::arg("any_model_flavor") = "any",
      "Tenant replay once per seed: (rows per tenant, rows per tenant and flavor), as dicts.");
}

}  // namespace gpushare_py
