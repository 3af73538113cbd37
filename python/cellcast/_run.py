from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _cellcast
from ._util import warn


@dataclass
class RunResult:
    """What :func:`cellcast.run` fitted and chose.

    Attributes
    ----------
    leaderboard : pandas.DataFrame
        One row per model: its cross-validated score under the official metric and the panel.
    submission : pandas.DataFrame
        The selected model's predictions for the test compounds, in the layout of
        ``sample_submission.csv``.
    selected : str
        The name of the model selected on the official metric.
    out : str or None
        The folder the files were written to, if any.
    """

    leaderboard: pd.DataFrame
    submission: pd.DataFrame
    selected: str
    out: Optional[str] = None
    notes: List[str] = field(default_factory=list)


def run(
    task_dir: Union[str, "os.PathLike[str]"],
    out: Union[str, "os.PathLike[str]", None] = None,
    split: str = "scaffold",
    folds: int = 5,
    seed: int = 0,
    models: Optional[Sequence[str]] = None,
    split_file: Union[str, "os.PathLike[str]", None] = None,
    predictions: Optional[Mapping[str, Union[str, "os.PathLike[str]"]]] = None,
) -> RunResult:
    """Runs the ``cellcast run`` pipeline on a task folder (``train.csv``, ``test_features.csv``,
    ``sample_submission.csv``): featurize, split, cross-validate the model panel, score with the
    official metric, refit the winner and predict the test set.

    Parameters
    ----------
    task_dir : path
    out : path, optional
        Also write the command's files there (submission.csv, leaderboard.csv, report.md, …).
    split : {"scaffold", "random"}, default "scaffold"
    folds : int, default 5
    seed : int, default 0
    models : list of str, optional
        Only these models (the mean always runs), e.g. ``["knn_tuned", "ridge_descriptors"]``.
    split_file : path, optional
        Cross-validate on the folds of this file (``id,group,fold``: ``cellcast.split`` output or
        a previous run's ``folds.csv``) instead of making them; ``split`` and ``folds`` are then
        unused.
    predictions : dict of name → path, optional
        Your own models: out-of-fold predictions of the training compounds made on the folds of
        ``split_file`` (``id`` and one column per target), scored, bootstrapped and ranked with
        the panel (never refit, so never the submission).

    Returns
    -------
    RunResult

    >>> r = cellcast.run("../shared/tasks/l1000-drugbank", models=["knn_tuned"])  # doctest: +SKIP
    >>> r.selected, r.leaderboard.head()  # doctest: +SKIP
    """
    res = _cellcast.run(
        os.fspath(task_dir),
        None if out is None else os.fspath(out),
        str(split),
        int(folds),
        int(seed),
        None if models is None else [str(m) for m in models],
        split_file=None if split_file is None else os.fspath(split_file),
        predictions=[(str(k), os.fspath(v)) for k, v in (predictions or {}).items()],
    )
    warn(res.get("warnings", []), stacklevel=2)
    leaderboard = pd.DataFrame({name: values for name, values in res["leaderboard"]})
    sub = res["submission"]
    submission = pd.DataFrame(np.asarray(sub["values"]), columns=sub["columns"])
    submission.insert(0, sub["id_column"], sub["ids"])
    return RunResult(
        leaderboard=leaderboard,
        submission=submission,
        selected=res["selected"],
        out=None if out is None else os.fspath(out),
        notes=list(res.get("notes", [])),
    )
