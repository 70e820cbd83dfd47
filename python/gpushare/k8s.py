"""Kubernetes edge: read Pod and Node objects the way each GPU-sharing system does.

Dialects: ``"aliyun"`` (``aliyun.com/gpu-mem``, GiB by default or MiB), ``"tencent"``
(``tencent.com/vcuda-core`` 100 = one GPU, ``tencent.com/vcuda-memory`` in 256 MiB units),
``"hami"`` (``nvidia.com/gpu`` with ``nvidia.com/gpumem``, ``gpumem-percentage``,
``gpucores``) and ``"nvidia"`` (whole ``nvidia.com/gpu``).  Objects are dicts as the API
server sends them (or their JSON text).

Examples
--------
>>> from gpushare import k8s
>>> pod = {"metadata": {"name": "p", "namespace": "ns"},
...        "spec": {"containers": [{"name": "a", "resources": {"limits": {"aliyun.com/gpu-mem": "3"}}}]}}
>>> pr = k8s.pod_request(pod, dialect="aliyun")
>>> pr.request.gpu_mib
3072
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple, Union

from . import _core

JsonLike = Union[str, bytes, Dict[str, Any], List[Any]]

__all__ = ["PodRequest", "RecoverResult", "pod_request", "recover_cluster"]


def _text(obj: JsonLike) -> str:
    if isinstance(obj, bytes):
        return obj.decode("utf-8")
    if isinstance(obj, str):
        return obj
    return json.dumps(obj)


class PodRequest:
    """A pod's GPU request in one dialect.

    Attributes
    ----------
    request : gpushare.Request
        Effective whole-pod request (containers summed, init containers as a max).
    containers : list of dict
        Per-container split: ``name``, ``init``, ``gpu_count``, ``gpu_milli``, ``gpu_mib`` and
        the raw dialect amounts.
    """

    def __init__(self, request: Any, containers: List[Dict[str, Any]]):
        self.request = request
        self.containers = containers

    def __repr__(self) -> str:
        return f"PodRequest(request={self.request!r}, containers={len(self.containers)})"


class RecoverResult:
    """Cluster state rebuilt from a pod list.

    Attributes
    ----------
    cluster : gpushare.Cluster
        Nodes with every recovered placement allocated.
    placements : list of gpushare.Placement
        What was placed.
    unplaced : list of (str, str)
        Pods that ask for GPUs but could not be placed, with the reason.
    """

    def __init__(self, cluster: Any, placements: List[Any], unplaced: List[Tuple[str, str]]):
        self.cluster = cluster
        self.placements = placements
        self.unplaced = unplaced

    def __repr__(self) -> str:
        return f"RecoverResult(placements={len(self.placements)}, unplaced={len(self.unplaced)})"


def pod_request(obj: JsonLike, dialect: str = "aliyun", aliyun_unit: str = "GiB") -> PodRequest:
    """Parse a core/v1 Pod into its GPU request.

    Parameters
    ----------
    obj : dict or str
        The Pod object (or its JSON text).
    dialect : {"aliyun", "tencent", "hami", "nvidia"}
        Which resource names to read.
    aliyun_unit : {"GiB", "MiB"}
        Unit of ``aliyun.com/gpu-mem``.

    Returns
    -------
    PodRequest

    Raises
    ------
    gpushare.ParseError, gpushare.InvalidArgumentError
        For missing fields, wrong types or impossible quantities; the message names the pod and field.
    """
    req, containers = _core._k8s_pod_request(_text(obj), dialect, aliyun_unit)
    return PodRequest(req, containers)


def recover_cluster(nodes: JsonLike, pods: JsonLike, dialect: str = "aliyun", aliyun_unit: str = "GiB") -> RecoverResult:
    """Rebuild cluster state from Node and Pod objects using the bind annotations.

    Parameters
    ----------
    nodes, pods : list of dict, a List object with ``items``, or JSON text
    dialect : {"aliyun", "tencent", "hami"}
    aliyun_unit : {"GiB", "MiB"}

    Returns
    -------
    RecoverResult
    """
    cluster, placements, unplaced = _core._k8s_recover_cluster(_text(nodes), _text(pods), dialect, aliyun_unit)
    return RecoverResult(cluster, placements, [tuple(u) for u in unplaced])
