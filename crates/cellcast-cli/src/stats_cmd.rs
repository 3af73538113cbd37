//! `cellcast de …` and `cellcast weights …`: arguments → options → call → "wrote …".

use std::path::Path;

use anyhow::Result;
use cellcast::table::LabelledMatrix;
use cellcast::weights::{MejiaOptions, MylliaOptions, ScanpyDtype, VcpiOptions, VcpiVariance};

use crate::observer::Terminal;

fn wrote(out: &Path, table: &LabelledMatrix) {
    eprintln!("wrote {} ({} rows × {} genes)", out.display(), table.ids.len(), table.columns.len());
}

pub fn limma(expr: &Path, groups: &Path, control: &str, out: &Path, id: &str) -> Result<()> {
    let opts = cellcast::de::LimmaOptions {
        expr: expr.into(),
        groups: groups.into(),
        control: control.to_string(),
        id_column: id.to_string(),
        out: Some(out.to_path_buf()),
    };
    let outcome = cellcast::de::limma(&opts, &Terminal::default())?;
    wrote(out, &outcome.t);
    Ok(())
}

pub fn myllia(t: &Path, targets: &Path, out: &Path, id: &str) -> Result<()> {
    let opts =
        MylliaOptions { t: t.into(), targets: targets.into(), id_column: id.to_string(), out: Some(out.to_path_buf()) };
    wrote(out, &cellcast::weights::myllia(&opts, &Terminal::default())?);
    Ok(())
}

pub fn vcpi(counts: &Path, groups: &Path, variance: VcpiVariance, out: &Path, id: &str) -> Result<()> {
    let opts = VcpiOptions {
        counts: counts.into(),
        groups: groups.into(),
        variance,
        id_column: id.to_string(),
        out: Some(out.to_path_buf()),
    };
    wrote(out, &cellcast::weights::vcpi(&opts, &Terminal::default())?);
    Ok(())
}

pub fn mejia(
    expr: &Path,
    groups: &Path,
    control: Option<&str>,
    x_dtype: ScanpyDtype,
    out: &Path,
    id: &str,
) -> Result<()> {
    let opts = MejiaOptions {
        expr: expr.into(),
        groups: groups.into(),
        control: control.map(str::to_string),
        x_dtype,
        id_column: id.to_string(),
        out: Some(out.to_path_buf()),
    };
    wrote(out, &cellcast::weights::mejia(&opts, &Terminal::default())?);
    Ok(())
}
