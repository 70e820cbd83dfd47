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
    policy_names,
    best_gpu_set,
    nvidia_besteffort,
    run_conformance,
    schedule,
    schedule_with_quota,
    supported_suites,
    topology_set_score,
)
from . import sim
from .quota import usage_frame

from . import k8s  # noqa: E402  (Kubernetes edge: gpushare.k8s.pod_request, recover_cluster)

__all__ = [
    "FlavorMode",
    "FlavorQuota",
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
    "usage_frame",
    "BestFit",
    "BinPack",
    "CapacityError",
    "CaseFailure",
    "Cluster",
    "ConflictError",
    "FirstFit",
    "Gpu",
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
    "SuiteReport",
    "Topology",
    "UsageSnapshot",
    "__version__",
    "best_gpu_set",
    "nvidia_besteffort",
    "topology_set_score",
    "choose_gpus",
    "diagnose",
    "policy_names",
    "run_conformance",
    "schedule",
    "sim",
    "supported_suites",
]
