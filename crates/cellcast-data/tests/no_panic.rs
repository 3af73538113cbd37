//! Whatever bytes a user's file holds, reading it returns a value or an error — never a panic.

use cellcast_data::{NumericColumns, WideSpec, WideTable};
use proptest::prelude::*;

fn read(bytes: &[u8], ext: &str) -> Option<WideTable> {
    let dir = std::env::temp_dir().join(format!("cellcast-nopanic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Tests run in parallel threads: every call gets its own file.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = dir.join(format!("input{n}.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let spec =
        WideSpec { id_column: "id", text_columns: &[], optional_text: &["group"], numeric: NumericColumns::Rest };
    let table = WideTable::read(&path, &spec).ok();
    let _ = std::fs::remove_file(&path);
    table
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = read(&bytes, "csv");
        let _ = read(&bytes, "parquet");
    }

    #[test]
    fn csv_like_text_never_panics(cells in prop::collection::vec("[a-z0-9.,;\"\\n\\-eEinfNA ]{0,6}", 0..40)) {
        let text = format!("id,g1,group\n{}", cells.join(","));
        if let Some(t) = read(text.as_bytes(), "csv") {
            prop_assert_eq!(t.values.nrows(), t.ids.len());
            prop_assert_eq!(t.values.ncols(), t.columns.len());
        }
    }

    #[test]
    fn parquet_magic_with_garbage_never_panics(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut bytes = b"PAR1".to_vec();
        bytes.extend(&body);
        bytes.extend(b"PAR1");
        let _ = read(&bytes, "parquet");
    }
}

/// The quote-free fast path and the `csv` crate path read the same text the same way.
#[test]
fn fast_and_quoted_paths_agree() {
    let plain = "\n\nid,g1,g2\r\na,1,2\r\n\r\nb,,3.5\n";
    // A quoted id forces the csv-crate path; the quotes vanish when parsed.
    let quoted = "\n\nid,g1,g2\r\n\"a\",1,2\r\n\r\nb,,3.5\n";
    let (p, q) = (read(plain.as_bytes(), "csv").unwrap(), read(quoted.as_bytes(), "csv").unwrap());
    assert_eq!(p.ids, vec!["a", "b"]);
    assert_eq!(p.ids, q.ids);
    assert_eq!(p.columns, q.columns);
    for (x, y) in p.values.as_slice().iter().zip(q.values.as_slice()) {
        assert!(x == y || (x.is_nan() && y.is_nan()));
    }
    assert!(p.values.get(1, 0).is_nan());
    assert_eq!(p.values.get(1, 1), 3.5);
}
