//! Where a molecule's time goes: each chemistry stage timed over a SMILES list (one per line).
//!
//! ```sh
//! cargo run --release -p cellcast-chem --example chem_stages -- smiles.txt            # every stage
//! cargo run --release -p cellcast-chem --example chem_stages -- smiles.txt parse      # one stage
//! cargo run --release -p cellcast-chem --example chem_stages -- smiles.txt slowest    # costliest parses
//! ```
use std::time::Instant;

use cellcast_chem::{Molecule, MorganParams};

fn main() {
    let path = std::env::args().nth(1).expect("usage: chem_stages SMILES_FILE [STAGE|slowest]");
    let only = std::env::args().nth(2);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let smiles: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    if only.as_deref() == Some("slowest") {
        slowest(&smiles);
        return;
    }
    let n = smiles.len() as f64;
    let time = |what: &str, f: &dyn Fn(&str)| {
        if only.as_deref().is_some_and(|o| o != what) {
            return;
        }
        let start = Instant::now();
        for s in &smiles {
            f(s);
        }
        println!("{what:<28} {:>8.2} µs/molecule", start.elapsed().as_secs_f64() * 1e6 / n);
    };
    let with_molecule = |f: fn(&Molecule)| move |s: &str| Molecule::parse(s).iter().for_each(f);
    time("parse", &|s| drop(Molecule::parse(s)));
    time("parse+sanitize", &|s| drop(Molecule::parse_sanitized(s)));
    time("parse+sanitize+morgan", &with_molecule(|m| drop(m.morgan_bits(MorganParams::default()))));
    time("parse+murcko", &with_molecule(|m| drop(m.murcko_scaffold(false))));
    time("parse+canonical", &with_molecule(|m| drop(m.canonical_smiles())));
}

/// The 20 SMILES that take longest to parse (mean of 5), and the median.
fn slowest(smiles: &[&str]) {
    let mut t: Vec<(f64, &str)> = smiles
        .iter()
        .map(|s| {
            let start = Instant::now();
            for _ in 0..5 {
                drop(Molecule::parse(s));
            }
            (start.elapsed().as_secs_f64() * 1e6 / 5.0, *s)
        })
        .collect();
    t.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (us, s) in t.iter().take(20) {
        println!("{us:>9.1} µs  {s}");
    }
    println!("median {:.2} µs", t[t.len() / 2].0);
}
