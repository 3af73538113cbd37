"""Type stub of the native module (crates/cellcast-py). Use the wrappers in ``cellcast``; these
functions take and return plain values and may change between versions."""

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

__version__: str

Failures = List[Tuple[int, str]]
# A table: a path, or (name, [(column, "float"|"int"|"bool"|"text", values), ...]).
TableArg = Union[str, Tuple[str, List[Tuple[str, str, Any]]]]
# Cells: a path to an .h5ad, or a dict with x, layers, obs_names, obs, var_names.
CellsArg = Union[str, Dict[str, Any]]

def morgan(
    smiles: Sequence[str], radius: int, n_bits: int, counts: bool, chirality: bool
) -> Tuple[np.ndarray, Failures]: ...
def scaffolds(smiles: Sequence[str], generic: bool) -> Tuple[List[Optional[str]], Failures]: ...
def canonical_smiles(smiles: Sequence[str]) -> Tuple[List[Optional[str]], Failures]: ...
def split(
    smiles: Sequence[str], method: str, folds: int, seed: int, fractions: Tuple[float, float, float]
) -> Tuple[List[Union[int, str]], List[str]]: ...
def metrics() -> List[Dict[str, Any]]: ...
def score(
    metric: str,
    truth: TableArg,
    pred: TableArg,
    *,
    weights: Optional[TableArg],
    baseline: Optional[TableArg],
    group_by: Optional[str],
    id_column: str,
    params: List[Tuple[str, str]],
) -> Dict[str, Any]: ...
def compare(
    truth: TableArg,
    preds: List[Tuple[str, TableArg]],
    *,
    metrics: List[str],
    weights: Optional[TableArg],
    baseline: Optional[TableArg],
    group_by: Optional[str],
    params: List[Tuple[str, str]],
    folds: Optional[TableArg],
    bootstrap: int,
    seed: int,
    id_column: str,
    out: Optional[str],
) -> Dict[str, Any]: ...
def pseudobulk(
    cells: CellsArg, group_column: str, normalize: Optional[str], layer: Optional[str], agg: str
) -> Dict[str, Any]: ...
def targets_rank(
    cells: CellsArg,
    group_column: str,
    control: str,
    direction: str,
    layer: Optional[str],
    statistic: str,
    specific: Optional[bool],
) -> Dict[str, Any]: ...
def evaluate(
    real: CellsArg,
    pred: Optional[CellsArg],
    pert_column: str,
    control: str,
    profile: str,
    celltype_column: Optional[str],
    embed_key: Optional[str],
    baseline: Optional[CellsArg],
    de_real: Optional[str],
    de_pred: Optional[str],
    skip_metrics: List[str],
    ceiling_seed: Optional[int],
    allow_discrete: bool,
    real_scale: Optional[str],
    pred_scale: Optional[str],
    out: Optional[str],
) -> Dict[str, Any]: ...
def run(
    task_dir: str,
    out: Optional[str],
    split: str,
    folds: int,
    seed: int,
    models: Optional[List[str]],
    split_file: Optional[str] = ...,
    predictions: List[Tuple[str, str]] = ...,
) -> Dict[str, Any]: ...
