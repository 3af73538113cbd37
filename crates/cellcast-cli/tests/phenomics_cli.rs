//! `cellcast synth --kind phenomics` and `cellcast phenomics` end to end: planted activity is
//! recovered, control normalisation matters under batch effects, outputs are byte-identical for
//! one seed, and bad input ends in a clear message.

mod common;

use std::path::Path;

use common::{cellcast_err, cellcast_ok, read_csv_text, temp_dir};

fn synth(out: &Path, extra: &[&str]) {
    let mut args = vec!["synth", "--kind", "phenomics", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    cellcast_ok(args);
}

/// Runs `cellcast phenomics` on a synthetic screen folder; returns stdout.
fn phenomics(screen: &Path, out: &Path, extra: &[&str]) -> String {
    let embeddings = screen.join("embeddings.parquet");
    let truth = screen.join("truth.csv");
    let mut args = vec![
        "phenomics",
        "--embeddings",
        embeddings.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    cellcast_ok(args)
}

/// The mean AP printed by `cellcast phenomics --truth`.
fn mean_ap(stdout: &str) -> f64 {
    let line = stdout.lines().find(|l| l.contains("mean per-compound average precision")).expect("an AP line");
    line.split(": ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap()
}

#[test]
fn a_synthetic_screen_is_scored_and_its_targets_recovered() {
    let dir = temp_dir("phenomics-e2e");
    let (a, b, c) = (dir.join("a"), dir.join("b"), dir.join("c"));
    synth(&a, &["--seed", "3"]);
    synth(&b, &["--seed", "3"]);
    synth(&c, &["--seed", "4"]);
    for file in ["embeddings.parquet", "truth.csv"] {
        assert_eq!(std::fs::read(a.join(file)).unwrap(), std::fs::read(b.join(file)).unwrap(), "{file}");
    }
    assert_ne!(std::fs::read(a.join("truth.csv")).unwrap(), std::fs::read(c.join("truth.csv")).unwrap());
    let truth = read_csv_text(&a.join("truth.csv"));
    assert_eq!(truth.len(), 120 * 200);
    assert_eq!(truth[0].keys().map(String::as_str).collect::<Vec<_>>(), ["active", "compound", "gene"]);

    let stdout = phenomics(&a, &a.join("scores.csv"), &[]);
    assert!(stdout.contains("2976 wells (256 controls) in 4 batch(es), 64 embedding dimensions"), "{stdout}");
    assert!(stdout.contains("PCA: 64 components, 100.0 % of the variance"), "{stdout}");
    assert!(stdout.contains("(108 compounds scored, 12 skipped without an active gene)"), "{stdout}");
    let ap = mean_ap(&stdout);
    assert!(ap >= 0.95, "mean AP {ap}");
    let scores = read_csv_text(&a.join("scores.csv"));
    assert_eq!(scores.len(), 120 * 200);
    assert_eq!((scores[0]["compound"].as_str(), scores[0]["gene"].as_str()), ("CPD001", "GENE001"));
    assert!(scores.iter().all(|r| r["score"].parse::<f64>().is_ok_and(|s| (0.0..=1.0 + 1e-12).contains(&s))));
    // Same input, same bytes; Parquet output too.
    phenomics(&b, &b.join("scores.csv"), &[]);
    assert_eq!(std::fs::read(a.join("scores.csv")).unwrap(), std::fs::read(b.join("scores.csv")).unwrap());
    phenomics(&a, &a.join("scores.parquet"), &[]);
    assert!(std::fs::read(a.join("scores.parquet")).unwrap().starts_with(b"PAR1"));
}

#[test]
fn control_normalisation_is_what_removes_batch_effects() {
    let dir = temp_dir("phenomics-batch");
    synth(&dir, &["--batch-effect", "2", "--seed", "1"]);
    let normalised = mean_ap(&phenomics(&dir, &dir.join("norm.csv"), &[]));
    let raw = mean_ap(&phenomics(&dir, &dir.join("raw.csv"), &["--no-control-norm"]));
    let no_pca = mean_ap(&phenomics(&dir, &dir.join("nopca.csv"), &["--no-pca"]));
    assert!(normalised >= 0.85 && normalised - raw >= 0.5, "{normalised} with vs {raw} without control normalisation");
    assert!(no_pca >= 0.95, "{no_pca}");
}

#[test]
fn a_hand_built_csv_gives_the_exact_cosines() {
    let dir = temp_dir("phenomics-exact");
    let wells = dir.join("wells.csv");
    std::fs::write(
        &wells,
        "perturbation,perturbation_type,concentration,batch,plate,e1,e2\n\
         A,gene,,b1,p1,2,0\n\
         B,gene,,b1,p1,0,0.5\n\
         x,compound,1,b1,p1,1,1\n\
         x,compound,10,b1,p1,-3,0\n\
         DMSO,control,,b1,p1,0,1\n\
         DMSO,control,,b1,p1,0,-1\n",
    )
    .unwrap();
    let out = dir.join("scores.csv");
    let (w, o) = (wells.to_str().unwrap(), out.to_str().unwrap());
    cellcast_ok(["phenomics", "--embeddings", w, "--out", o, "--no-pca", "--no-control-norm"]);
    let rows = read_csv_text(&out);
    let score = |g: &str| rows.iter().find(|r| r["gene"] == g).unwrap()["score"].parse::<f64>().unwrap();
    // x at 10 µM is exactly opposite to A (|cos| 1); at 1 µM it is at 45° to B.
    assert!((score("A") - 1.0).abs() < 1e-15 && (score("B") - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
}

#[test]
fn bad_input_is_refused_clearly() {
    let dir = temp_dir("phenomics-errors");
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, format!("perturbation,perturbation_type,concentration,batch,e1\n{body}")).unwrap();
        p
    };
    let out = dir.join("out.csv");
    let run = |wells: &Path, extra: &[&str]| {
        let mut args = vec!["phenomics", "--embeddings", wells.to_str().unwrap(), "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        cellcast_err(args)
    };
    let typo = write("typo.csv", "DMSO,control,,b1,0\nx,cmpd,1,b1,1\n");
    let e = run(&typo, &[]);
    assert!(
        e.contains("typo.csv") && e.contains("row 2") && e.contains("'perturbation_type'") && e.contains("'cmpd'"),
        "{e}"
    );
    let one_control = write("one.csv", "DMSO,control,,b1,0\nA,gene,,b1,1\nx,compound,1,b1,2\n");
    let e = run(&one_control, &["--no-pca"]);
    assert!(e.contains("batch 'b1' has 1 control well(s)") && e.contains("--no-control-norm"), "{e}");
    let good = write("good.csv", "DMSO,control,,b1,0\nDMSO,control,,b1,1\nA,gene,,b1,1\nx,compound,1,b1,2\n");
    let e = run(&good, &["--pca-components", "9"]);
    assert!(e.contains("cannot keep 9 PCA components: at most 1"), "{e}");
    let e = run(&good, &["--no-pca", "--pca-components", "1"]);
    assert!(e.contains("cannot be used with"), "{e}");
    let e = run(&good, &["--truth", dir.join("absent.csv").to_str().unwrap()]);
    assert!(e.contains("reading the truth") && e.contains("absent.csv"), "{e}");
    assert!(!out.exists(), "nothing is written on failure");

    let d = dir.join("synth");
    let e = cellcast_err(["synth", "--kind", "phenomics", "--out", d.to_str().unwrap(), "--targets", "5"]);
    assert!(e.contains("--targets applies to --kind task only"), "{e}");
    let e = cellcast_err(["synth", "--out", d.to_str().unwrap(), "--genes", "5"]);
    assert!(e.contains("--genes applies to --kind phenomics / screen / drugseq only"), "{e}");
    let e = cellcast_err(["synth", "--kind", "drugseq", "--out", d.to_str().unwrap(), "--cells", "5"]);
    assert!(e.contains("--cells applies to --kind screen only"), "{e}");
    let e = cellcast_err(["synth", "--kind", "phenomics", "--out", d.to_str().unwrap(), "--noise", "0"]);
    assert!(e.contains("noise must be positive"), "{e}");
}

#[test]
fn help_documents_the_contract_with_an_example() {
    let help = cellcast_ok(["phenomics", "--help"]);
    for needle in ["perturbation_type", "every other column", "--no-control-norm", "Example:", "not shipped"] {
        assert!(help.contains(needle), "{needle} missing from --help");
    }
    let help = cellcast_ok(["synth", "--help"]);
    assert!(help.contains("phenomics only") && help.contains("task only"), "{help}");
}
