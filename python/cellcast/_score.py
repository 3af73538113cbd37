from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pandas as pd

from . import _cellcast
from ._util import param_text, table_arg, warn


def metrics() -> pd.DataFrame:
    """Every metric cellcast scores, as ``cellcast metrics`` lists them: one row per metric with
    columns ``name``, ``direction`` ("lower"/"higher" is better), ``inputs``, ``params`` (a list of
    ``{key, default, required, help}``), ``missing_truth`` (the metric's policy), ``summary`` and
    ``source`` (the reference implementation).

    >>> import cellcast
    >>> m = cellcast.metrics().set_index("name")
    >>> m.loc["polaris/pr_auc", "direction"]
    'higher'
    """
    rows = _cellcast.metrics()
    return pd.DataFrame(rows, columns=["name", "direction", "inputs", "params", "missing_truth", "summary", "source"])


@dataclass
class ScoreResult:
    """A metric's value and how it was reached.

    Attributes
    ----------
    metric : str
        The metric's name with the parameters that shape it (``ranking/relevant_hit@5``).
    value : float
        The aggregate, the number a leaderboard shows (NaN where the reference gives NaN).
    direction : str
        ``"lower"`` or ``"higher"`` is better.
    breakdown : pandas.Series
        The per-target, per-group or per-row scores, indexed by id; its name says which
        (``per_target``, ``per_group``, ``per_row``); NaN for an entry that was skipped.
    warnings : list of str
        What may make the value differ from what you expect (also issued as warnings).
    params : dict
        Every parameter the metric used, defaults included.
    n_scored, n_skipped, n_masked : int
        Entries scored and skipped; missing truth cells the metric's policy left out.
    details : dict
        Metric-specific extra numbers (e.g. myllia's components).
    """

    metric: str
    value: float
    direction: str
    breakdown: pd.Series
    warnings: List[str] = field(default_factory=list)
    params: Dict[str, str] = field(default_factory=dict)
    n_scored: int = 0
    n_skipped: int = 0
    n_masked: int = 0
    details: Dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)


def score(
    metric: str,
    truth: Any,
    pred: Any,
    *,
    weights: Any = None,
    baseline: Any = None,
    group_by: Optional[str] = None,
    id_column: str = "id",
    **params: Any,
) -> ScoreResult:
    """Scores predictions with a metric exactly as its reference implementation does (the same
    number as ``cellcast score``).

    Parameters
    ----------
    metric : str
        A name from :func:`cellcast.metrics` (``polaris/mean_squared_error``, ``myllia/score``,
        ``ranking/recall@5``, ``celleval/discrimination_score_l1``, …).
    truth, pred : pandas.DataFrame or path
        Tables with an id column (``id_column``; a DataFrame index of that name works too) and
        one column per target; files may be CSV, TSV or Parquet (gzip too).
    weights, baseline : pandas.DataFrame or path, optional
        For the metrics that take them (``myllia/score``, ``vcpi/wmse``, ``mejia/wmse``).
    group_by : str, optional
        The column whose values are groups (``polaris/pr_auc`` per compound).
    id_column : str, default "id"
    **params
        The metric's parameters, as ``--param KEY=VALUE``: ``k=5``, ``aggregation="median"``,
        ``cos_right=0.3``, ``control="ctrl"``.

    Returns
    -------
    ScoreResult

    Raises
    ------
    ValueError (cellcast.InputError)
        A refused input, naming the table, row, id and column (e.g. a non-finite prediction).
    OSError
        A file that cannot be read.

    Examples
    --------
    >>> import cellcast, pandas as pd
    >>> truth = pd.DataFrame({"id": ["a", "b", "c"], "active": [1, 0, 1]})
    >>> pred = pd.DataFrame({"id": ["a", "b", "c"], "active": [0.9, 0.2, 0.4]})
    >>> cellcast.score("polaris/roc_auc", truth, pred).value
    1.0
    """
    args = dict(
        weights=table_arg("weights", weights, id_column),
        baseline=table_arg("baseline", baseline, id_column),
        group_by=group_by,
        id_column=id_column,
        params=[(str(k), param_text(v)) for k, v in params.items()],
    )
    out = _cellcast.score(
        str(metric), table_arg("truth", truth, id_column), table_arg("pred", pred, id_column), **args
    )
    warn(out["warnings"], stacklevel=2)
    ids = [k for k, _ in out["entries"]]
    values = [v for _, v in out["entries"]]
    breakdown = pd.Series(values, index=pd.Index(ids, name=id_column), name=out["breakdown"], dtype=float)
    return ScoreResult(
        metric=out["metric"],
        value=float(out["value"]),
        direction=out["direction"],
        breakdown=breakdown,
        warnings=list(out["warnings"]),
        params=dict(out["params"]),
        n_scored=int(out["n_scored"]),
        n_skipped=int(out["n_skipped"]),
        n_masked=int(out["n_masked"]),
        details=dict(out.get("details") or {}),
    )
