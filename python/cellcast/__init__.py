"""cellcast: exact, fast, honest benchmarking for virtual-cell models, from Python.

The official metrics of the virtual-cell benchmarks (Polaris, Kaggle, VCPI, cell-eval, target
identification), RDKit-identical chemistry, reproducible splits, scanpy-identical pseudobulk and
the whole ``cellcast run`` pipeline, computed in Rust (the ``cellcast`` command's library) with the
GIL released. Errors carry the command's message (file, row, column) and are ``ValueError``
(refused input), ``OSError`` (files) or ``RuntimeError`` (computation), all
:class:`CellcastError`; warnings are :class:`CellcastWarning`.

>>> import cellcast, pandas as pd
>>> truth = pd.DataFrame({"id": ["a", "b"], "g1": [1.0, 2.0], "g2": [0.0, 1.0]})
>>> pred = pd.DataFrame({"id": ["a", "b"], "g1": [1.5, 2.0], "g2": [0.0, 0.0]})
>>> r = cellcast.score("polaris/mean_squared_error", truth, pred)
>>> r.value, r.direction
(0.3125, 'lower')
>>> r.breakdown.to_dict()
{'g1': 0.125, 'g2': 0.5}
"""

from __future__ import annotations

from . import _cellcast, chem, targets
from ._cells import pseudobulk
from ._compare import CompareResult, compare
from ._evaluate import EvaluateResult, evaluate
from ._errors import CellcastError, CellcastIOError, CellcastWarning, ComputeError, InputError
from ._run import RunResult, run
from ._score import ScoreResult, metrics, score
from ._split import split

__version__: str = _cellcast.__version__

__all__ = [
    "__version__",
    "metrics",
    "score",
    "ScoreResult",
    "compare",
    "CompareResult",
    "chem",
    "split",
    "pseudobulk",
    "evaluate",
    "EvaluateResult",
    "targets",
    "run",
    "RunResult",
    "CellcastError",
    "InputError",
    "CellcastIOError",
    "ComputeError",
    "CellcastWarning",
]
