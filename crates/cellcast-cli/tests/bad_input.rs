//! The bad-input suite: one row per case — the command, its input files, the exit code, the
//! fragments its message must hold and every file the case folder holds afterwards (so a case
//! also proves that nothing half-written, temporary or staged is left behind). Cases of inputs
//! people have (gzip, standard input, a byte-order mark, CRLF) must succeed.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::temp_dir;

struct Case {
    name: &'static str,
    /// Files written into the case folder first (`.gz` names are gzip-compressed).
    files: &'static [(&'static str, &'static str)],
    /// Arguments; `{d}` is the case folder.
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    exit: i32,
    /// Fragments of stderr (an error) or stdout (a success).
    says: &'static [&'static str],
    /// Fragments that must not appear in stderr.
    never: &'static [&'static str],
    /// Every path in the case folder afterwards, sorted (input files included).
    after: &'static [&'static str],
}

const DEFAULT: Case = Case { name: "", files: &[], args: &[], stdin: None, exit: 1, says: &[], never: &[], after: &[] };

const TRUTH: &str = "id,g1,g2\na,1,2\nb,3,4\nc,5,6\n";
const PRED: &str = "id,g1,g2\na,1.5,2\nb,3,4\nc,5,6.5\n";
const WEIGHTS: &str = "id,g1,g2\na,1,1\nb,1,1\nc,1,1\n";
const MSE: &str = "polaris/mean_squared_error";
const SCORE: [&str; 7] = ["score", "--metric", MSE, "--truth", "{d}/truth.csv", "--pred", "{d}/pred.csv"];

/// A pair task whose one 0.5 label would once have turned it into a regression.
const PAIR_TRAIN: &str = "compound,smiles,gene,active\nc1,CCO,G1,1\nc1,CCO,G2,0\nc2,CCN,G1,0\nc2,CCN,G2,1\n\
c3,CCC,G1,0.5\nc3,CCC,G2,0\nc4,CCCl,G1,1\nc4,CCCl,G2,0\nc5,c1ccccc1,G1,0\nc5,c1ccccc1,G2,1\n\
c6,c1ccncc1,G1,1\nc6,c1ccncc1,G2,0\nc7,CC(=O)O,G1,0\nc7,CC(=O)O,G2,1\nc8,OCCO,G1,1\nc8,OCCO,G2,0\n\
c9,CCOC,G1,0\nc9,CCOC,G2,1\nc10,NCCN,G1,1\nc10,NCCN,G2,0\n";
const PAIR_TEST: &str = "id,compound,smiles,gene\np1,t1,CCCO,G1\np2,t1,CCCO,G2\np3,t2,CCCN,G1\np4,t2,CCCN,G2\n";
const PAIR_SAMPLE: &str = "id,active\np1,0\np2,0\np3,0\np4,0\n";
const WIDE_TEST: &str = "id,smiles\nt1,CCCO\n";
const WIDE_SAMPLE: &str = "id,g1\nt1,0\n";

