//! Arbitrary bytes as a CSV, TSV and Parquet file through `WideTable::read`, plain and
//! gzip-compressed (`input.csv.gz`: the same table must come back, or an error both times), and
//! the raw bytes as a `.csv.gz` (mostly not gzip at all: an error, never a panic).
//!
//! Errors are expected; a panic (or a sanitizer report) is a finding.
#![no_main]

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use cellcast_data::{NumericColumns, WideSpec, WideTable};
use libfuzzer_sys::fuzz_target;

/// One scratch file per name per process, overwritten on every input.
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("cellcast-fuzz-table-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("creating the scratch directory");
        d
    });
    dir.join(name)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// Reads `bytes` as the file `name`, checking the reader's own invariants on success.
fn read(name: &str, bytes: &[u8], spec: &WideSpec) -> Option<WideTable> {
    let path = scratch(name);
    std::fs::write(&path, bytes).expect("writing the scratch file");
    let table = WideTable::read(&path, spec).ok()?;
    // One matrix row per id, one column per name, every requested text column as long as the ids.
    assert_eq!(table.values.nrows(), table.ids.len(), "{name}: rows vs ids");
    assert_eq!(table.values.ncols(), table.columns.len(), "{name}: columns vs names");
    for (column, values) in &table.text {
        assert_eq!(values.len(), table.ids.len(), "{name}: text column {column}");
    }
    Some(table)
}

fuzz_target!(|data: &[u8]| {
    let spec =
        WideSpec { id_column: "id", text_columns: &[], optional_text: &["group"], numeric: NumericColumns::Rest };
    let compressed = gzip(data);
    for ext in ["csv", "tsv", "parquet"] {
        let plain = read(&format!("input.{ext}"), data, &spec);
        let gz = read(&format!("input.{ext}.gz"), &compressed, &spec);
        assert_eq!(plain.is_some(), gz.is_some(), "{ext}: plain and gzip disagree on success");
        if let (Some(a), Some(b)) = (plain, gz) {
            assert_eq!((&a.ids, &a.columns, &a.text), (&b.ids, &b.columns, &b.text), "{ext}: plain vs gzip");
            let bits = |t: &WideTable| t.values.as_slice().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a), bits(&b), "{ext}: plain vs gzip values");
        }
    }
    let _ = read("raw.csv.gz", data, &spec);
});
