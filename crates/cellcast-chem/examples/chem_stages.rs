//! Times each chemistry stage on a SMILES list (one per line): where a molecule's time goes.
//! `cargo run --release -p cellcast-chem --example chem_stages -- smiles.txt`
use std::time::Instant;

use cellcast_chem::{Molecule, MorganParams};

fn main() {
    let path = std::env::args().nth(1).expect("usage: chem_stages SMILES_FILE [STAGE]");
    let only = std::env::args().nth(2);
    let text = std::fs::read_to_string(&path).unwrap();
    let smiles: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
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
    if only.as_deref() == Some("slowest") {
        slowest(&smiles);
        return;
    }
    time("parse", &|s| drop(Molecule::parse(s)));
    time("parse+sanitize", &|s| drop(Molecule::parse_sanitized(s)));
    time("parse+sanitize+morgan", &|s| {
        if let Ok(m) = Molecule::parse(s) {
            let _ = m.morgan_bits(MorganParams::default());
        }
    });
    time("parse+murcko", &|s| {
        if let Ok(m) = Molecule::parse(s) {
            let _ = m.murcko_scaffold(false);
        }
    });
    time("parse+canonical", &|s| {
        if let Ok(m) = Molecule::parse(s) {
            let _ = m.canonical_smiles();
        }
    });
}

#[allow(dead_code)]
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
    t.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap());
    let total: f64 = t.iter().map(|x| x.0).sum();
    println!("total {total:.0} µs; top 20 take {:.0}", t[..20].iter().map(|x| x.0).sum::<f64>());
    for (us, s) in &t[..20] {
        println!("{us:>9.1} {s}");
    }
    let median = t[t.len() / 2].0;
    println!("median {median:.2} µs");
}