fn cases() -> Vec<Case> {
    vec![
        // --- score: the non-finite policy ---
        Case {
            name: "myllia NaN truth",
            files: &[
                ("truth.csv", "id,g1,g2\na,1,2\nb,3,NaN\nc,5,6\n"),
                ("pred.csv", PRED),
                ("w.csv", "id,g1,g2\na,1,1\nb,1,1\nc,1,1\n"),
            ],
            args: &[
                "score",
                "--metric",
                "myllia/score",
                "--truth",
                "{d}/truth.csv",
                "--pred",
                "{d}/pred.csv",
                "--weights",
                "{d}/w.csv",
                "--baseline",
                "{d}/w.csv",
            ],
            says: &["truth.csv", "row 2", "'b'", "'g2'", "missing value", "myllia/score"],
            never: &["0.000000"],
            after: &["pred.csv", "truth.csv", "w.csv"],
            ..DEFAULT
        },
        Case {
            name: "myllia empty truth cell",
            files: &[("truth.csv", "id,g1,g2\na,1,2\nb,3,\nc,5,6\n"), ("pred.csv", PRED), ("w.csv", WEIGHTS)],
            args: &[
                "score",
                "--metric",
                "myllia/score",
                "--truth",
                "{d}/truth.csv",
                "--pred",
                "{d}/pred.csv",
                "--weights",
                "{d}/w.csv",
                "--baseline",
                "{d}/w.csv",
                "--json",
            ],
            says: &["row 2", "'g2'", "missing value"],
            never: &["\"value\""],
            after: &["pred.csv", "truth.csv", "w.csv"],
            ..DEFAULT
        },
        Case {
            name: "myllia inf truth",
            files: &[("truth.csv", "id,g1,g2\na,1,2\nb,3,4\nc,inf,6\n"), ("pred.csv", PRED), ("w.csv", WEIGHTS)],
            args: &[
                "score",
                "--metric",
                "myllia/score",
                "--truth",
                "{d}/truth.csv",
                "--pred",
                "{d}/pred.csv",
                "--weights",
                "{d}/w.csv",
                "--baseline",
                "{d}/w.csv",
            ],
            says: &["row 3", "'c'", "'g1'", "inf is not finite"],
            after: &["pred.csv", "truth.csv", "w.csv"],
            ..DEFAULT
        },
        Case {
            name: "polaris inf truth",
            files: &[("truth.csv", "id,g1,g2\na,1,2\nb,inf,4\nc,5,6\n"), ("pred.csv", PRED)],
            args: &SCORE,
            says: &["truth.csv", "row 2", "'g1'", "inf is not finite"],
            never: &["= inf"],
            after: &["pred.csv", "truth.csv"],
            ..DEFAULT
        },
        Case {
            name: "polaris -inf truth",
            files: &[("truth.csv", "id,g1,g2\na,1,-inf\nb,3,4\nc,5,6\n"), ("pred.csv", PRED)],
            args: &SCORE,
            says: &["row 1", "'g2'", "-inf is not finite"],
            after: &["pred.csv", "truth.csv"],
            ..DEFAULT
        },
        Case {
            name: "polaris NaN truth is masked and said",
            files: &[("truth.csv", "id,g1,g2\na,1,2\nb,,4\nc,5,6\n"), ("pred.csv", PRED)],
            args: &["score", "--metric", MSE, "--truth", "{d}/truth.csv", "--pred", "{d}/pred.csv", "--json"],
            exit: 0,
            says: &["\"n_masked\":1", "1 missing truth cell(s) left out"],
            after: &["pred.csv", "truth.csv"],
            ..DEFAULT
        },
        Case {
            name: "a truth with a header and no row",
            files: &[("truth.csv", "id,g1,g2\n"), ("pred.csv", "id,g1,g2\n")],
            args: &["score", "--metric", "vcpi/wmse", "--truth", "{d}/truth.csv", "--pred", "{d}/pred.csv"],
            says: &["vcpi/wmse: the truth has no row: there is nothing to score"],
            never: &["NaN"],
            after: &["pred.csv", "truth.csv"],
            ..DEFAULT
        },
        Case {
            name: "inf prediction",
            files: &[("truth.csv", TRUTH), ("pred.csv", "id,g1,g2\na,1,2\nb,3,-Inf\nc,5,6\n")],
            args: &SCORE,
            says: &["pred.csv", "row 2", "'g2'", "not finite"],
            after: &["pred.csv", "truth.csv"],
            ..DEFAULT
        },
        // --- score: parameters ---
        Case {
            name: "hit@5 with a conflicting k",
            files: &[("t.csv", "id,targets\nq1,g1\n"), ("p.csv", "id,g1,g2\nq1,1,2\n")],
            args: &[
                "score",
                "--metric",
                "ranking/relevant_hit@5",
                "--param",
                "k=1",
                "--truth",
                "{d}/t.csv",
                "--pred",
                "{d}/p.csv",
            ],
            says: &["already sets k=5"],
            after: &["p.csv", "t.csv"],
            ..DEFAULT
        },
        Case {
            name: "hit@k names the k it used",
            files: &[("t.csv", "id,targets\nq1,g1\n"), ("p.csv", "id,g1,g2\nq1,1,2\n")],
            args: &[
                "score",
                "--metric",
                "ranking/relevant_hit@k",
                "--param",
                "k=1",
                "--truth",
                "{d}/t.csv",
                "--pred",
                "{d}/p.csv",
                "--json",
            ],
            exit: 0,
            says: &["\"metric\":\"ranking/relevant_hit@1\"", "\"value\":0.0"],
            after: &["p.csv", "t.csv"],
            ..DEFAULT
        },
        // --- one vocabulary: flags for parameters, old spellings kept ---
        Case {
            name: "-k is --param k",
            files: &[("t.csv", "id,targets\nq1,g1\n"), ("p.csv", "id,g1,g2\nq1,1,2\n")],
            args: &["score", "--metric", "ranking/recall@k", "-k", "2", "--truth", "{d}/t.csv", "--pred", "{d}/p.csv"],
            exit: 0,
            says: &["ranking/recall@2 = 1.000000"],
            after: &["p.csv", "t.csv"],
            ..DEFAULT
        },
        Case {
            name: "--k and --param k disagree",
            files: &[("t.csv", "id,targets\nq1,g1\n"), ("p.csv", "id,g1,g2\nq1,1,2\n")],
            args: &[
                "score",
                "--metric",
                "ranking/recall@k",
                "--k",
                "2",
                "--param",
                "k=1",
                "--truth",
                "{d}/t.csv",
                "--pred",
                "{d}/p.csv",
            ],
            says: &["--k 2 and --param k=1 disagree"],
            after: &["p.csv", "t.csv"],
            ..DEFAULT
        },
        Case {
            name: "--control is --param control",
            files: &[("t.csv", "id,g1,g2\nNT,1,2\nA,3,1\n"), ("p.csv", "id,g1,g2\nNT,1,2\nA,3,1\n")],
            args: &[
                "score",
                "--metric",
                "celleval/mae_delta",
                "--control",
                "NT",
                "--truth",
                "{d}/t.csv",
                "--pred",
                "{d}/p.csv",
                "--json",
            ],
            exit: 0,
            says: &["\"value\":0.0", "\"control\":\"NT\""],
            after: &["p.csv", "t.csv"],
            ..DEFAULT
        },
        Case {
            name: "--group-column, and the old --group-by",
            files: &[
                ("t.csv", "id,active,compound\np1,1,c1\np2,0,c1\np3,0,c2\np4,1,c2\n"),
                ("p.csv", "id,active\np1,0.9\np2,0.1\np3,0.8\np4,0.2\n"),
            ],
            args: &[
                "score",
                "--metric",
                "polaris/pr_auc",
                "--group-by",
                "compound",
                "--truth",
                "{d}/t.csv",
                "--pred",
                "{d}/p.csv",
            ],
            exit: 0,
            says: &["polaris/pr_auc = 0.750000", "scored 2 groups"],
            after: &["p.csv", "t.csv"],
            ..DEFAULT
        },
        // --- inputs people have ---
        Case {
            name: "gzip tables",
            files: &[("truth.csv.gz", TRUTH), ("pred.tsv.gz", "id\tg1\tg2\na\t1.5\t2\nb\t3\t4\nc\t5\t6.5\n")],
            args: &["score", "--metric", MSE, "--truth", "{d}/truth.csv.gz", "--pred", "{d}/pred.tsv.gz"],
            exit: 0,
            says: &["polaris/mean_squared_error = 0.083333"],
            after: &["pred.tsv.gz", "truth.csv.gz"],
            ..DEFAULT
        },
        Case {
            name: "prediction on standard input",
            files: &[("truth.csv", TRUTH)],
            args: &["score", "--metric", MSE, "--truth", "{d}/truth.csv", "--pred", "-"],
            stdin: Some(PRED),
            exit: 0,
            says: &["= 0.083333"],
            after: &["truth.csv"],
            ..DEFAULT
        },
        Case {
            name: "two inputs on standard input",
            args: &["score", "--metric", MSE, "--truth", "-", "--pred", "-"],
            stdin: Some(PRED),
            says: &["--truth and --pred name standard input (-)"],
            ..DEFAULT
        },
        Case {
            name: "byte-order mark and CRLF",
            files: &[("truth.csv", "\u{feff}id,g1,g2\r\na,1,2\r\nb,3,4\r\nc,5,6\r\n"), ("pred.csv", PRED)],
            args: &SCORE,
            exit: 0,
            says: &["= 0.083333"],
            after: &["pred.csv", "truth.csv"],
            ..DEFAULT
        },
        Case {
            name: "a missing file is named once",
            files: &[("pred.csv", PRED)],
            args: &SCORE,
            says: &["truth.csv: No such file or directory (os error 2)"],
            never: &["(os error 2): No such file"],
            after: &["pred.csv"],
            ..DEFAULT
        },
        Case {
            name: "an unknown table format",
            files: &[("truth.xlsx", "x"), ("pred.csv", PRED)],
            args: &["score", "--metric", MSE, "--truth", "{d}/truth.xlsx", "--pred", "{d}/pred.csv"],
            says: &["truth.xlsx", "unsupported file type", ".csv.gz", "- for standard input"],
            after: &["pred.csv", "truth.xlsx"],
            ..DEFAULT
        },
        // --- run ---
        Case {
            name: "run --bootstrap 0",
            args: &["run", "{d}/task", "--out", "{d}/out", "--bootstrap", "0"],
            exit: 2,
            says: &["'--bootstrap", "from 1 to 1000000"],
            ..DEFAULT
        },
        Case {
            name: "run --folds 1",
            args: &["run", "{d}/task", "--out", "{d}/out", "--folds", "1"],
            exit: 2,
            says: &["'--folds", "from 2 to 1000"],
            ..DEFAULT
        },
        Case {
            name: "run on a pair task with one 0.5 label",
            files: &[
                ("task/train.csv", PAIR_TRAIN),
                ("task/test_features.csv", PAIR_TEST),
                ("task/sample_submission.csv", PAIR_SAMPLE),
            ],
            args: &["run", "{d}/task", "--out", "{d}/out"],
            says: &["train.csv", "row 6", "'c3'", "'active'", "label 0.5 is not 0 or 1", "set metric in task.toml"],
            after: &["task", "task/sample_submission.csv", "task/test_features.csv", "task/train.csv"],
            ..DEFAULT
        },
        Case {
            name: "run on an empty train.csv",
            files: &[
                ("task/train.csv", ""),
                ("task/test_features.csv", WIDE_TEST),
                ("task/sample_submission.csv", WIDE_SAMPLE),
            ],
            args: &["run", "{d}/task", "--out", "{d}/out"],
            says: &["train.csv", "empty"],
            never: &["columns are: )"],
            after: &["task", "task/sample_submission.csv", "task/test_features.csv", "task/train.csv"],
            ..DEFAULT
        },
        Case {
            name: "run --out an existing file",
            files: &[
                ("out", "mine"),
                ("task/train.csv", "id,smiles,g1\na,CCO,1\n"),
                ("task/test_features.csv", WIDE_TEST),
                ("task/sample_submission.csv", WIDE_SAMPLE),
            ],
            args: &["run", "{d}/task", "--out", "{d}/out"],
            says: &["out: exists and is not a folder"],
            after: &["out", "task", "task/sample_submission.csv", "task/test_features.csv", "task/train.csv"],
            ..DEFAULT
        },
        // --- demo, synth ---
        Case {
            name: "demo --out an existing file",
            files: &[("taken", "mine")],
            args: &["demo", "--out", "{d}/taken"],
            says: &["taken: exists and is not a folder"],
            never: &["File exists (os error 17)", "scaffolds:"],
            after: &["taken"],
            ..DEFAULT
        },
        Case {
            name: "synth --compounds 0",
            args: &["synth", "--compounds", "0", "--out", "{d}/x"],
            exit: 2,
            says: &["'--compounds", "at least"],
            ..DEFAULT
        },
        Case {
            name: "synth --compounds 5 (too few for a task run can use)",
            args: &["synth", "--compounds", "5", "--out", "{d}/x"],
            says: &["--compounds 5: a synthetic task has 24 to 2352 compounds"],
            ..DEFAULT
        },
        Case {
            name: "run on a task with nothing to predict",
            files: &[
                ("task/train.csv", "id,smiles,g1\na,CCO,1\n"),
                ("task/test_features.csv", "id,smiles\n"),
                ("task/sample_submission.csv", "id,g1\n"),
            ],
            args: &["run", "{d}/task", "--out", "{d}/out"],
            says: &["sample_submission.csv: has a header but no row"],
            after: &["task", "task/sample_submission.csv", "task/test_features.csv", "task/train.csv"],
            ..DEFAULT
        },
        Case {
            name: "synth --noise -1",
            args: &["synth", "--noise", "-1", "--out", "{d}/x"],
            exit: 2,
            says: &["'--noise", "at least 0"],
            ..DEFAULT
        },
        // --- chemistry ---
        Case {
            name: "featurize names every unreadable molecule",
            files: &[("m.csv", "id,smiles\nok,CCO\nbad1,C1CC\nbad2,\nbad3,C(C)(C)(C)(C)C\n")],
            args: &["featurize", "morgan", "--input", "{d}/m.csv", "--out", "{d}/fp.csv"],
            exit: 0,
            says: &[
                "4 molecules, 1 ok, 3 failed",
                "id 'bad1', SMILES 'C1CC': invalid SMILES",
                "id 'bad2', SMILES '': empty SMILES",
                "id 'bad3', SMILES 'C(C)(C)(C)(C)C': rejected by sanitization",
            ],
            after: &["fp.csv", "m.csv"],
            ..DEFAULT
        },
        Case {
            name: "featurize --radius 9",
            args: &["featurize", "morgan", "--input", "{d}/m.csv", "--radius", "9", "--out", "{d}/fp.csv"],
            exit: 2,
            says: &["'--radius", "from 0 to 3"],
            ..DEFAULT
        },
        Case {
            name: "an output in a folder that does not exist yet",
            files: &[("m.csv", "id,smiles\na,c1ccccc1CC\n")],
            args: &["scaffold", "--input", "{d}/m.csv", "--out", "{d}/new/s.csv"],
            exit: 0,
            says: &["wrote"],
            after: &["m.csv", "new", "new/s.csv"],
            ..DEFAULT
        },
        Case {
            name: "an empty --out",
            args: &["synth", "--out", ""],
            exit: 2,
            says: &["a value is required for '--out"],
            ..DEFAULT
        },
        Case {
            name: "--out the current folder's parent by '..'",
            files: &[("sub/keep", "")],
            args: &["synth", "--kind", "screen", "--cells", "2", "--out", "{d}/sub/.."],
            exit: 0,
            says: &["wrote"],
            after: &[".cellcast-outputs", "screen.h5ad", "sub", "sub/keep", "targets.csv"],
            ..DEFAULT
        },
        Case {
            name: "scaffold --out a folder",
            files: &[("m.csv", "id,smiles\na,c1ccccc1CC\n"), ("dir/keep", "")],
            args: &["scaffold", "--input", "{d}/m.csv", "--out", "{d}/dir"],
            says: &["dir: is a folder; give the path of the file"],
            after: &["dir", "dir/keep", "m.csv"],
            ..DEFAULT
        },
        Case {
            name: "split --fractions that do not sum to 1",
            args: &[
                "split",
                "--input",
                "{d}/m.csv",
                "--method",
                "deepchem",
                "--fractions",
                "0.5,0.5,0.5",
                "--out",
                "{d}/s.csv",
            ],
            exit: 2,
            says: &["sum to 1.5, not 1"],
            ..DEFAULT
        },
        Case {
            name: "neighbors -k 0",
            args: &["neighbors", "--query", "{d}/q.csv", "--library", "{d}/l.csv", "-k", "0", "--out", "{d}/n.csv"],
            exit: 2,
            says: &["at least 1"],
            ..DEFAULT
        },
        // --- single cells, phenomics, stats ---
        Case {
            name: "targets evaluate --k 0",
            args: &[
                "targets",
                "evaluate",
                "--h5ad",
                "{d}/x.h5ad",
                "--group-column",
                "p",
                "--control",
                "c",
                "--k",
                "0",
                "--out",
                "{d}/o.csv",
            ],
            exit: 2,
            says: &["'--k", "at least 1"],
            ..DEFAULT
        },
        Case {
            name: "targets rank on a missing file",
            args: &[
                "targets",
                "rank",
                "--h5ad",
                "{d}/x.h5ad",
                "--group-column",
                "p",
                "--control",
                "c",
                "--out",
                "{d}/o.csv",
            ],
            says: &["x.h5ad"],
            never: &["(os error 2): No such file"],
            ..DEFAULT
        },
        Case {
            name: "pseudobulk --block 0",
            args: &["pseudobulk", "--h5ad", "{d}/x.h5ad", "--group-column", "p", "--block", "0", "--out", "{d}/o.csv"],
            exit: 2,
            says: &["'--block", "at least 1"],
            ..DEFAULT
        },
        Case {
            name: "task genetic --test-fraction 1",
            args: &[
                "task",
                "genetic",
                "--h5ad",
                "{d}/x.h5ad",
                "--group-column",
                "p",
                "--control",
                "c",
                "--test-fraction",
                "1",
                "--out",
                "{d}/o",
            ],
            exit: 2,
            says: &["greater than 0 and less than 1"],
            ..DEFAULT
        },
        Case {
            name: "phenomics --pca-components 0",
            args: &["phenomics", "--embeddings", "{d}/e.parquet", "--pca-components", "0", "--out", "{d}/o.csv"],
            exit: 2,
            says: &["'--pca-components", "at least 1"],
            ..DEFAULT
        },
        Case {
            name: "de limma with a NaN expression",
            files: &[
                ("expr.csv", "id,g1,g2\ns1,1,2\ns2,2,NaN\ns3,1,1\ns4,2,2\n"),
                ("groups.csv", "id,group\ns1,ctrl\ns2,ctrl\ns3,A\ns4,A\n"),
            ],
            args: &[
                "de",
                "limma",
                "--expr",
                "{d}/expr.csv",
                "--groups",
                "{d}/groups.csv",
                "--control",
                "ctrl",
                "--out",
                "{d}/t.csv",
            ],
            says: &["expr.csv", "row 2", "'g2'", "missing"],
            after: &["expr.csv", "groups.csv"],
            ..DEFAULT
        },
        Case {
            name: "weights myllia with an infinite t",
            files: &[("t.csv", "id,g1,g2\np1,1,inf\n"), ("targets.csv", "id,target\np1,g1\n")],
            args: &["weights", "myllia", "--t", "{d}/t.csv", "--targets", "{d}/targets.csv", "--out", "{d}/w.csv"],
            says: &["t.csv", "row 1", "'g2'", "not finite"],
            after: &["t.csv", "targets.csv"],
            ..DEFAULT
        },
        Case {
            name: "--threads 0",
            args: &["--threads", "0", "metrics"],
            exit: 2,
            says: &["'--threads", "from 1 to 1024"],
            ..DEFAULT
        },
    ]
}

