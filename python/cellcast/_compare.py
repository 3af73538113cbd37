from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import pandas as pd

from . import _cellcast
from ._util import param_text, table_arg, warn


@dataclass
class CompareResult:
    """Several models compared on one truth (see :func:`compare`).

    Attributes
    ----------
    leaderboard : pandas.DataFrame
        One row per (model, metric): ``score`` (exactly what :func:`cellcast.score` gives),
        ``rank`` (1 = best, ties share), ``ci_low``/``ci_high`` (95 % paired-bootstrap
        interval of the score) and ``direction``.
    pairwise : pandas.DataFrame
        One row per metric and pair of models: ``delta`` = score(a) − score(b) with its 95 %
        interval and the two-sided bootstrap ``p`` (never below ``p_resolution`` = 1/resamples;
        at it, no resample crossed 0).
    rank_agreement : pandas.DataFrame
        Kendall's τ-b between every two metrics' rankings, and the pairs they order oppositely.
    folds : pandas.DataFrame
        ``model, metric, fold, score`` when folds were given (else empty).
    headline : str
        The report's first sentences: the winner, its difference from the reference and from
        the runner-up with intervals and p-values, and whether they can be told apart.
    metrics : list of str
        The metrics, the official one first.
    reference : str
        The model the report measures the others against.
    warnings : list of str
    written : list of str
        Files written to ``out``.
    """

    leaderboard: pd.DataFrame
    pairwise: pd.DataFrame
    rank_agreement: pd.DataFrame
    folds: pd.DataFrame
    headline: str
    metrics: List[str]
    reference: str
    warnings: List[str] = field(default_factory=list)
    written: List[str] = field(default_factory=list)

    def scores(self) -> pd.DataFrame:
        """The scores as a models × metrics table (the leaderboard pivoted)."""
        t = self.leaderboard.pivot(index="model", columns="metric", values="score")
        return t.loc[self.leaderboard["model"].drop_duplicates(), self.metrics]

    def __repr__(self) -> str:
        return f"CompareResult({len(self.leaderboard['model'].unique())} models, {self.metrics})\n{self.headline}"


def compare(
    truth: Any,
    preds: Mapping[str, Any],
    *,
    metrics: Optional[Sequence[str]] = None,
    weights: Any = None,
    baseline: Any = None,
    group_by: Optional[str] = None,
    folds: Any = None,
    bootstrap: int = 1000,
    seed: int = 0,
    id_column: str = "id",
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    **params: Any,
) -> CompareResult:
    """Compares models' predictions of one truth, as ``cellcast compare`` does: each scored
    exactly as :func:`cellcast.score` scores it under the official metric and the metrics that
    disagree with it, every difference with a paired bootstrap over the truth's rows (or
    ``group_by`` groups), the metrics' rank agreement, and scores per fold.

    Parameters
    ----------
    truth : pandas.DataFrame or path
        The truth table, in the layout :func:`cellcast.score` reads for the metrics.
    preds : dict of name → DataFrame or path
        One prediction per model, in the order the report lists them. A model named ``mean`` or
        ``baseline`` is the report's reference, else the first.
    metrics : list of str, optional
        Metric names, the first official; default: the official metric of the truth's kind and
        the panel ``cellcast run`` scores beside it.
    weights, baseline : DataFrame or path, optional
        For the metrics that use them.
    group_by : str, optional
        The truth column grouping rows (grouped metrics; the bootstrap resamples groups).
    folds : DataFrame or path, optional
        ``id, fold``: also score every fold.
    bootstrap : int, default 1000
        Paired bootstrap resamples.
    seed : int, default 0
    id_column : str, default "id"
    out : path, optional
        Write leaderboard.csv, pairwise.csv, rank_agreement.csv, folds.csv, report.md and
        report.html there (all at once).
    **params
        Metric parameters (``k=5``, ``control="NT"``), given to the metrics that take them.

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> import cellcast, pandas as pd
    >>> truth = pd.DataFrame({"id": list("abcdef"), "g": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    >>> good = truth.assign(g=truth.g + 0.1)
    >>> mean = truth.assign(g=3.5)
    >>> r = cellcast.compare(truth, {"mean": mean, "good": good},
    ...                      metrics=["polaris/mean_squared_error"], bootstrap=200)
    >>> r.leaderboard.set_index("model")["rank"].to_dict()
    {'mean': 2, 'good': 1}
    """
    if not isinstance(preds, Mapping) or not preds:
        raise TypeError("preds must be a non-empty dict of model name -> DataFrame or path")
    if isinstance(folds, pd.DataFrame) and "fold" in folds.columns:
        folds = folds.assign(fold=folds["fold"].astype(str))
    out_dict = _cellcast.compare(
        table_arg("truth", truth, id_column),
        [(str(name), table_arg(f"prediction '{name}'", p, id_column)) for name, p in preds.items()],
        metrics=[str(m) for m in (metrics or [])],
        weights=table_arg("weights", weights, id_column),
        baseline=table_arg("baseline", baseline, id_column),
        group_by=group_by,
        params=[(str(k), param_text(v)) for k, v in params.items()],
        folds=table_arg("folds", folds, id_column),
        bootstrap=int(bootstrap),
        seed=int(seed),
        id_column=id_column,
        out=None if out is None else os.fspath(out),
    )
    warn(out_dict["warnings"], stacklevel=2)
    frame = lambda key: pd.DataFrame(out_dict[key])  # noqa: E731
    return CompareResult(
        leaderboard=frame("leaderboard"),
        pairwise=frame("pairwise"),
        rank_agreement=frame("rank_agreement"),
        folds=frame("folds"),
        headline=out_dict["headline"],
        metrics=[m for m, _ in out_dict["metrics"]],
        reference=out_dict["models"][out_dict["reference"]],
        warnings=list(out_dict["warnings"]),
        written=list(out_dict["written"]),
    )
