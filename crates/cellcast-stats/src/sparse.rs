//! Sparse matrices: [`CsrMatrix`], scipy's `csr_matrix` in canonical form, the cells × genes
//! layout that differential expression, limma and the AnnData reader exchange.

use crate::matrix::Matrix;

/// CSR arrays that do not describe a canonical CSR matrix (the message says which rule fails).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid CSR matrix: {0}")]
pub struct InvalidCsr(pub String);

/// A sparse matrix in compressed sparse row form, as scipy's `csr_matrix` in canonical format
/// (column indices strictly increasing within each row). Values not stored are 0.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix<T> {
    n_rows: usize,
    n_cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<T>,
}

/// Whether `indices` strictly increase (a canonical CSR row).
pub fn strictly_increasing(indices: &[u32]) -> bool {
    indices.iter().zip(indices.iter().skip(1)).fold(true, |ok, (a, b)| ok & (a < b))
}

/// Whether `indices` strictly decrease (a CSR row written back to front).
pub fn strictly_decreasing(indices: &[u32]) -> bool {
    indices.iter().zip(indices.iter().skip(1)).fold(true, |ok, (a, b)| ok & (a > b))
}

impl<T> CsrMatrix<T> {
    /// Wraps CSR arrays: row `i` holds `indices[indptr[i]..indptr[i+1]]` with the matching `data`.
    pub fn new(
        n_rows: usize,
        n_cols: usize,
        indptr: Vec<usize>,
        indices: Vec<u32>,
        data: Vec<T>,
    ) -> Result<Self, InvalidCsr> {
        let bad = |msg: String| Err(InvalidCsr(msg));
        if indptr.len() != n_rows + 1 {
            return bad(format!("indptr has {} entries for {n_rows} rows (expected {})", indptr.len(), n_rows + 1));
        }
        if indices.len() != data.len() {
            return bad(format!("{} column indices but {} values", indices.len(), data.len()));
        }
        if indptr[0] != 0 || indptr[n_rows] != indices.len() {
            return bad(format!("indptr must run from 0 to {} (the number of values)", indices.len()));
        }
        if u32::try_from(n_cols).is_err() {
            return bad(format!("{n_cols} columns do not fit 32-bit column indices"));
        }
        for i in 0..n_rows {
            let (start, end) = (indptr[i], indptr[i + 1]);
            if start > end {
                return bad(format!("indptr decreases at row {i}"));
            }
            let row = &indices[start..end];
            // Strictly increasing, so the last index is the largest. Checked without early exits,
            // which the compiler vectorises (a file's every stored value passes here).
            if !strictly_increasing(row) {
                return bad(format!("row {i} has unsorted or duplicate column indices"));
            }
            if let Some(&j) = row.last().filter(|&&j| j as usize >= n_cols) {
                return bad(format!("row {i} has column index {j} but there are {n_cols} columns"));
            }
        }
        Ok(Self { n_rows, n_cols, indptr, indices, data })
    }

    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    pub fn n_cols(&self) -> usize {
        self.n_cols
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Where each row starts in [`CsrMatrix::indices`] and [`CsrMatrix::data`]: row `i` is
    /// `indptr[i]..indptr[i + 1]`; `n_rows() + 1` entries from 0 to `nnz()`.
    pub fn indptr(&self) -> &[usize] {
        &self.indptr
    }

    /// The column index of every stored value, row after row.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }

    /// The stored values, row after row.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// The column indices and values stored in row `i`.
    pub fn row(&self, i: usize) -> (&[u32], &[T]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.data[range])
    }
}

impl CsrMatrix<f64> {
    /// The non-zero entries of a dense matrix.
    pub fn from_dense(m: &Matrix) -> Self {
        let mut indptr = Vec::with_capacity(m.nrows() + 1);
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        indptr.push(0);
        for row in m.rows() {
            for (j, &v) in row.iter().enumerate() {
                if v != 0.0 {
                    indices.push(j as u32);
                    data.push(v);
                }
            }
            indptr.push(data.len());
        }
        Self { n_rows: m.nrows(), n_cols: m.ncols(), indptr, indices, data }
    }

    /// The dense matrix (for models that need one; rows × columns values).
    pub fn to_dense(&self) -> Matrix {
        let mut m = Matrix::filled(self.n_rows, self.n_cols, 0.0);
        for i in 0..self.n_rows {
            let (idx, vals) = self.row(i);
            let row = m.row_mut(i);
            for (&j, &v) in idx.iter().zip(vals) {
                row[j as usize] = v;
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_invalid_arrays() {
        assert!(CsrMatrix::new(2, 2, vec![0, 1, 1], vec![0], vec![1.0_f64, 2.0]).is_err());
        assert!(CsrMatrix::new(1, 2, vec![0, 2], vec![1, 1], vec![1.0_f64, 2.0]).is_err());
        assert!(CsrMatrix::new(1, 2, vec![0, 1], vec![2], vec![1.0_f64]).is_err());
        let m = Matrix::from_rows(&[[1.0, 0.0], [0.0, 2.0]]).unwrap();
        let s = CsrMatrix::from_dense(&m);
        assert_eq!((s.nnz(), s.row(1)), (2, (&[1u32][..], &[2.0][..])));
        assert_eq!(s.to_dense(), m);
    }
}
