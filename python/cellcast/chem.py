"""Chemistry on SMILES in memory: Morgan fingerprints, Bemis–Murcko scaffolds and canonical
SMILES, identical to RDKit's (checked against RDKit 2026.09.1), computed in Rust on all cores.

>>> import cellcast
>>> cellcast.chem.morgan(["CCO", "c1ccccc1O"], n_bits=1024).shape
(2, 1024)
>>> cellcast.chem.scaffolds(["c1ccccc1CC(=O)O", "CCO"])
['c1ccccc1', '']
>>> cellcast.chem.canonical_smiles(["OCC"])
['CCO']
"""

from __future__ import annotations

from typing import Any, List, Optional

import numpy as np

from . import _cellcast
from ._errors import InputError
from ._util import failure_lines, smiles_list, warn

__all__ = ["morgan", "scaffolds", "canonical_smiles"]


def morgan(
    smiles: Any,
    radius: int = 2,
    n_bits: int = 2048,
    counts: bool = False,
    chirality: bool = False,
    *,
    errors: str = "raise",
) -> np.ndarray:
    """Morgan (ECFP-like) fingerprints of SMILES, one row per molecule: RDKit's
    ``GetMorganGenerator(radius, fpSize=n_bits, includeChirality=chirality)`` bits.

    Parameters
    ----------
    smiles : sequence of str (list, numpy array, pandas Series)
    radius : int, default 2
    n_bits : int, default 2048
    counts : bool, default False
        Count fingerprint (``GetCountFingerprintAsNumPy``): how many times each bit is set.
    chirality : bool, default False
    errors : {"raise", "ignore"}, default "raise"
        What to do with a SMILES that cannot be read: raise a ``ValueError``
        (:class:`cellcast.InputError`) naming every such row and why, or give it an all-zero row
        and warn (:class:`cellcast.CellcastWarning`) with the same list.

    Returns
    -------
    numpy.ndarray of shape (n, n_bits): uint8 0/1 bits, or uint32 counts.

    Examples
    --------
    >>> import cellcast
    >>> fp = cellcast.chem.morgan(["CCO", "CCN"], radius=2, n_bits=2048)
    >>> fp.shape, fp.dtype.name, int(fp[0].sum())
    ((2, 2048), 'uint8', 6)
    >>> cellcast.chem.morgan(["CCO", "not a smiles"], errors="ignore")[1].sum()  # doctest: +SKIP
    0
    """
    if errors not in ("raise", "ignore"):
        raise InputError(f"errors must be 'raise' or 'ignore' (got {errors!r})")
    if radius < 0 or n_bits < 1:
        raise InputError(f"radius must be at least 0 and n_bits at least 1 (got radius={radius}, n_bits={n_bits})")
    values = smiles_list(smiles)
    matrix, failures = _cellcast.morgan(values, int(radius), int(n_bits), bool(counts), bool(chirality))
    if failures:
        lines = failure_lines(values, failures)
        head = f"{len(failures)} of {len(values)} SMILES could not be read"
        if errors == "raise":
            raise InputError(
                head + " (pass errors='ignore' to give them all-zero rows):\n  " + "\n  ".join(lines)
            )
        warn([head + "; their rows are all zero:\n  " + "\n  ".join(lines)], stacklevel=2)
    return matrix


def scaffolds(smiles: Any, generic: bool = False) -> List[Optional[str]]:
    """Bemis–Murcko scaffold SMILES of each molecule, as RDKit's ``MurckoScaffoldSmiles``
    (``generic=True``: the generic CSK scaffold, every atom carbon and every bond single). An
    acyclic molecule has the empty scaffold ``''``; an unreadable one gives ``None`` and a
    :class:`cellcast.CellcastWarning` naming its row and the reason.

    >>> import cellcast
    >>> cellcast.chem.scaffolds(["Cc1ccc(cc1)C(=O)NC1CCCCC1"])
    ['O=C(NC1CCCCC1)c1ccccc1']
    >>> cellcast.chem.scaffolds(["Cc1ccc(cc1)C(=O)NC1CCCCC1"], generic=True)
    ['CC(CC1CCCCC1)C1CCCCC1']
    """
    values = smiles_list(smiles)
    out, failures = _cellcast.scaffolds(values, bool(generic))
    _warn_unreadable(values, failures, "their scaffold is None")
    return out


def canonical_smiles(smiles: Any) -> List[Optional[str]]:
    """RDKit's canonical isomeric SMILES (``Chem.MolToSmiles``) of each molecule; ``None``, with a
    :class:`cellcast.CellcastWarning`, where the molecule cannot be read.

    >>> import cellcast
    >>> cellcast.chem.canonical_smiles(["C(O)C", "c1ccccc1"])
    ['CCO', 'c1ccccc1']
    """
    values = smiles_list(smiles)
    out, failures = _cellcast.canonical_smiles(values)
    _warn_unreadable(values, failures, "they give None")
    return out


def _warn_unreadable(values: List[str], failures: Any, consequence: str) -> None:
    if failures:
        lines = failure_lines(values, failures)
        warn(
            [f"{len(failures)} of {len(values)} SMILES could not be read ({consequence}):\n  " + "\n  ".join(lines)],
            stacklevel=3,
        )
