// Python bindings of the quota solver (gpushare/solve/quota_*.hpp): quota tree, queues, state,
// admission decisions, and usage rows for the pandas view in gpushare.quota.
#include <gpushare/solve/quota_admission.hpp>
#include <gpushare/modes/tencent/quota.hpp>
#include <gpushare/solve/quota_schedule.hpp>

#include <pybind11/stl.h>

#include <sstream>

#include "bindings.hpp"

namespace py = pybind11;
using namespace gpushare;

namespace gpushare_py {

namespace {
template <class P>
void bind_schedule_with_quota_for(py::module_& m) {
  m.def(
      "schedule_with_quota",
      [](Cluster& c, const Request& r, P& policy, QuotaState& q, std::int64_t creation) {
        return schedule_with_quota(c, r, policy, q, creation);
      },
      py::arg("cluster"), py::arg("request"), py::arg("policy"), py::arg("quota"), py::arg("creation") = 0,
      "Admits `request` (queue = tenant) through `quota`, places it on the admitted GPU model, and commits both "
      "on success; on failure nothing changes.");
}
}  // namespace

void bind_quota(py::module_& m) {
  py::enum_<WithinQueuePolicy>(m, "WithinQueuePolicy", "Kueue withinClusterQueue preemption policy.")
      .value("never", WithinQueuePolicy::never)
      .value("lower_priority", WithinQueuePolicy::lower_priority)
      .value("lower_or_newer_equal_priority", WithinQueuePolicy::lower_or_newer_equal_priority);
  py::enum_<ReclaimPolicy>(m, "ReclaimPolicy", "Kueue reclaimWithinCohort preemption policy.")
      .value("never", ReclaimPolicy::never)
      .value("lower_priority", ReclaimPolicy::lower_priority)
      .value("any", ReclaimPolicy::any);
  py::enum_<FlavorMode>(m, "FlavorMode", "How the chosen flavor takes the workload.")
      .value("no_fit", FlavorMode::no_fit)
      .value("no_candidates", FlavorMode::no_candidates)
      .value("preempt", FlavorMode::preempt)
      .value("reclaim", FlavorMode::reclaim)
      .value("fit", FlavorMode::fit);

  py::class_<ResourceQuota>(m, "ResourceQuota", "Nominal quota with optional borrowing and lending limits.")
      .def(py::init([](std::int64_t nominal, std::optional<std::int64_t> b, std::optional<std::int64_t> l) {
             return ResourceQuota{nominal, b, l};
           }),
           py::arg("nominal") = 0, py::arg("borrowing_limit") = py::none(), py::arg("lending_limit") = py::none())
      .def_readwrite("nominal", &ResourceQuota::nominal)
      .def_readwrite("borrowing_limit", &ResourceQuota::borrowing_limit)
      .def_readwrite("lending_limit", &ResourceQuota::lending_limit)
      .def("__repr__", [](const ResourceQuota& r) {
        std::ostringstream os;
        os << "ResourceQuota(nominal=" << r.nominal << ", borrowing_limit="
           << (r.borrowing_limit ? std::to_string(*r.borrowing_limit) : "None") << ", lending_limit="
           << (r.lending_limit ? std::to_string(*r.lending_limit) : "None") << ")";
        return os.str();
      });

  py::class_<FlavorQuota>(m, "FlavorQuota", "One flavor (GPU model) with per-resource quotas.")
      .def(py::init([](std::string name, std::map<std::string, ResourceQuota> res) { return FlavorQuota{std::move(name), std::move(res)}; }),
           py::arg("name"), py::arg("resources"))
      .def_readwrite("name", &FlavorQuota::name)
      .def_readwrite("resources", &FlavorQuota::resources)
      .def("__repr__", [](const FlavorQuota& f) { return "FlavorQuota(name='" + f.name + "', resources=" + std::to_string(f.resources.size()) + ")"; });

  py::class_<QueueSpec>(m, "QueueSpec", "A quota queue (Kueue ClusterQueue): cohort, flavors in order, policies.")
      .def(py::init([](std::string name, std::string cohort, std::vector<FlavorQuota> flavors, WithinQueuePolicy within,
                       ReclaimPolicy reclaim, bool borrow_within_cohort, std::optional<int> threshold, bool stop_borrow,
                       bool stop_preempt, bool pob) {
             QueueSpec q;
             q.name = std::move(name);
             q.cohort = std::move(cohort);
             q.flavors = std::move(flavors);
             q.preemption = {within, reclaim, borrow_within_cohort, threshold};
             q.fungibility = {stop_borrow, stop_preempt, pob};
             return q;
           }),
           py::arg("name"), py::arg("cohort") = "", py::arg("flavors") = std::vector<FlavorQuota>{},
           py::arg("within_queue") = WithinQueuePolicy::never, py::arg("reclaim_within_cohort") = ReclaimPolicy::never,
           py::arg("borrow_within_cohort") = false, py::arg("max_priority_threshold") = py::none(),
           py::arg("stop_when_can_borrow") = true, py::arg("stop_when_can_preempt") = false,
           py::arg("preemption_over_borrowing") = false)
      .def_readwrite("name", &QueueSpec::name)
      .def_readwrite("cohort", &QueueSpec::cohort)
      .def_readwrite("flavors", &QueueSpec::flavors)
      .def_property_readonly("within_queue", [](const QueueSpec& q) { return q.preemption.within_queue; })
      .def_property_readonly("reclaim_within_cohort", [](const QueueSpec& q) { return q.preemption.reclaim_within_cohort; })
      .def_property_readonly("borrow_within_cohort", [](const QueueSpec& q) { return q.preemption.borrow_within_cohort; })
      .def_property_readonly("max_priority_threshold", [](const QueueSpec& q) { return q.preemption.max_priority_threshold; })
      .def_property_readonly("stop_when_can_borrow", [](const QueueSpec& q) { return q.fungibility.stop_when_can_borrow; })
      .def_property_readonly("stop_when_can_preempt", [](const QueueSpec& q) { return q.fungibility.stop_when_can_preempt; })
      .def_property_readonly("preemption_over_borrowing",
                             [](const QueueSpec& q) { return q.fungibility.preemption_over_borrowing; })
      .def("__repr__", [](const QueueSpec& q) { return "QueueSpec(name='" + q.name + "', cohort='" + q.cohort + "', flavors=" + std::to_string(q.flavors.size()) + ")"; });

  py::class_<QuotaWorkload>(m, "QuotaWorkload", "A workload holding or asking for quota.")
      .def(py::init([](std::string name, std::string queue, int priority, std::map<std::string, std::int64_t> requests,
                       std::string flavor, std::int64_t creation, std::optional<std::int64_t> admitted_at) {
             return QuotaWorkload{std::move(name), std::move(queue), priority, std::move(flavor), std::move(requests),
                                  creation, admitted_at.value_or(creation)};
           }),
           py::arg("name"), py::arg("queue"), py::arg("priority") = 0, py::arg("requests") = std::map<std::string, std::int64_t>{},
           py::arg("flavor") = "", py::arg("creation") = 0, py::arg("admitted_at") = py::none())
      .def_readwrite("name", &QuotaWorkload::name)
      .def_readwrite("queue", &QuotaWorkload::queue)
      .def_readwrite("priority", &QuotaWorkload::priority)
      .def_readwrite("flavor", &QuotaWorkload::flavor)
      .def_readwrite("requests", &QuotaWorkload::requests)
      .def_readwrite("creation", &QuotaWorkload::creation)
      .def_readwrite("admitted_at", &QuotaWorkload::admitted_at)
      .def("__repr__", [](const QuotaWorkload& w) {
        return "QuotaWorkload(name='" + w.name + "', queue='" + w.queue + "', priority=" + std::to_string(w.priority) +
               ", flavor='" + w.flavor + "')";
      });

  py::class_<QuotaTree>(m, "QuotaTree", "Cohorts and queues; call finalize() (or build a QuotaState) when done.")
      .def(py::init<>())
      .def("add_cohort", &QuotaTree::add_cohort, py::arg("name"), py::arg("parent") = "",
           py::arg("flavors") = std::vector<FlavorQuota>{})
      .def("add_queue", &QuotaTree::add_queue, py::arg("queue"))
      .def("finalize", &QuotaTree::finalize)
      .def("queues", &QuotaTree::queue_specs, "The queues, in the order added.")
      .def("cohorts",
           [](const QuotaTree& t) {
             // name -> parent ("" = root) of every cohort, implicit ones included (after finalize)
             std::map<std::string, std::string> out;
             for (const auto& n : t.nodes())
               if (!n.is_queue) out[n.name] = n.parent < 0 ? "" : t.nodes()[n.parent].name;
             return out;
           },
           "Cohort name -> parent name (\"\" for a root); empty before finalize().")
      .def("__repr__", [](const QuotaTree& t) { return "QuotaTree(queues=" + std::to_string(t.queue_specs().size()) + ")"; });

  py::class_<QuotaDecision>(m, "QuotaDecision", "Admission outcome: flavor, borrowing, victims, or the reason for refusal.")
      .def_readonly("admit", &QuotaDecision::admit)
      .def_readonly("flavor", &QuotaDecision::flavor)
      .def_readonly("borrows", &QuotaDecision::borrows)
      .def_readonly("preempted", &QuotaDecision::preempted)
      .def_readonly("mode", &QuotaDecision::mode)
      .def_readonly("reason", &QuotaDecision::reason)
      .def("__bool__", [](const QuotaDecision& d) { return d.admit; })
      .def("__repr__", [](const QuotaDecision& d) {
        if (!d.admit) return "QuotaDecision(admit=False, reason='" + d.reason + "')";
        std::string v;
        for (const auto& p : d.preempted) v += (v.empty() ? "'" : ", '") + p + "'";
        return "QuotaDecision(admit=True, flavor='" + d.flavor + "', borrows=" + (d.borrows ? "True" : "False") +
               ", preempted=[" + v + "])";
      });

  py::class_<QuotaState>(m, "QuotaState", "A finalized quota tree with its admitted workloads.")
      .def(py::init([](QuotaTree t) { return QuotaState(std::move(t)); }), py::arg("tree"))
      .def("admit_existing", &QuotaState::admit_existing, py::arg("workload"))
      .def("finish", &QuotaState::finish, py::arg("name"))
      .def("is_admitted", &QuotaState::is_admitted, py::arg("name"))
      .def("admitted", &QuotaState::admitted)
      .def("__len__", &QuotaState::admitted_count)
      .def("usage_rows",
           [](const QuotaState& st) {
             // one row per (queue, flavor, resource) the queue defines
             py::list rows;
             const QuotaTree& t = st.tree();
             for (const auto& q : t.queue_specs()) {
               const int n = t.queue_node(q.name);
               for (const auto& f : q.flavors)
                 for (const auto& kv : f.resources) {
                   const int k = t.fr_index(f.name, kv.first);
                   const auto& nd = t.nodes()[n];
                   py::dict d;
                   d["queue"] = q.name;
                   d["cohort"] = q.cohort;
                   d["flavor"] = f.name;
                   d["resource"] = kv.first;
                   d["nominal"] = nd.nominal[k];
                   d["usage"] = nd.usage[k];
                   d["borrowed"] = std::max<std::int64_t>(0, nd.usage[k] - nd.nominal[k]);
                   d["available"] = t.available(n, k);
                   rows.append(d);
                 }
             }
             return rows;
           },
           "Rows (dicts) of queue, cohort, flavor, resource, nominal, usage, borrowed, available.")
      .def("__repr__", [](const QuotaState& s) { return "QuotaState(admitted=" + std::to_string(s.admitted_count()) + ")"; });

  py::class_<QuotaScheduleResult>(m, "QuotaScheduleResult", "Outcome of schedule_with_quota: quota decision and placement.")
      .def_readonly("decision", &QuotaScheduleResult::decision)
      .def_readonly("schedule", &QuotaScheduleResult::schedule)
      .def_readonly("flavors_without_room", &QuotaScheduleResult::flavors_without_room)
      .def("placed", &QuotaScheduleResult::placed)
      .def("explain", &QuotaScheduleResult::explain)
      .def("__bool__", &QuotaScheduleResult::placed)
      .def("__repr__", [](const QuotaScheduleResult& r) { return "QuotaScheduleResult(" + r.explain() + ")"; });
  bind_schedule_with_quota_for<FirstFit>(m);
  bind_schedule_with_quota_for<BestFit>(m);
  bind_schedule_with_quota_for<BinPack>(m);
  bind_schedule_with_quota_for<Spread>(m);
  bind_schedule_with_quota_for<Random>(m);


  // tkestack gpu-admission per-namespace quota mode (quota_gpu_admission.hpp)
  py::class_<GpuAdmissionNamespaceQuota>(m, "GpuAdmissionNamespaceQuota",
                                         "One namespace's gpu-admission quota: whole GPUs per model, allowed pools.")
      .def(py::init([](std::map<std::string, std::int64_t> quota, std::vector<std::string> pools) {
             return GpuAdmissionNamespaceQuota{std::move(quota), std::move(pools)};
           }),
           py::arg("quota"), py::arg("pools") = std::vector<std::string>{})
      .def_readwrite("quota", &GpuAdmissionNamespaceQuota::quota)
      .def_readwrite("pools", &GpuAdmissionNamespaceQuota::pools)
      .def("__repr__", [](const GpuAdmissionNamespaceQuota& q) {
        return "GpuAdmissionNamespaceQuota(models=" + std::to_string(q.quota.size()) + ", pools=" + std::to_string(q.pools.size()) + ")";
      });
  py::class_<GpuAdmissionNode>(m, "GpuAdmissionNode", "A node's GPU model and pool labels (\"\" = unlabelled).")
      .def(py::init([](std::string name, std::string model, std::string pool) {
             return GpuAdmissionNode{std::move(name), std::move(model), std::move(pool)};
           }),
           py::arg("name"), py::arg("model") = "", py::arg("pool") = "")
      .def_readwrite("name", &GpuAdmissionNode::name)
      .def_readwrite("model", &GpuAdmissionNode::model)
      .def_readwrite("pool", &GpuAdmissionNode::pool)
      .def("__repr__", [](const GpuAdmissionNode& n) {
        return "GpuAdmissionNode(name='" + n.name + "', model='" + n.model + "', pool='" + n.pool + "')";
      });
  py::class_<GpuAdmissionPod>(m, "GpuAdmissionPod", "An existing pod: namespace, bound node, vcuda-core, phase.")
      .def(py::init([](std::string name, std::string ns, std::string node, std::int64_t core, std::string phase) {
             return GpuAdmissionPod{std::move(name), std::move(ns), std::move(node), core, std::move(phase)};
           }),
           py::arg("name"), py::arg("namespace"), py::arg("node") = "", py::arg("vcuda_core") = 0,
           py::arg("phase") = "Running")
      .def_readwrite("name", &GpuAdmissionPod::name)
      .def_readwrite("namespace", &GpuAdmissionPod::ns)
      .def_readwrite("node", &GpuAdmissionPod::node)
      .def_readwrite("vcuda_core", &GpuAdmissionPod::vcuda_core)
      .def_readwrite("phase", &GpuAdmissionPod::phase)
      .def("__repr__", [](const GpuAdmissionPod& p) {
        return "GpuAdmissionPod(name='" + p.name + "', namespace='" + p.ns + "', node='" + p.node +
               "', vcuda_core=" + std::to_string(p.vcuda_core) + ")";
      });
  py::class_<GpuAdmissionRequest>(m, "GpuAdmissionRequest", "The pod being filtered (vcuda-core 100 = one GPU).")
      .def(py::init([](std::string name, std::string ns, std::int64_t core, std::int64_t mem) {
             return GpuAdmissionRequest{std::move(name), std::move(ns), core, mem};
           }),
           py::arg("name"), py::arg("namespace"), py::arg("vcuda_core") = 0, py::arg("vcuda_memory") = 0)
      .def_readwrite("name", &GpuAdmissionRequest::name)
      .def_readwrite("namespace", &GpuAdmissionRequest::ns)
      .def_readwrite("vcuda_core", &GpuAdmissionRequest::vcuda_core)
      .def_readwrite("vcuda_memory", &GpuAdmissionRequest::vcuda_memory)
      .def("__repr__", [](const GpuAdmissionRequest& r) {
        return "GpuAdmissionRequest(name='" + r.name + "', namespace='" + r.ns + "', vcuda_core=" +
               std::to_string(r.vcuda_core) + ")";
      });
  py::class_<GpuAdmissionResult>(m, "GpuAdmissionResult", "Outcome of gpu_admission_filter.")
      .def_readonly("gpu_pod", &GpuAdmissionResult::gpu_pod)
      .def_readonly("quota_applies", &GpuAdmissionResult::quota_applies)
      .def_readonly("allowed_models", &GpuAdmissionResult::allowed_models)
      .def_readonly("passed", &GpuAdmissionResult::passed)
      .def_readonly("failed", &GpuAdmissionResult::failed)
      .def("__repr__", [](const GpuAdmissionResult& r) {
        return "GpuAdmissionResult(quota_applies=" + std::string(r.quota_applies ? "True" : "False") +
               ", passed=" + std::to_string(r.passed.size()) + ", failed=" + std::to_string(r.failed.size()) + ")";
      });
  m.def(
      "gpu_admission_filter",
      [](std::optional<std::map<std::string, GpuAdmissionNamespaceQuota>> config, const std::vector<GpuAdmissionNode>& nodes,
         const std::vector<GpuAdmissionPod>& pods, const GpuAdmissionRequest& request) {
        GpuAdmissionConfig cfg;
        if (config) cfg.namespaces = std::move(*config);
        return gpu_admission_filter(config ? &cfg : nullptr, nodes, pods, request);
      },
      py::arg("config"), py::arg("nodes"), py::arg("pods"), py::arg("request"),
      "tkestack gpu-admission's quota filter: `config` maps namespace -> GpuAdmissionNamespaceQuota (None = no "
      "ConfigMap); returns the nodes that pass and those failing with ExceedsGPUQuota.");

  m.def("admit", [](QuotaState& s, const QuotaWorkload& w) { return admit(s, w); }, py::arg("state"), py::arg("workload"),
        "Decides whether `workload` can be admitted; the state is not changed.");
  m.def("commit", &commit, py::arg("state"), py::arg("workload"), py::arg("decision"),
        "Evicts the decision's victims and records the workload on the chosen flavor.");
}

}  // namespace gpushare_py
