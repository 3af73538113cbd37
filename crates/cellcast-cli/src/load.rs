//! Reading the tables each command needs, with errors that say which input is wrong.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use cellcast_data::{preview, WideSpec, WideTable};

/// A numeric wide table (id + numeric columns).
pub fn numeric(path: &Path, id_column: &str, role: &str) -> Result<WideTable> {
    WideTable::read(path, &WideSpec::numeric(id_column)).with_context(|| format!("reading the {role}"))
}

/// A numeric table that must hold no missing or infinite value.
pub fn complete(path: &Path, id_column: &str, role: &str) -> Result<WideTable> {
    let table = numeric(path, id_column, role)?;
    table
        .require_finite(&format!("the {role} must be complete, finite numbers"))
        .with_context(|| format!("checking the {role}"))?;
    Ok(table)
}

/// The `group` column of a groups file, looked up for every id of `table`, in its row order.
/// Ids of `table` without a group are an error; groups of ids not in `table` are ignored.
pub fn groups_for(table: &WideTable, groups_path: &Path, id_column: &str) -> Result<Vec<String>> {
    let groups = WideTable::read(groups_path, &WideSpec::text_only(id_column, &["group"]))
        .context("reading the groups file (columns: id, group)")?;
    let column = groups.text_column("group").expect("requested column");
    let mut by_id: HashMap<&str, &str> = HashMap::with_capacity(groups.nrows());
    for (i, (id, g)) in groups.ids.iter().zip(column).enumerate() {
        match g {
            Some(g) => by_id.insert(id.as_str(), g.as_str()),
            None => bail!("{}: row {} (id '{id}') has an empty group", groups_path.display(), i + 1),
        };
    }
    let missing: Vec<&str> =
        table.ids.iter().filter(|id| !by_id.contains_key(id.as_str())).map(String::as_str).collect();
    if !missing.is_empty() {
        bail!(
            "{}: no group for {} id(s) of {} ({}); every sample needs a row in the groups file",
            groups_path.display(),
            missing.len(),
            table.path.display(),
            preview(&missing, 5)
        );
    }
    Ok(table.ids.iter().map(|id| by_id[id.as_str()].to_string()).collect())
}
