//! Small dense linear algebra (p ≤ a few dozen) for the model fits: Gauss–Jordan inversion
//! with partial pivoting and a linear solver. Matrices are row-major `Vec<Vec<f64>>`.

use crate::error::{Result, StatsError};

/// Square matrix stored as rows.
pub type Matrix = Vec<Vec<f64>>;

/// A `n × n` matrix of zeros.
pub fn zeros(n: usize) -> Matrix {
    vec![vec![0.0; n]; n]
}

/// Inverts a square matrix by Gauss–Jordan elimination with partial pivoting.
///
/// # Errors
/// [`StatsError::Singular`] when a pivot is (relatively) zero or the input is not square.
pub fn invert(a: &[Vec<f64>]) -> Result<Matrix> {
    let n = a.len();
    if a.iter().any(|r| r.len() != n) {
        return Err(StatsError::Singular("matrix is not square".into()));
    }
    let scale = a
        .iter()
        .flat_map(|r| r.iter())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    if !scale.is_finite() {
        return Err(StatsError::Singular("non-finite entry".into()));
    }
    let tol = scale.max(f64::MIN_POSITIVE) * 1e-13 * n.max(1) as f64;
    let mut m: Matrix = a.to_vec();
    let mut inv = zeros(n);
    for (i, row) in inv.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    for col in 0..n {
        let mut piv = col;
        for r in col + 1..n {
            if m[r][col].abs() > m[piv][col].abs() {
                piv = r;
            }
        }
        if m[piv][col].abs() <= tol {
            return Err(StatsError::Singular(format!("zero pivot in column {col}")));
        }
        m.swap(col, piv);
        inv.swap(col, piv);
        let p = m[col][col];
        for j in 0..n {
            m[col][j] /= p;
            inv[col][j] /= p;
        }
        for r in 0..n {
            if r != col {
                let f = m[r][col];
                if f != 0.0 {
                    for j in 0..n {
                        m[r][j] -= f * m[col][j];
                        inv[r][j] -= f * inv[col][j];
                    }
                }
            }
        }
    }
    Ok(inv)
}

/// Matrix–vector product.
pub fn mat_vec(a: &[Vec<f64>], x: &[f64]) -> Vec<f64> {
    a.iter()
        .map(|r| r.iter().zip(x).map(|(u, v)| u * v).sum())
        .collect()
}

/// Solves `a · x = b` via [`invert`] (adequate for the small, well-scaled systems here).
///
/// # Errors
/// [`StatsError::Singular`] when `a` is singular.
pub fn solve(a: &[Vec<f64>], b: &[f64]) -> Result<Vec<f64>> {
    Ok(mat_vec(&invert(a)?, b))
}

/// Whether a symmetric matrix is positive definite (its Cholesky factorisation exists with
/// pivots above a relative tolerance). Used to check that a fitted point is a maximum: the
/// negative Hessian of the log-likelihood must be positive definite there.
pub fn is_positive_definite(a: &[Vec<f64>]) -> bool {
    let n = a.len();
    if a.iter().any(|r| r.len() != n) {
        return false;
    }
    let mut l = zeros(n);
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if !(d.is_finite() && d > 1e-12 * a[i][i].abs()) || d <= 0.0 {
                    return false;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverts_and_detects_singular() {
        let a = vec![
            vec![4.0, 2.0, 0.6],
            vec![2.0, 5.0, 1.0],
            vec![0.6, 1.0, 3.0],
        ];
        let inv = invert(&a).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        let s = vec![vec![1.0, 2.0], vec![2.0, 4.0]];
        assert!(matches!(invert(&s), Err(StatsError::Singular(_))));
        let x = solve(&a, &[1.0, 2.0, 3.0]).unwrap();
        let back = mat_vec(&a, &x);
        assert!((back[2] - 3.0).abs() < 1e-12);
        assert!(is_positive_definite(&a));
        assert!(!is_positive_definite(&s));
        assert!(!is_positive_definite(&[vec![1.0, 2.0], vec![2.0, 1.0]]));
    }
}
