from __future__ import annotations

import re
from typing import Any, Tuple

import numpy as np

from . import _cellcast
from ._util import smiles_list, warn

_FAILED = re.compile(r"\d+ ok, [1-9]\d* failed")


def split(
    smiles: Any,
    method: str = "scaffold-kfold",
    folds: int = 5,
    seed: int = 0,
    *,
    fractions: Tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> np.ndarray:
    """Assigns molecules to folds reproducibly, exactly as ``cellcast split`` does for a table of
    these molecules in this order.

    Parameters
    ----------
    smiles : sequence of str
    method : str, default "scaffold-kfold"
        ``scaffold-kfold`` (whole Bemis–Murcko scaffolds per fold, largest first, as DeepChem's
        balanced k-fold), ``random-kfold`` (seeded), or the train/valid/test methods
        ``deepchem``, ``chemprop``, ``chemprop-balanced`` (with ``fractions``).
    folds : int, default 5
        2 to 1000.
    seed : int, default 0
    fractions : (train, valid, test), default (0.8, 0.1, 0.1)
        For the train/valid/test methods.

    Returns
    -------
    numpy.ndarray: int64 fold per row (0 … folds-1) for the k-fold methods; for the
    train/valid/test methods an object array of ``"train"``, ``"valid"``, ``"test"``.

    An unreadable molecule is a scaffold group of its own (a :class:`cellcast.CellcastWarning`
    names it).

    >>> import cellcast
    >>> cellcast.split(["c1ccccc1C", "c1ccccc1CC", "C1CCCCC1O", "CCO"], folds=2)
    array([0, 0, 1, 1])
    """
    values = smiles_list(smiles)
    parts, notes = _cellcast.split(values, str(method), int(folds), int(seed), tuple(float(f) for f in fractions))
    # The façade notes a summary per step; a step that could not read some molecules lists them.
    failed = [i for i, n in enumerate(notes) if _FAILED.search(n)]
    if failed:
        block = [notes[failed[0]]]
        block += [n.strip() for n in notes[failed[0] + 1 :] if n.startswith("  ")]
        warn(["\n  ".join(block)], stacklevel=2)
    if parts and isinstance(parts[0], str):
        return np.array(parts, dtype=object)
    return np.array(parts, dtype=np.int64)
