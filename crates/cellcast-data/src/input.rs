//! Where a table's bytes come from: a file, a gzip-compressed file (`NAME.csv.gz`,
//! `NAME.tsv.gz`, `NAME.parquet.gz`), or standard input (`-`), which is read once and kept, so
//! that a reader can go over it twice as it does over a file. The format is the extension's
//! (without `.gz`); standard input's is sniffed from its bytes.

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::error::{io, DataError, Result};

/// The path that means standard input.
pub const STDIN: &str = "-";

/// A table format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Tsv,
    Parquet,
}

impl Format {
    pub(crate) fn delimiter(self) -> u8 {
        if self == Format::Tsv {
            b'\t'
        } else {
            b','
        }
    }
}

pub(crate) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// Standard input's bytes, read (and gunzipped if compressed) on first use.
fn stdin_bytes() -> Result<Arc<[u8]>> {
    static BYTES: OnceLock<std::result::Result<Arc<[u8]>, String>> = OnceLock::new();
    BYTES
        .get_or_init(|| {
            let mut raw = Vec::new();
            std::io::stdin().lock().read_to_end(&mut raw).map_err(|e| e.to_string())?;
            if raw.starts_with(&[0x1f, 0x8b]) {
                let mut plain = Vec::new();
                flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut plain).map_err(|e| e.to_string())?;
                raw = plain;
            }
            Ok(raw.into())
        })
        .clone()
        .map_err(|message| DataError::Io { path: STDIN.into(), error: std::io::Error::other(message) })
}

/// The lowercase extension, and whether a `.gz` came after it.
fn extension(path: &Path) -> (String, bool) {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase();
    let (stem, gz) = match name.strip_suffix(".gz") {
        Some(stem) => (stem.to_string(), true),
        None => (name, false),
    };
    (stem.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default(), gz)
}

/// The table format of `path`: by extension, or sniffed from standard input's bytes.
pub(crate) fn format_of(path: &Path) -> Result<Format> {
    if is_stdin(path) {
        let bytes = stdin_bytes()?;
        if bytes.starts_with(b"PAR1") {
            return Ok(Format::Parquet);
        }
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
        let tabs = first_line.iter().filter(|&&b| b == b'\t').count();
        let commas = first_line.iter().filter(|&&b| b == b',').count();
        return Ok(if tabs > commas { Format::Tsv } else { Format::Csv });
    }
    match extension(path).0.as_str() {
        "parquet" | "pq" => Ok(Format::Parquet),
        "tsv" | "tab" | "txt" => Ok(Format::Tsv),
        "csv" => Ok(Format::Csv),
        _ => Err(DataError::UnknownFormat { path: path.to_path_buf() }),
    }
}

/// The format an output file gets from its name (CSV unless it says Parquet or TSV), and
/// whether it is to be gzip-compressed (a final `.gz`).
pub(crate) fn output_format(path: &Path) -> (Format, bool) {
    let (ext, gz) = extension(path);
    let format = match ext.as_str() {
        "parquet" | "pq" => Format::Parquet,
        "tsv" | "tab" | "txt" => Format::Tsv,
        _ => Format::Csv,
    };
    (format, gz)
}

/// Whether an output named `path` is written as Parquet (`NAME.parquet`, `NAME.parquet.gz`).
pub fn is_parquet_output(path: &Path) -> bool {
    output_format(path).0 == Format::Parquet
}

/// A reader of the table's (decompressed) bytes, from the start.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read + Send>> {
    if is_stdin(path) {
        return Ok(Box::new(std::io::Cursor::new(stdin_bytes()?)));
    }
    let file = std::fs::File::open(path).map_err(io(path))?;
    if extension(path).1 {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file))))
    } else {
        Ok(Box::new(file))
    }
}

/// The whole (decompressed) content, for formats that need random access (Parquet from a
/// stream or a `.gz`).
pub(crate) fn read_all(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    open(path)?.read_to_end(&mut bytes).map_err(io(path))?;
    Ok(bytes)
}

/// Whether `path` is a plain file that can be opened for random access.
pub(crate) fn is_plain_file(path: &Path) -> bool {
    !is_stdin(path) && !extension(path).1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(format_of(Path::new("a.csv")).unwrap(), Format::Csv);
        assert_eq!(format_of(Path::new("dir.x/A.TSV.GZ")).unwrap(), Format::Tsv);
        assert_eq!(format_of(Path::new("a.parquet.gz")).unwrap(), Format::Parquet);
        assert!(matches!(format_of(Path::new("a.gz")), Err(DataError::UnknownFormat { .. })));
        assert!(matches!(format_of(Path::new("a.xlsx")), Err(DataError::UnknownFormat { .. })));
        assert!(is_plain_file(Path::new("a.csv")) && !is_plain_file(Path::new("a.csv.gz")));
    }
}
