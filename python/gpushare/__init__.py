"""gpushare: decide where GPU workloads go in clusters whose GPUs are shared.

The model (``Gpu``, ``Node``, ``Request``, ``Placement``, ``Cluster``), the node policies
(``FirstFit``, ``BestFit``, ``BinPack``, ``Spread``, ``Random``) and ``schedule`` come from the
C++ core.  Units: compute in milli-GPU (1000 = one whole GPU), memory in MiB, CPU in
milli-cores.

Examples
--------
>>> import gpushare as gs
>>> c = gs.Cluster([gs.Node("n1", cpu_milli=16000, host_mib=65536,
...                         gpus=[gs.Gpu(i, "T4", mib_total=16384) for i in range(2)])])
>>> r = gs.schedule(c, gs.Request("job", gpu_count=1, gpu_milli=500, gpu_mib=4096), gs.BestFit())
>>> c.allocate(r.placement)
>>> c.free_milli(0, r.placement.gpus[0])
500
"""

from ._core import (
    FlavorMode,
    FlavorQuota,
    GpuAdmissionNamespaceQuota,
    GpuAdmissionNode,
    GpuAdmissionPod,
    GpuAdmissionRequest,
    GpuAdmissionResult,
    KueueCohort,
    KueueConfig,
    QueueSpec,
    QuotaDecision,
    QuotaState,
    QuotaTree,
    QuotaScheduleResult,
    QuotaWorkload,
    ReclaimPolicy,
    ResourceQuota,
    WithinQueuePolicy,
    admit,
    commit,
    gpu_admission_filter,
    BestFit,
    BinPack,
    CapacityError,
    CaseFailure,
    Cluster,
    ConflictError,
    FirstFit,
    Gpu,
    GpuFit,
    GpushareError,
    InvalidArgumentError,
    Node,
    NotFoundError,
    ParseError,
    Placement,
    Random,
    Rejection,
    RejectReason,
    Request,
    Score,
    ScheduleResult,
    Spread,
    SuiteReport,
    Topology,
    UsageSnapshot,
    __version__,
    choose_gpus,
    diagnose,
    Policy,
    make_policy,
    policies,
    policy_names,
    best_gpu_set,
    nvidia_besteffort,
    run_conformance,
    schedule,
    schedule_with_quota,
    supported_suites,
    topology_set_score,
)

# The pure-Python submodules and their names load on first use (PEP 562): `import gpushare` stays
# cheap for the command line (sizing alone pulls in dataclasses and inspect).
_SUBMODULES = ("k8s", "plots", "quota", "sim", "sizing", "sweeps")
_FROM = {"load_kueue": "quota", "usage_frame": "quota", "NodeType": "sizing", "TaskShape": "sizing",
         "size_cluster": "sizing", "workload_from_mix": "sizing", "sweep": "sweeps"}


def __getattr__(name):
    import importlib

    if name in _SUBMODULES:
        return importlib.import_module("." + name, __name__)
    if name in _FROM:
        value = getattr(importlib.import_module("." + _FROM[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'gpushare' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_SUBMODULES) | set(_FROM))


__all__ = [
    "FlavorMode",
    "FlavorQuota",
    "GpuAdmissionNamespaceQuota",
    "GpuAdmissionNode",
    "GpuAdmissionPod",
    "GpuAdmissionRequest",
    "GpuAdmissionResult",
    "KueueCohort",
    "KueueConfig",
    "QueueSpec",
    "QuotaDecision",
    "QuotaState",
    "QuotaTree",
    "QuotaScheduleResult",
    "QuotaWorkload",
    "schedule_with_quota",
    "ReclaimPolicy",
    "ResourceQuota",
    "WithinQueuePolicy",
    "admit",
    "commit",
    "gpu_admission_filter",
    "load_kueue",
    "usage_frame",
    "BestFit",
    "BinPack",
    "CapacityError",
    "CaseFailure",
    "Cluster",
    "ConflictError",
    "FirstFit",
    "Gpu",
    "NodeType",
    "GpuFit",
    "GpushareError",
    "InvalidArgumentError",
    "Node",
    "NotFoundError",
    "ParseError",
    "Placement",
    "Random",
    "Rejection",
    "RejectReason",
    "Request",
    "Score",
    "ScheduleResult",
    "Spread",
    "TaskShape",
    "SuiteReport",
    "Topology",
    "UsageSnapshot",
    "__version__",
    "best_gpu_set",
    "nvidia_besteffort",
    "topology_set_score",
    "choose_gpus",
    "diagnose",
    "Policy",
    "make_policy",
    "policies",
    "policy_names",
    "run_conformance",
    "schedule",
    "plots",
    "sim",
    "size_cluster",
    "sizing",
    "supported_suites",
    "sweep",
    "sweeps",
    "workload_from_mix",
]
