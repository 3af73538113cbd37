//! A dense, row-major matrix of `f64`: the exchange type between cellcast's crates.
//!
//! Rows are samples (compounds, perturbations, cells) and columns are targets (genes), which is
//! how every input table is laid out, so a row is a contiguous slice.

/// Dense row-major matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    nrows: usize,
    ncols: usize,
    data: Vec<f64>,
}

impl Matrix {
    /// A matrix filled with `value`.
    pub fn filled(nrows: usize, ncols: usize, value: f64) -> Self {
        Self { nrows, ncols, data: vec![value; nrows * ncols] }
    }

    /// Wraps row-major data; `None` when its length is not `nrows * ncols`.
    pub fn from_row_major(nrows: usize, ncols: usize, data: Vec<f64>) -> Option<Self> {
        (data.len() == nrows * ncols).then_some(Self { nrows, ncols, data })
    }

    /// Builds a matrix from equally long rows; `None` when the rows differ in length.
    pub fn from_rows<R: AsRef<[f64]>>(rows: &[R]) -> Option<Self> {
        let ncols = rows.first().map_or(0, |r| r.as_ref().len());
        let mut data = Vec::with_capacity(rows.len() * ncols);
        for r in rows {
            if r.as_ref().len() != ncols {
                return None;
            }
            data.extend_from_slice(r.as_ref());
        }
        Some(Self { nrows: rows.len(), ncols, data })
    }

    pub fn nrows(&self) -> usize {
        self.nrows
    }

    pub fn ncols(&self) -> usize {
        self.ncols
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.ncols..(i + 1) * self.ncols]
    }

    pub fn row_mut(&mut self, i: usize) -> &mut [f64] {
        &mut self.data[i * self.ncols..(i + 1) * self.ncols]
    }

    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f64]> + '_ {
        (0..self.nrows).map(move |i| self.row(i))
    }

    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.ncols + j]
    }

    pub fn set(&mut self, i: usize, j: usize, value: f64) {
        self.data[i * self.ncols + j] = value;
    }

    /// Column `j` copied out (columns are strided).
    pub fn column(&self, j: usize) -> Vec<f64> {
        (0..self.nrows).map(|i| self.get(i, j)).collect()
    }

    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The cells, row-major, for in-place updates.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// A new matrix holding the given rows, in the given order.
    pub fn select_rows(&self, rows: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(rows.len() * self.ncols);
        for &i in rows {
            data.extend_from_slice(self.row(i));
        }
        Matrix { nrows: rows.len(), ncols: self.ncols, data }
    }

    /// A new matrix holding the given columns, in the given order.
    pub fn select_columns(&self, cols: &[usize]) -> Matrix {
        let mut data = Vec::with_capacity(self.nrows * cols.len());
        for row in self.rows() {
            data.extend(cols.iter().map(|&j| row[j]));
        }
        Matrix { nrows: self.nrows, ncols: cols.len(), data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_keeps_values() {
        let m = Matrix::from_rows(&[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).unwrap();
        assert_eq!(m.column(1), vec![2.0, 5.0]);
        assert_eq!(m.select_rows(&[1, 0]).row(0), &[4.0, 5.0, 6.0]);
        assert_eq!(m.select_columns(&[2, 0]).row(1), &[6.0, 4.0]);
        assert!(Matrix::from_rows(&[vec![1.0], vec![1.0, 2.0]]).is_none());
        assert!(Matrix::from_row_major(2, 2, vec![0.0; 3]).is_none());
    }
}
