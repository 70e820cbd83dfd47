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
    UsageSnapshot,
    __version__,
    choose_gpus,
    diagnose,
    policy_names,
    run_conformance,
    schedule,
    supported_suites,
)
from . import plots, sim, sizing, sweeps
from .sizing import NodeType, TaskShape, size_cluster, workload_from_mix
from .sweeps import sweep

__all__ = [
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
    "UsageSnapshot",
    "__version__",
    "choose_gpus",
    "diagnose",
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
