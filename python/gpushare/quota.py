"""Quota helpers: Kueue configuration loading and a pandas view of quota usage per queue and flavor.

Examples
--------
>>> import gpushare as gs
>>> t = gs.QuotaTree()
>>> t.add_queue(gs.QueueSpec("team", flavors=[gs.FlavorQuota("A100", {"gpu": gs.ResourceQuota(4)})]))
>>> st = gs.QuotaState(t)
>>> d = gs.admit(st, gs.QuotaWorkload("job", "team", requests={"gpu": 2}))
>>> gs.commit(st, gs.QuotaWorkload("job", "team", requests={"gpu": 2}), d)
>>> int(gs.usage_frame(st).loc[("team", "A100", "gpu"), "usage"])
2
"""

from __future__ import annotations

import json
import os
from typing import Optional, Sequence, Union

from . import _core
from ._core import KueueConfig, QuotaState

__all__ = ["load_kueue", "usage_frame"]


def load_kueue(source: Union[str, "os.PathLike[str]", dict, list], *,
               gpu_resources: Optional[Sequence[str]] = None) -> KueueConfig:
    """Load Kueue ClusterQueue, Cohort and ResourceFlavor objects into the quota model.

    Parameters
    ----------
    source : str, path, dict or list
        A JSON file (one object, an array of objects, or a ``kind: List`` with ``items``, as
        ``kubectl get clusterqueues,cohorts,resourceflavors -o json`` prints), or the same
        structure already in Python (for example from ``yaml.safe_load``).
    gpu_resources : sequence of str, optional
        Resource names stored as ``gpu`` in milli-GPU; default ``nvidia.com/gpu`` and ``gpu``.

    Returns
    -------
    KueueConfig
        ``.queues`` (QueueSpec), ``.cohorts``, ``.resource_flavors`` and ``.tree()``, the
        QuotaTree to build a QuotaState from.

    Raises
    ------
    gpushare.ParseError
        Invalid JSON, an unknown field, a wrong type or an unreadable quantity.
    gpushare.InvalidArgumentError
        A value Kueue's webhook rejects (negative quantity, lendingLimit above nominalQuota,
        limits without a cohort, ...), duplicate names or a cohort cycle.  Messages name the
        object, the JSON path and the field; nothing is loaded on error.

    Examples
    --------
    >>> import gpushare as gs
    >>> cfg = gs.load_kueue({"apiVersion": "kueue.x-k8s.io/v1beta1", "kind": "ClusterQueue",
    ...     "metadata": {"name": "team"}, "spec": {"resourceGroups": [{"coveredResources": ["nvidia.com/gpu"],
    ...     "flavors": [{"name": "T4", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 4}]}]}]}})
    >>> cfg.queues[0].flavors[0].resources["gpu"].nominal   # milli-GPU
    4000
    """
    gpu = None if gpu_resources is None else [str(g) for g in gpu_resources]
    if isinstance(source, (dict, list)):
        return _core._kueue_config_parse(json.dumps(source), "kueue config", gpu)
    return _core._kueue_config_file(os.fspath(source), gpu)


def usage_frame(state: QuotaState):
    """Usage of every queue, flavor and resource as a pandas DataFrame.

    Parameters
    ----------
    state : QuotaState
        The quota state to read.

    Returns
    -------
    pandas.DataFrame
        Indexed by (queue, flavor, resource), with columns cohort, nominal, usage, borrowed
        (usage above nominal) and available (what the queue could still take, borrowing
        included).
    """
    import pandas as pd

    cols = ["queue", "flavor", "resource", "cohort", "nominal", "usage", "borrowed", "available"]
    df = pd.DataFrame(state.usage_rows(), columns=cols)
    return df.set_index(["queue", "flavor", "resource"])