/// Every path under `dir`, relative and sorted.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            if path.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn write_input(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text.as_bytes()).unwrap();
        std::fs::write(path, gz.finish().unwrap()).unwrap();
    } else {
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn every_case() {
    let root = temp_dir("bad-input");
    let mut failures = Vec::new();
    for (k, case) in cases().iter().enumerate() {
        let dir = root.join(format!("case{k}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in case.files {
            write_input(&dir.join(name), text);
        }
        let d = dir.to_str().unwrap();
        let args: Vec<String> = case.args.iter().map(|a| a.replace("{d}", d)).collect();
        let mut child = Command::new(env!("CARGO_BIN_EXE_cellcast"))
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(case.stdin.unwrap_or("").as_bytes()).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let said = if case.exit == 0 { format!("{stdout}{stderr}") } else { stderr.to_string() };
        let mut problems = Vec::new();
        if out.status.code() != Some(case.exit) {
            problems.push(format!("exit {:?}, expected {}", out.status.code(), case.exit));
        }
        if stderr.contains("panicked") {
            problems.push("panicked".into());
        }
        for s in case.says.iter().filter(|s| !said.contains(*s)) {
            problems.push(format!("does not say {s:?}"));
        }
        for s in case.never.iter().filter(|s| said.contains(*s)) {
            problems.push(format!("says {s:?}"));
        }
        let files = listing(&dir);
        if files != case.after {
            problems.push(format!("leaves {files:?}, expected {:?}", case.after));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n  stdout: {stdout}\n  stderr: {stderr}", case.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases().len(), failures.join("\n"));
}
