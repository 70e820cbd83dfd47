"""Quota helpers: a pandas view of quota usage per queue and flavor.

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

from ._core import QuotaState

__all__ = ["usage_frame"]


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
