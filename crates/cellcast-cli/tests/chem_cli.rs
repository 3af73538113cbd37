//! The chemistry commands end to end against RDKit's outputs (fixtures/golden/chem): CSV
//! formats of the contract, neighbours, and the scaffold splits on real task data.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{cellcast_ok, golden, read_csv_text, shared, temp_dir};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// id → column value of a CSV.
fn column(path: &Path, key: &str, value: &str) -> HashMap<String, String> {
    read_csv_text(path).into_iter().map(|r| (r[key].clone(), r[value].clone())).collect()
}

#[test]
fn featurize_and_scaffold_write_rdkit_values_in_the_contract_format() {
    let public = golden().join("chem/public");
    let input = public.join("molecules.csv");
    let dir = temp_dir("chem-featurize");
    let parse = column(&public.join("parse.csv"), "id", "ok");
    let known_differences = ["e_empty", "x_cx_chemaxon_thb"];
    for (args, out_name, fixture, fixture_col) in [
        (vec!["featurize", "morgan"], "bits.csv", "morgan_r2_2048.csv", "on_bits"),
        (vec!["featurize", "morgan", "--counts"], "counts.csv", "morgan_counts_r2_2048.csv", "counts"),
        (vec!["featurize", "morgan", "--radius", "3", "--bits", "1024"], "r3.csv", "morgan_r3_1024.csv", "on_bits"),
        (vec!["scaffold"], "scaffold.csv", "scaffold.csv", "scaffold"),
        (vec!["scaffold", "--generic"], "generic.csv", "scaffold.csv", "generic_canonical"),
    ] {
        let out = dir.join(out_name);
        let mut full = args.clone();
        full.extend(["--input", s(&input), "--smiles-column", "smiles", "--id-column", "id", "--out", s(&out)]);
        cellcast_ok(&full);
        let rows = read_csv_text(&out);
        let header: Vec<&String> = rows[0].keys().collect();
        assert_eq!(header.len(), 3, "{out_name}: columns {header:?}");
        let want = column(&public.join(fixture), "id", fixture_col);
        for row in &rows {
            let id = &row["id"];
            if known_differences.contains(&id.as_str()) {
                continue;
            }
            let value = if out_name.starts_with("scaffold") || out_name.starts_with("generic") {
                &row["scaffold"]
            } else {
                &row["on_bits"]
            };
            if parse[id] == "1" {
                assert_eq!(row["error"], "", "{out_name} {id}");
                assert_eq!(value, &want[id], "{out_name} {id}");
            } else {
                assert!(!row["error"].is_empty(), "{out_name} {id}: RDKit rejects it, cellcast must say why");
                assert_eq!(value, "", "{out_name} {id}");
            }
        }
    }
}

#[test]
fn neighbors_match_rdkit_bulk_tanimoto() {
    let public = golden().join("chem/public");
    // Without the one molecule only cellcast reads (ChemAxon THB:), libraries are the same.
    let dir = temp_dir("chem-nn");
    let input = dir.join("molecules.csv");
    let mut w = csv::Writer::from_path(&input).unwrap();
    w.write_record(["id", "smiles"]).unwrap();
    for r in read_csv_text(&public.join("molecules.csv")).into_iter().filter(|r| r["id"] != "x_cx_chemaxon_thb") {
        w.write_record([&r["id"], &r["smiles"]]).unwrap();
    }
    w.flush().unwrap();
    let out = dir.join("nn.csv");
    cellcast_ok([
        "neighbors",
        "--query",
        s(&input),
        "--library",
        s(&input),
        "--smiles-column",
        "smiles",
        "--id-column",
        "id",
        "-k",
        "5",
        "--exclude-self",
        "--out",
        s(&out),
    ]);
    let ours: HashMap<(String, String), (String, f64)> = read_csv_text(&out)
        .into_iter()
        .map(|r| {
            ((r["query_id"].clone(), r["rank"].clone()), (r["neighbor_id"].clone(), r["similarity"].parse().unwrap()))
        })
        .collect();
    // RDKit also ranks its empty molecule; compare every neighbour with a non-zero similarity.
    let mut compared = 0;
    for r in read_csv_text(&public.join("neighbors.csv")) {
        let sim: f64 = r["similarity"].parse().unwrap();
        if sim == 0.0 {
            continue;
        }
        let got = &ours[&(r["query_id"].clone(), r["rank"].clone())];
        assert_eq!(got.0, r["neighbor_id"], "query {} rank {}", r["query_id"], r["rank"]);
        assert_eq!(got.1, sim, "query {} rank {}", r["query_id"], r["rank"]);
        compared += 1;
    }
    assert!(compared > 900, "only {compared} neighbours compared");
}

#[test]
fn scaffold_splits_match_the_references_on_task_data() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED scaffold_splits_match_the_references_on_task_data: ../shared is absent");
        return;
    };
    let real = golden().join("chem/real");
    let dir = temp_dir("chem-split");
    // L1000 task: every molecule parses in both.
    let l1000 = shared.join("tasks/l1000-drugbank/train.csv");
    // RxRx3 compounds without the 7 RDKit cannot read (the reference splits exclude them).
    let excluded =
        ["ajmaline", "homatropine", "hyoscyamine", "ipratropium", "methylnaltrexone", "retapamulin", "tropisetron"];
    let rxrx3 = dir.join("rxrx3.csv");
    let mut w = csv::Writer::from_path(&rxrx3).unwrap();
    w.write_record(["treatment", "smiles"]).unwrap();
    for r in read_csv_text(&shared.join("data/rxrx3/derived_rxrx3_core_compounds.csv")) {
        if !r["smiles"].is_empty() && !excluded.contains(&r["treatment"].as_str()) {
            w.write_record([&r["treatment"], &r["smiles"]]).unwrap();
        }
    }
    w.flush().unwrap();
    for (set, input, id_col, smiles_col) in
        [("l1000task", l1000.as_path(), "drugbank_id", "SMILES"), ("rxrx3", rxrx3.as_path(), "treatment", "smiles")]
    {
        for (method, fixture, col) in [
            ("scaffold-kfold", "groupkfold5", "fold"),
            ("deepchem", "deepchem", "split"),
            ("chemprop", "chemprop", "split"),
        ] {
            let out = dir.join(format!("{set}-{method}.csv"));
            cellcast_ok([
                "split",
                "--input",
                s(input),
                "--smiles-column",
                smiles_col,
                "--id-column",
                id_col,
                "--method",
                method,
                "--folds",
                "5",
                "--out",
                s(&out),
            ]);
            let ours = column(&out, "id", "fold");
            let want = column(&real.join(format!("split_{set}_{fixture}.csv")), "id", col);
            assert_eq!(ours.len(), want.len(), "{set} {method}");
            let differ = want.iter().filter(|(id, v)| &ours[*id] != *v).count();
            assert_eq!(differ, 0, "{set} {method}: {differ} molecules in another fold than the reference");
        }
    }
}
