"""Allocation state of a cluster, like ``kubectl inspect gpushare``.

``inspect(cluster)`` returns the same document the extender serves at ``GET /inspect``;
``format_inspect(doc)`` renders it as a table: per node and GPU the allocated/total memory and
compute, the node's pods, pending pods and the cluster total.  ``cluster_view_html(doc)`` is
the extender's cluster view page (``GET /``) with ``doc`` embedded: one self-contained HTML
file that draws it (``gpushare inspect --html FILE``).  A replay's end state in this form
comes from :func:`gpushare.sim.snapshot`.

Examples
--------
>>> import gpushare as gs
>>> from gpushare.inspect import inspect, format_inspect
>>> c = gs.Cluster([gs.Node("n1", gpus=[gs.Gpu(0, "T4", mib_total=16384)])])
>>> c.allocate(gs.Placement("ns/p", "n1", 0, [0], 500, 4096))
>>> print(format_inspect(inspect(c)).splitlines()[-1])
Allocated/Total in cluster: 4096/16384 MiB (25.0%), 500/1000 milli-GPU (50.0%)
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Dict, Sequence

from . import _core


def inspect(cluster: "_core.Cluster", pending_pods: Sequence[str] = ()) -> Dict[str, Any]:
    """The inspect document of ``cluster`` (see ``gpushare/k8s/inspect.hpp`` for the schema)."""
    return json.loads(_core.inspect_json(cluster, list(pending_pods)))


def fetch_inspect(url: str, timeout: float = 5.0) -> Dict[str, Any]:
    """``GET`` an extender's ``/inspect`` document."""
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - operator-given URL
        return json.loads(r.read().decode("utf-8"))


def cluster_view_html(doc: Dict[str, Any]) -> str:
    """The cluster view page with the inspect document ``doc`` embedded (drawn without polling).

    Raises
    ------
    gpushare.ParseError
        If ``doc`` has no ``nodes`` list.
    """
    return _core.cluster_view_html(json.dumps(doc))


def write_html(doc: Dict[str, Any], path: str) -> None:
    """Write :func:`cluster_view_html` of ``doc`` to ``path``."""
    page = cluster_view_html(doc)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)


def _pct(used: int, total: int) -> str:
    return f"{100.0 * used / total:.1f}%" if total else "-"


def format_inspect(doc: Dict[str, Any]) -> str:
    """Render an inspect document as a text table, one line per node then the totals."""
    try:
        nodes = doc["nodes"]
        total = doc["total"]
    except (KeyError, TypeError) as e:
        raise ValueError(f"inspect document: missing field {e}") from None
    lines = []
    width = max([len("NAME")] + [len(n["name"]) for n in nodes])
    lines.append(f"{'NAME':<{width}}  GPU(Allocated/Total MiB, milli-GPU)  PODS")
    for n in nodes:
        gpus = "  ".join(
            f"GPU{g['index']}:{g['mib_used']}/{g['mib_total']},{g['milli_used']}/{g['milli_total']}"
            + ("" if g.get("healthy", True) else "(unhealthy)")
            for g in n["gpus"]
        ) or "no GPUs"
        lines.append(f"{n['name']:<{width}}  {gpus}  {len(n.get('pods', []))}")
    pending = doc.get("pending_pods", [])
    if pending:
        lines.append(f"Pending pods ({len(pending)}): " + ", ".join(pending))
    for p in doc.get("pending", []):
        if p.get("reason"):
            lines.append(f"  {p['pod']}: {p['reason']}")
    for u in doc.get("unschedulable", []):
        lines.append(f"Unschedulable: {u['pod']}: {u['reason']} ({u.get('attempts', 0)} attempts)")
    dropped = doc.get("dropped_allocations", [])
    for d in dropped:
        lines.append(f"Dropped allocation: {d}")
    if total.get("idle_milli"):
        lines.append(f"Fragmented (FGD): {total.get('frag_milli', 0):.0f} of {total['idle_milli']} idle milli-GPU "
                     f"({_pct(total.get('frag_milli', 0), total['idle_milli'])})")
    lines.append(
        f"Allocated/Total in cluster: {total['mib_used']}/{total['mib_total']} MiB "
        f"({_pct(total['mib_used'], total['mib_total'])}), {total['milli_used']}/{total['milli_total']} milli-GPU "
        f"({_pct(total['milli_used'], total['milli_total'])})"
    )
    return "\n".join(lines)


__all__ = ["inspect", "fetch_inspect", "format_inspect", "cluster_view_html", "write_html"]
