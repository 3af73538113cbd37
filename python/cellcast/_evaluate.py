from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _cellcast
from ._cells import cells_arg
from ._util import warn

PathLike = Union[str, "os.PathLike[str]"]

_STATISTICS = ["count", "null_count", "mean", "std", "min", "25%", "50%", "75%", "max"]


class EvaluateResult(tuple):
    """``(results, agg)`` — cell-eval's per-perturbation table and its ``describe()`` summary,
    as ``MetricsEvaluator.compute()`` returns them — with what else the evaluation gave:

    - ``results``: one row per perturbation (column ``perturbation``, then one per metric; with a
      cell-type column, a ``celltype`` column first and one block of rows per cell type).
    - ``agg``: column ``statistic`` (count, null_count, mean, std, min, 25%, 50%, 75%, max), then
      one per metric (per cell type, a ``celltype`` column first).
    - ``scores``: with a baseline, cell-eval ``score``'s table (``metric``, ``from_baseline``,
      ``avg_score`` last), else None.
    - ``ceiling`` / ``ceiling_agg``: with ``ceiling=True``, the half-depth per-perturbation
      scores and the Spearman–Brown corrected means, else None.
    - ``run``: the ``run.json`` record (scales assumed and why, control check, FDR scope).

    A missing value (cell-eval writes an empty cell) is NaN here.
    """

    results: pd.DataFrame
    agg: pd.DataFrame
    scores: Optional[pd.DataFrame]
    ceiling: Optional[pd.DataFrame]
    ceiling_agg: Optional[pd.DataFrame]
    run: Dict[str, Any]

    def __new__(cls, results, agg, scores, ceiling, ceiling_agg, run):
        self = super().__new__(cls, (results, agg))
        self.results, self.agg, self.scores = results, agg, scores
        self.ceiling, self.ceiling_agg, self.run = ceiling, ceiling_agg, run
        return self


def _tables(ev: List[Dict[str, Any]], key: str, split: bool):
    frames, aggs = [], []
    for e in ev:
        t = e.get(key)
        if t is None:
            continue
        df = pd.DataFrame(np.asarray(t["values"]), columns=t["columns"])
        df.insert(0, "perturbation", t["perturbations"])
        agg = pd.DataFrame(np.asarray(t["agg"]), columns=t["columns"])
        agg.insert(0, "statistic", _STATISTICS)
        if split:
            df.insert(0, "celltype", e["celltype"])
            agg.insert(0, "celltype", e["celltype"])
        frames.append(df)
        aggs.append(agg)
    if not frames:
        return None, None
    return pd.concat(frames, ignore_index=True), pd.concat(aggs, ignore_index=True)


def evaluate(
    real: Any,
    pred: Any = None,
    *,
    pert_column: str,
    control: str,
    profile: str = "full",
    celltype_column: Optional[str] = None,
    embed_key: Optional[str] = None,
    baseline: Any = None,
    de_real: Optional[PathLike] = None,
    de_pred: Optional[PathLike] = None,
    skip_metrics: Optional[Sequence[str]] = None,
    ceiling: bool = False,
    ceiling_seed: int = 0,
    allow_discrete: bool = False,
    real_scale: Optional[str] = None,
    pred_scale: Optional[str] = None,
    out: Optional[PathLike] = None,
    numpy_log1p: Optional[str] = None,
) -> EvaluateResult:
    """Evaluates predicted single cells against real ones exactly as Arc Institute's cell-eval
    0.8.2 (the Virtual Cell Challenge evaluator, with pdex 0.3.0) does: the same metrics, the same
    numbers, much faster and in bounded memory.

    Parameters
    ----------
    real, pred : anndata.AnnData or path to an .h5ad
        The same genes in the same order and the same perturbations. In memory, X is borrowed
        (scipy CSR/CSC or numpy, no copy where the layout allows). ``pred`` may be None with
        ``ceiling=True`` (the data ceiling alone).
    pert_column : str
        The obs column of perturbation labels.
    control : str
        The label of the control cells.
    profile : {"full", "vcc", "minimal", "de", "anndata", "pds"}, default "full"
    celltype_column : str, optional
        Evaluate each cell type on its own.
    embed_key : str, optional
        An obsm embedding for discrimination_score_l2 and _cosine.
    baseline : anndata.AnnData or path, optional
        A baseline prediction (``cellcast evaluate baseline``): adds ``scores``.
    de_real, de_pred : path, optional
        DE tables (pdex's columns) to use instead of computing them.
    skip_metrics : list of str, optional
    ceiling : bool, default False
        Also estimate the data ceiling (two disjoint halves of the real cells).
    ceiling_seed : int, default 0
    allow_discrete : bool, default False
        Leave integer data as it is (cell-eval's ``--allow-discrete``).
    real_scale, pred_scale : {"counts", "log1p"}, optional
        Declare a file's scale instead of letting the data decide (integers are counts).
    out : path, optional
        Also write cell-eval's files there (results.csv, agg_results.csv, real_de.csv,
        pred_de.csv, score.csv, run.json).
    numpy_log1p : {"avx512", "c-library"}, optional
        The float32 log1p numpy ran where cell-eval ran, which decides counts' normalised values
        (and so Wilcoxon ties): numpy's own kernel on CPUs with AVX-512, the C library's log1pf
        elsewhere. Default: the one numpy runs on this CPU.

    Returns
    -------
    EvaluateResult
        Unpacks as ``results, agg``; see :class:`EvaluateResult` for the rest.

    >>> results, agg = cellcast.evaluate("real.h5ad", "pred.h5ad", pert_column="target_gene",
    ...                                  control="non-targeting", profile="vcc")  # doctest: +SKIP
    """
    columns = [pert_column] + ([celltype_column] if celltype_column else [])

    def cells(a: Any) -> Any:
        return None if a is None else cells_arg(a, columns, None, [embed_key] if embed_key else [])

    res = _cellcast.evaluate(
        cells(real),
        cells(pred),
        str(pert_column),
        str(control),
        str(profile),
        celltype_column,
        embed_key,
        cells(baseline),
        None if de_real is None else os.fspath(de_real),
        None if de_pred is None else os.fspath(de_pred),
        [str(m) for m in (skip_metrics or [])],
        int(ceiling_seed) if ceiling else None,
        bool(allow_discrete),
        real_scale,
        pred_scale,
        None if out is None else os.fspath(out),
        numpy_log1p,
    )
    warn(res.get("warnings", []), stacklevel=2)
    ev = res["evaluations"]
    split = celltype_column is not None
    results, agg = _tables(ev, "results", split)
    ceiling_df, _ = _tables(ev, "ceiling", split)
    ceiling_agg = None
    if ceiling:
        rows = []
        for e in ev:
            row = dict(e["ceiling"]["corrected"])
            if split:
                row = {"celltype": e["celltype"], **row}
            rows.append(row)
        ceiling_agg = pd.DataFrame(rows)
    scores = None
    first = ev[0].get("results") if ev else None
    if first is not None and "scores" in first:
        srows = []
        for e in ev:
            for metric, value in e["results"]["scores"]:
                srows.append(({"celltype": e["celltype"]} if split else {}) | {"metric": metric, "from_baseline": value})
        scores = pd.DataFrame(srows)
    return EvaluateResult(results, agg, scores, ceiling_df, ceiling_agg, json.loads(res["run_json"]))
