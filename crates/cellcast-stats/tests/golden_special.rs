//! Polygammas and limma's trigammaInverse against scipy / mpmath values
//! (fixtures/golden/special, made by scripts/golden/stats_fixtures.py).

use cellcast_stats::special::{digamma, logmdigamma, tetragamma, trigamma, trigamma_inverse};

fn rows(name: &str) -> Vec<Vec<f64>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/special").join(name);
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records().map(|rec| rec.unwrap().iter().map(|v| v.parse().unwrap()).collect()).collect()
}

fn assert_rel(got: f64, want: f64, rel: f64, what: &str) {
    assert!((got - want).abs() <= rel * want.abs(), "{what}: {got} vs {want} (rel {:e})", ((got - want) / want).abs());
}

#[test]
fn polygammas_match_scipy_and_mpmath() {
    let table = rows("polygamma.csv");
    assert!(table.len() > 50);
    for r in table {
        let (x, tri, psi2, dig, lmd) = (r[0], r[1], r[2], r[3], r[4]);
        assert_rel(trigamma(x), tri, 1e-13, &format!("trigamma({x})"));
        assert_rel(tetragamma(x), psi2, 1e-13, &format!("psi2({x})"));
        // digamma crosses zero near 1.4616: compare absolutely there.
        assert!((digamma(x) - dig).abs() <= 1e-13 * dig.abs().max(1.0), "digamma({x}): {} vs {dig}", digamma(x));
        // statmod's series (what limma calls) is truncated after u⁸: ≤ ~6e-12 relative near z = 5.
        assert_rel(logmdigamma(x), lmd, 1e-11, &format!("logmdigamma({x})"));
    }
}

#[test]
fn trigamma_inverse_matches_limma() {
    let table = rows("trigamma_inverse.csv");
    assert!(table.len() > 50);
    for r in table {
        // limma's Newton iteration stops at a relative step of 1e-8, so agreement is ~1e-9 or better.
        assert_rel(trigamma_inverse(r[0]), r[1], 1e-9, &format!("trigammaInverse({})", r[0]));
    }
}
