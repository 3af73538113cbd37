//! Arbitrary bytes as a CSV file and as a Parquet file through `WideTable::read`.
//!
//! Errors are expected; a panic (or a sanitizer report) is a finding.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use cellcast_data::{NumericColumns, WideSpec, WideTable};
use libfuzzer_sys::fuzz_target;

/// One scratch file per extension per process, overwritten on every input.
fn scratch(ext: &str) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("cellcast-fuzz-table-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("creating the scratch directory");
        d
    });
    dir.join(format!("input.{ext}"))
}

fuzz_target!(|data: &[u8]| {
    let spec =
        WideSpec { id_column: "id", text_columns: &[], optional_text: &["group"], numeric: NumericColumns::Rest };
    for ext in ["csv", "parquet"] {
        let path = scratch(ext);
        std::fs::write(&path, data).expect("writing the scratch file");
        if let Ok(table) = WideTable::read(&path, &spec) {
            // The reader's own invariants: one matrix row per id, one column per name, and
            // every requested text column as long as the ids.
            assert_eq!(table.values.nrows(), table.ids.len(), "{ext}: rows vs ids");
            assert_eq!(table.values.ncols(), table.columns.len(), "{ext}: columns vs names");
            for (name, column) in &table.text {
                assert_eq!(column.len(), table.ids.len(), "{ext}: text column {name}");
            }
        }
    }
});
