"""Target identification from a CRISPR screen: which gene did each perturbation hit?

>>> import cellcast
>>> ranks = cellcast.targets.rank("screen.h5ad", "perturbation", control="non-targeting")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import Any, Optional

import pandas as pd

from ._cells import cells_arg, frame_from
from . import _cellcast
from ._util import warn

__all__ = ["rank"]


def rank(
    adata: Any,
    group_column: str,
    control: str,
    direction: str = "both",
    *,
    statistic: str = "auto",
    specific: Optional[bool] = None,
    layer: Optional[str] = None,
) -> pd.DataFrame:
    """Ranks, for every perturbation group, the genes most changed against the control cells,
    as ``cellcast targets rank``: the likely targets first.

    Parameters
    ----------
    adata : anndata.AnnData or path to an .h5ad
    group_column : str
        The obs column naming each cell's perturbation.
    control : str
        The label of the control cells (e.g. ``"non-targeting"``).
    direction : {"down", "up", "both"}, default "both"
        Which changes count: knockdowns (``down``), activation (``up``), or either.
    statistic : {"auto", "wilcoxon", "welch", "mean_z", "detection", "combined"}, default "auto"
        The statistic of each gene of a group against the controls (formulas in
        ``cellcast targets rank --help``); ``auto`` chooses per screen by held-out evaluation on
        the groups whose labels name measured genes, falling back to ``combined``.
    specific : bool, optional
        Subtract the other groups' median score of each gene. ``None``: a fixed statistic is made
        specific; ``auto`` chooses.
    layer : str, optional

    Returns
    -------
    pandas.DataFrame indexed by group (every label but the control's), one column per gene:
    the score that the gene is the one perturbed (higher = more likely), as the command's table.
    ``DataFrame.attrs["cellcast"]`` holds what was done, as the command's JSON record: the
    statistic used and why, direction, normalisation, the groups whose genes are not measured.
    """
    cells = cells_arg(adata, [group_column], layer)
    out = _cellcast.targets_rank(
        cells, str(group_column), str(control), str(direction), layer, str(statistic), specific
    )
    warn(out.get("warnings", []), stacklevel=2)
    df = frame_from(out, group_column)
    df.attrs["cellcast"] = json.loads(out["record"])
    return df
