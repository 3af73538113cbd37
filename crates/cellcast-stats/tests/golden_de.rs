//! Group-vs-control differential expression against scanpy 1.11.5's `rank_genes_groups`
//! (fixtures/golden/de, made by scripts/golden/de_fixtures.py), and the normal / Student t
//! tails against scipy 1.17.1.
//!
//! Tolerances (observed on the fixtures in parentheses): group means, t and z scores and the
//! Wilcoxon p-values follow scanpy's float operations in scanpy's order (all bit-identical),
//! asserted at 0 for the means and 1e-13 relative otherwise. t-test p-values go through scipy's
//! Boost Student t CDF, which is evaluated here independently (≤ 2.1e-14, also for the BH values
//! built on them; ≤ 4.4e-14 on the scipy grid of `distributions.csv`, df up to 1e5): asserted at
//! 1e-12. Log fold changes: numpy's vectorised expm1/log2 and the C library's differ by an ulp,
//! which the log of a ratio near 1 magnifies (≤ 8.3e-15): asserted at 1e-13.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cellcast_stats::de::{rank_genes_vs_control, DeMethod, DeResult};
use cellcast_stats::sparse::CsrMatrix;
use cellcast_stats::special::{normal_sf, student_t_sf};
use cellcast_stats::Matrix;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/golden/de")
}

