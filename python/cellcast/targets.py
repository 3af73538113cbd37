"""Target identification from a CRISPR screen: which gene did each perturbation hit?

>>> import cellcast
>>> ranks = cellcast.targets.rank("screen.h5ad", "perturbation", control="non-targeting")  # doctest: +SKIP
"""

from __future__ import annotations

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
    layer : str, optional

    Returns
    -------
    pandas.DataFrame indexed by group (every label but the control's), one column per gene:
    the score that the gene is the one perturbed (higher = more likely), as the command's table.
    """
    cells = cells_arg(adata, [group_column], layer)
    out = _cellcast.targets_rank(cells, str(group_column), str(control), str(direction), layer)
    warn(out.get("warnings", []), stacklevel=2)
    return frame_from(out, group_column)
