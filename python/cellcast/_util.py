"""Conversions shared by the wrappers: sequences of SMILES, warnings, DataFrames to the native
module's plain columns."""

from __future__ import annotations

import math
import os
import warnings
from typing import Any, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ._errors import CellcastWarning, InputError

PathLike = Union[str, "os.PathLike[str]"]


def warn(messages: Iterable[str], stacklevel: int = 3) -> None:
    for message in messages:
        warnings.warn(message, CellcastWarning, stacklevel=stacklevel + 1)


def smiles_list(smiles: Any) -> List[str]:
    """A list of SMILES strings from a str, list, tuple, numpy array or pandas Series; a missing
    value (None, NaN) becomes the empty SMILES, which is refused like any unreadable one."""
    if isinstance(smiles, (str, bytes)):
        raise TypeError("smiles must be a sequence of SMILES strings, not one string; wrap it in a list")
    if isinstance(smiles, pd.Series):
        smiles = smiles.tolist()
    out = []
    for i, s in enumerate(smiles):
        if s is None or (isinstance(s, float) and math.isnan(s)):
            out.append("")
        elif isinstance(s, str):
            out.append(s)
        else:
            raise TypeError(f"smiles row {i}: expected a str, got {type(s).__name__}")
    return out


def smiles_prefix(s: str) -> str:
    return s if len(s) <= 40 else s[:40] + "…"


def failure_lines(smiles: Sequence[str], failures: Sequence[Tuple[int, str]]) -> List[str]:
    return [f"row {row}, SMILES '{smiles_prefix(smiles[row])}': {reason}" for row, reason in failures]


def is_path(x: Any) -> bool:
    return isinstance(x, (str, os.PathLike))


def column_spec(name: str, series: pd.Series) -> Tuple[str, str, Any]:
    """One DataFrame column as (name, kind, values) for the native module: float64, int64 and
    bool arrays cross as numpy arrays; anything else is text (None where missing)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype) and not series.isna().any():
        return (name, "bool", np.ascontiguousarray(series.to_numpy(dtype=bool)))
    if pd.api.types.is_integer_dtype(dtype):
        if series.isna().any():  # a nullable integer column with missing cells
            return (name, "float", np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan)))
        return (name, "int", np.ascontiguousarray(series.to_numpy(dtype=np.int64)))
    if pd.api.types.is_float_dtype(dtype):
        return (name, "float", np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan)))
    values: List[Optional[str]] = []
    for v in series.tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            values.append(None)
        else:
            values.append(v if isinstance(v, str) else str(v))
    return (name, "text", values)


def table_arg(what: str, table: Any, id_column: str) -> Any:
    """A path (str) or a frame: (name, [(column, kind, values), …]) with the id column first-class.
    A DataFrame whose index is named like the id column gets it back as a column."""
    if table is None:
        return None
    if is_path(table):
        return os.fspath(table)
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame or a file path, got {type(table).__name__}")
    if id_column not in table.columns and table.index.name == id_column:
        table = table.reset_index()
    columns = []
    for name in table.columns:
        if not isinstance(name, str):
            raise InputError(f"{what}: column names must be strings (got {name!r})")
        columns.append(column_spec(name, table[name]))
    return (f"{what} (DataFrame)", columns)


def param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