fn read(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r.records().map(|rec| rec.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Largest relative error seen per statistic, for the report and the assertion.
#[derive(Default)]
struct Worst(HashMap<&'static str, f64>);

impl Worst {
    fn check(&mut self, what: &'static str, got: f64, want: f64, tol: f64, ctx: &str) {
        let err = if got == want {
            0.0
        } else if want.is_finite() && got.is_finite() {
            // Values that are rounding noise around 0 (e.g. log fold changes of ±1e-15 from
            // means equal up to the last bit) are compared absolutely at 1e-300.
            (got - want).abs() / want.abs().max(1e-300)
        } else {
            f64::INFINITY
        };
        assert!(err <= tol, "{ctx} {what}: got {got:e}, want {want:e} (rel {err:e})");
        let w = self.0.entry(what).or_default();
        *w = w.max(err);
    }
}

struct Case {
    name: String,
    genes: Vec<String>,
    group_names: Vec<String>,
    result: HashMap<&'static str, DeResult>,
}

fn run_case(name: &str) -> Case {
    let d = dir().join(name);
    let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap()).unwrap();
    let (header, rows) = read(&d.join("expr.csv"));
    let genes: Vec<String> = header[1..].to_vec();
    let cells: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    let values: Vec<Vec<f64>> = rows.iter().map(|r| r[1..].iter().map(|v| num(v)).collect()).collect();
    let dense = Matrix::from_rows(&values).unwrap();

    let (_, group_rows) = read(&d.join("groups.csv"));
    let by_cell: HashMap<&str, &str> = group_rows.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    // scanpy's categories are the sorted group names; "" is a cell in no group.
    let mut group_names: Vec<String> =
        group_rows.iter().map(|r| r[1].clone()).filter(|g| !g.is_empty()).collect::<Vec<_>>();
    group_names.sort();
    group_names.dedup();
    let cell_groups: Vec<Option<usize>> = cells
        .iter()
        .map(|c| match by_cell[c.as_str()] {
            "" => None,
            g => Some(group_names.iter().position(|n| n == g).unwrap()),
        })
        .collect();
    let control = group_names.iter().position(|n| n == meta["control"].as_str().unwrap()).unwrap();

    let methods = [
        ("ttest", DeMethod::TTest),
        ("wilcoxon", DeMethod::Wilcoxon { tie_correct: false }),
        ("wilcoxon_tie", DeMethod::Wilcoxon { tie_correct: true }),
    ];
    let mut result = HashMap::new();
    for (tag, method) in methods {
        let r = match (meta["x_layout"].as_str().unwrap(), meta["x_dtype"].as_str().unwrap()) {
            ("dense", "float64") => rank_genes_vs_control(&dense, &cell_groups, control, method),
            ("csr", "float64") => rank_genes_vs_control(&CsrMatrix::from_dense(&dense), &cell_groups, control, method),
            ("csr", "float32") => {
                let csr = CsrMatrix::from_dense(&dense);
                let (mut indptr, mut indices, mut data) = (vec![0], Vec::new(), Vec::new());
                for i in 0..csr.n_rows() {
                    let (cols, vals) = csr.row(i);
                    indices.extend_from_slice(cols);
                    // The CSV holds float32 values widened to float64: narrowing is exact.
                    data.extend(vals.iter().map(|&v| v as f32));
                    indptr.push(data.len());
                }
                let csr32 = CsrMatrix::new(csr.n_rows(), csr.n_cols(), indptr, indices, data).unwrap();
                rank_genes_vs_control(&csr32, &cell_groups, control, method)
            }
            other => panic!("unknown layout {other:?}"),
        };
        result.insert(tag, r.unwrap_or_else(|e| panic!("{name}/{tag}: {e}")));
    }
    Case { name: name.to_string(), genes, group_names, result }
}

fn check_case(name: &str, worst: &mut Worst) {
    let case = run_case(name);
    let gene_index: HashMap<&str, usize> = case.genes.iter().enumerate().map(|(j, g)| (g.as_str(), j)).collect();
    for (tag, res) in &case.result {
        let (header, rows) = read(&dir().join(name).join(format!("expected_{tag}.csv")));
        assert_eq!(header, ["group", "gene", "scores", "pvals", "pvals_adj", "logfoldchanges"]);
        assert_eq!(rows.len(), res.groups.len() * case.genes.len(), "{name}/{tag}: one row per tested group and gene");
        for r in &rows {
            let g = case.group_names.iter().position(|n| *n == r[0]).unwrap();
            let row = res.groups.iter().position(|&k| k == g).unwrap();
            let j = gene_index[r[1].as_str()];
            let ctx = format!("{}/{tag} {}:{}", case.name, r[0], r[1]);
            let p_tol = if *tag == "ttest" { 1e-12 } else { 1e-13 };
            worst.check("scores", res.scores.get(row, j), num(&r[2]), 1e-13, &ctx);
            worst.check(
                if *tag == "ttest" { "t pvals" } else { "z pvals" },
                res.pvals.get(row, j),
                num(&r[3]),
                p_tol,
                &ctx,
            );
            worst.check("pvals_adj", res.pvals_adj.get(row, j), num(&r[4]), p_tol, &ctx);
            worst.check("logfoldchanges", res.log_fold_changes.get(row, j), num(&r[5]), 1e-13, &ctx);
        }
        // Group means (scanpy's float64 _RankGenes.means), control included.
        let (mheader, mrows) = read(&dir().join(name).join("means.csv"));
        for r in &mrows {
            let g = case.group_names.iter().position(|n| *n == r[0]).unwrap();
            for (gene, v) in mheader[1..].iter().zip(&r[1..]) {
                let j = gene_index[gene.as_str()];
                let got = match res.groups.iter().position(|&k| k == g) {
                    Some(row) => res.means.get(row, j),
                    None => res.control_means[j],
                };
                worst.check("means", got, num(v), 0.0, &format!("{name} mean {}:{gene}", r[0]));
            }
        }
    }
}

#[test]
fn rank_genes_groups_matches_scanpy() {
    let mut worst = Worst::default();
    for case in ["sparse_groups", "float32_csr", "dense_numeric_ids", "large_ties"] {
        check_case(case, &mut worst);
    }
    let mut report: Vec<_> = worst.0.iter().collect();
    report.sort_by(|a, b| a.0.cmp(b.0));
    println!("largest relative differences from scanpy: {report:?}");
}

#[test]
fn float32_data_needs_float32_squares() {
    // The same float32 values given as float64 change the t-test variances (scanpy squares in
    // X's dtype), which proves the fixture exercises that path; ranks and means do not move.
    let case = run_case("float32_csr");
    let d = dir().join("float32_csr");
    let (header, rows) = read(&d.join("expr.csv"));
    let values: Vec<Vec<f64>> = rows.iter().map(|r| r[1..].iter().map(|v| num(v)).collect()).collect();
    assert_eq!(header.len() - 1, case.genes.len());
    let dense = Matrix::from_rows(&values).unwrap();
    let (_, group_rows) = read(&d.join("groups.csv"));
    let cell_groups: Vec<Option<usize>> =
        group_rows.iter().map(|r| case.group_names.iter().position(|n| *n == r[1])).collect();
    let control = case.group_names.iter().position(|n| n == "NT").unwrap();
    let as64 = rank_genes_vs_control(&dense, &cell_groups, control, DeMethod::TTest).unwrap();
    let as32 = &case.result["ttest"];
    assert_eq!(as64.means, as32.means);
    assert_ne!(as64.scores, as32.scores);
    let w64 = rank_genes_vs_control(&dense, &cell_groups, control, DeMethod::Wilcoxon { tie_correct: true }).unwrap();
    assert_eq!(w64.scores, case.result["wilcoxon_tie"].scores);
}

#[test]
fn tails_match_scipy() {
    let (header, rows) = read(&dir().join("distributions.csv"));
    assert_eq!(header, ["x", "df", "t_sf", "normal_sf"]);
    assert!(rows.len() > 250);
    let mut worst = Worst::default();
    for r in rows {
        let (x, df, t_sf, n_sf) = (num(&r[0]), num(&r[1]), num(&r[2]), num(&r[3]));
        let ctx = format!("x={x} df={df}");
        // Cephes' erfc, ported constant for constant: identical up to the platform's exp.
        worst.check("normal_sf", normal_sf(x), n_sf, 1e-15, &ctx);
        if df.is_finite() {
            worst.check("t_sf", student_t_sf(x, df), t_sf, 1e-12, &ctx);
        }
    }
    println!("largest relative differences from scipy: {:?}", worst.0);
}
