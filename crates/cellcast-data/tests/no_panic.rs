//! Whatever bytes a user's file holds, reading it returns a value or an error — never a panic.

use cellcast_data::{WideSpec, WideTable};
use proptest::prelude::*;

fn read(bytes: &[u8], ext: &str) -> Option<WideTable> {
    let dir = std::env::temp_dir().join(format!("cellcast-nopanic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("input.{ext}"));
    std::fs::write(&path, bytes).unwrap();
    let spec = WideSpec { id_column: "id", text_columns: &[], optional_text: &["group"], numeric_rest: true };
    WideTable::read(&path, &spec).ok()
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
