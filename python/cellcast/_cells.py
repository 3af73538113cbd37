from __future__ import annotations

import math
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

from ._errors import InputError
from . import _cellcast
from ._util import is_path, warn

# Value dtypes the native module borrows without a copy; any other numeric dtype is converted.
_VALUE_DTYPES = {np.dtype(t) for t in ("f8", "f4", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "?")}
_INDEX_DTYPES = {np.dtype("i4"), np.dtype("i8")}


def _values(a: Any) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype not in _VALUE_DTYPES:
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            raise InputError(f"the matrix holds {a.dtype} values; cellcast reads numbers")
        a = a.astype(np.float64)
    return np.ascontiguousarray(a)


def _indices(a: Any) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype not in _INDEX_DTYPES:
        a = a.astype(np.int64)
    return np.ascontiguousarray(a)


def matrix_spec(x: Any) -> Tuple[Any, ...]:
    """A cells × genes matrix as ("csr"|"csc", shape, indptr, indices, data) or ("dense", shape,
    data): scipy sparse or numpy, any numeric dtype; C-contiguous arrays cross without a copy."""
    try:
        import scipy.sparse as sp
    except ImportError:  # pragma: no cover - scipy comes with anndata
        sp = None
    if sp is not None and sp.issparse(x):
        fmt = x.format
        if fmt not in ("csr", "csc"):
            x = x.tocsr()
            fmt = "csr"
        shape = (int(x.shape[0]), int(x.shape[1]))
        return (fmt, shape, _indices(x.indptr), _indices(x.indices), _values(x.data))
    if hasattr(x, "to_memory"):  # an anndata backed dataset
        return matrix_spec(x.to_memory())
    a = np.asarray(x)
    if a.ndim != 2:
        raise InputError(f"the matrix must be 2-dimensional (got shape {a.shape})")
    a = _values(a)  # row-major, as the native module expects
    return ("dense", (int(a.shape[0]), int(a.shape[1])), a.reshape(-1))


def obs_column_spec(name: str, s: pd.Series) -> Tuple[Any, ...]:
    """An obs column as ("categorical", codes, categories, ordered), ("numeric", f64),
    ("integer", i64), ("bool", bool) or ("text", [str | None])."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = [c if isinstance(c, str) else str(c) for c in dtype.categories.tolist()]
        codes = np.ascontiguousarray(s.cat.codes.to_numpy(dtype=np.int64))
        return ("categorical", codes, cats, bool(dtype.ordered))
    if pd.api.types.is_bool_dtype(dtype) and not s.isna().any():
        return ("bool", np.ascontiguousarray(s.to_numpy(dtype=bool)))
    if pd.api.types.is_integer_dtype(dtype) and not s.isna().any():
        return ("integer", np.ascontiguousarray(s.to_numpy(dtype=np.int64)))
    if pd.api.types.is_numeric_dtype(dtype):
        return ("numeric", np.ascontiguousarray(s.to_numpy(dtype=np.float64, na_value=np.nan)))
    values: List[Optional[str]] = []
    for v in s.tolist():
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            values.append(None)
        else:
            values.append(v if isinstance(v, str) else str(v))
    return ("text", values)


def cells_arg(adata: Any, columns: Sequence[str], layer: Optional[str], obsm: Sequence[str] = ()) -> Any:
    """A path (str) or the in-memory AnnData as a dict the native module borrows from: X (or only
    the layer asked for), the obs columns the workflow reads, and the obs and var names."""
    if is_path(adata):
        return os.fspath(adata)
    if not (hasattr(adata, "obs") and hasattr(adata, "var") and hasattr(adata, "X")):
        raise TypeError(f"adata must be an anndata.AnnData or a path to an .h5ad file, got {type(adata).__name__}")
    obs = adata.obs
    specs = []
    for c in dict.fromkeys(columns):
        if c not in obs.columns:
            raise InputError(
                f"obs has no column '{c}' (columns: {', '.join(map(str, obs.columns[:20]))})"
            )
        specs.append((c, obs_column_spec(c, obs[c])))
    layers: Dict[str, Any] = {}
    if layer is not None:
        if layer not in adata.layers:
            raise InputError(f"no layer '{layer}' (layers: {', '.join(adata.layers.keys()) or 'none'})")
        layers[layer] = matrix_spec(adata.layers[layer])
    elif adata.X is None:
        raise InputError("the AnnData has no X; pass layer=NAME")
    # X crosses even when a layer is read (borrowed, no copy): the view is checked whole.
    x = None if adata.X is None else matrix_spec(adata.X)
    embeddings = {}
    for key in obsm:
        if key not in adata.obsm:
            raise InputError(f"obsm has no '{key}' (obsm: {', '.join(adata.obsm.keys()) or 'none'})")
        embeddings[key] = np.ascontiguousarray(np.asarray(adata.obsm[key], dtype=np.float64))
    return {
        "obsm": embeddings,
        "x": x,
        "layers": layers,
        "obs_names": [str(n) for n in adata.obs_names],
        "obs": specs,
        "var_names": [str(n) for n in adata.var_names],
    }


def frame_from(out: Dict[str, Any], index_name: str) -> pd.DataFrame:
    """The native module's (rows, columns, values) matrix result as a DataFrame."""
    df = pd.DataFrame(np.asarray(out["values"]), index=pd.Index(out["rows"], name=index_name), columns=out["columns"])
    return df


def pseudobulk(
    adata: Any,
    group_column: str,
    normalize: Optional[str] = None,
    layer: Optional[str] = None,
    agg: str = "mean",
) -> pd.DataFrame:
    """Per-group pseudobulk of a single-cell matrix, identical to scanpy's
    ``sc.get.aggregate(adata, by=group_column, func=agg)`` (after ``normalize_total(target_sum=1e4)``
    and ``log1p`` with ``normalize="cp10k-log1p"``).

    Parameters
    ----------
    adata : anndata.AnnData or path to an .h5ad
        X as scipy CSR/CSC or numpy, any numeric dtype (no copy where the layout allows); obs
        columns categorical or not. A path is streamed from disk in blocks of cells.
    group_column : str
        The obs column whose values are the groups; cells with a missing label are left out.
    normalize : {None, "none", "cp10k-log1p", "cpm-log2"}, default None
        Per-cell normalisation before aggregating. None lets the data decide, as the command
        does: raw counts (every stored value a non-negative integer) get cp10k-log1p, anything
        else is aggregated as it is (a warning or note says which).
    layer : str, optional
        Aggregate this layer instead of X.
    agg : {"mean", "sum"}, default "mean"

    Returns
    -------
    pandas.DataFrame indexed by group (sorted as scanpy sorts categories), one column per gene.

    Examples
    --------
    >>> import anndata, numpy as np, pandas as pd, cellcast
    >>> adata = anndata.AnnData(np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]]),
    ...                         obs=pd.DataFrame({"g": ["a", "a", "b"]}, index=["c1", "c2", "c3"]),
    ...                         var=pd.DataFrame(index=["x", "y"]))
    >>> cellcast.pseudobulk(adata, "g", normalize="none")
         x    y
    g
    a  2.0  1.0
    b  5.0  5.0
    """
    cells = cells_arg(adata, [group_column], layer)
    out = _cellcast.pseudobulk(cells, str(group_column), normalize, layer, str(agg))
    warn(out.get("warnings", []), stacklevel=2)
    return frame_from(out, group_column)
