//! Writing results: always to a temporary file beside the target, then renamed into place, so
//! an interrupted run never leaves a half-written file under the real name.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use cellcast_stats::Matrix;

use crate::error::{DataError, Result};
use crate::output::{Column, OutputTable};

/// Writes `path` atomically with whatever `fill` writes: into `.NAME.PID.tmp` beside it (its
/// folder is created if needed), then renamed into place. The temporary file is removed on failure, and by
/// [`crate::staging::remove_pending`] on a signal; one left by a killed process is removed by
/// the next write of `path`.
pub fn write_atomically(path: &Path, fill: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>) -> Result<()> {
    let io = |source| DataError::Io { path: path.to_path_buf(), error: source };
    if path.is_dir() {
        return Err(DataError::Output {
            path: path.to_path_buf(),
            message: "is a folder; give the path of the file to write".into(),
        });
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| DataError::Output {
        path: path.to_path_buf(),
        message: "is not a file path; give the path of the file to write".into(),
    })?;
    let name = name.to_string_lossy();
    std::fs::create_dir_all(dir).map_err(crate::error::io(dir))?;
    crate::staging::sweep_stale(dir, &name, "", ".tmp");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    crate::staging::register(&tmp);
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut out = BufWriter::new(file);
        fill(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    crate::staging::unregister(&tmp);
    result.map_err(io)
}

/// Shortest text that reads back as the same f64 (empty for NaN, as pandas writes it).
pub fn format_number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else if v.is_infinite() {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else {
        format!("{v:?}")
    }
}

/// Writes a matrix as a table: `id_header` then one column per name; one row per id. The format
/// is the file name's, as [`crate::output::OutputTable::write`] chooses it (CSV, TSV, Parquet,
/// gzip-compressed with `.gz`).
pub fn write_matrix(path: &Path, id_header: &str, ids: &[String], columns: &[String], values: &Matrix) -> Result<()> {
    let (format, gzip) = crate::input::output_format(path);
    if format == crate::input::Format::Parquet {
        let mut table = OutputTable::new().with(id_header, Column::Text(ids.iter().cloned().map(Some).collect()));
        for (j, name) in columns.iter().enumerate() {
            table = table.with(name, Column::Float(values.column(j)));
        }
        return table.write(path);
    }
    write_output(path, gzip, |out| {
        let mut w = csv::WriterBuilder::new().delimiter(format.delimiter()).from_writer(out);
        let header = std::iter::once(id_header).chain(columns.iter().map(String::as_str));
        w.write_record(header).map_err(std::io::Error::other)?;
        for (id, row) in ids.iter().zip(values.rows()) {
            let record = std::iter::once(id.clone()).chain(row.iter().map(|&v| format_number(v)));
            w.write_record(record).map_err(std::io::Error::other)?;
        }
        w.flush()
    })
}

/// [`write_atomically`], gzip-compressing what `fill` writes when `gzip` (a `.gz` name).
pub(crate) fn write_output(
    path: &Path,
    gzip: bool,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> std::io::Result<()>,
) -> Result<()> {
    write_atomically(path, |out| {
        if gzip {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            fill(&mut gz)?;
            gz.finish().map(drop)
        } else {
            fill(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for v in [0.1, 1.0 / 3.0, 1e-300, -2.5e17, 123456.0] {
            assert_eq!(format_number(v).parse::<f64>().unwrap(), v);
        }
        assert_eq!(format_number(f64::NAN), "");
        assert_eq!(format_number(0.5), "0.5");
    }
}
