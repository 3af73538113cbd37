//! The HDF5 layer under the AnnData reader: objects by path, attributes as text / numbers,
//! whole 1-D datasets and row windows read with their declared sizes checked first, compound
//! records (anndata < 0.7) decoded by hand.
//!
//! `hdf5-pure` allocates a dataset's (and a chunk's) declared size before reading it, and a
//! failed allocation aborts the process — it is not a panic that could be caught. So before
//! anything is read, its declared size is checked against the file: raw data cannot be larger
//! than the file, filtered (compressed) data at most [`crate::gct::MAX_DEFLATE_RATIO`] times larger, as for
//! GCTX ([`crate::gct`]). Panics inside `hdf5-pure` are caught at the public entry points of
//! [`super::H5ad`].

use std::collections::HashMap;
use std::path::Path;

use hdf5_pure::{AttrValue, DType, Dataset, Datatype, DatatypeByteOrder, Group};

use crate::error::{DataError, Result};
use crate::gct::{numpy_float_str, oversized};
use crate::h5ad::matrix::{checked_indices, CheckedIndices};

/// What every reader needs to name its errors and bound its allocations.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub path: std::path::PathBuf,
    pub file_len: u64,
}

impl Ctx {
    pub fn err(&self, object: &str, message: impl Into<String>) -> DataError {
        DataError::H5ad { path: self.path.clone(), object: display_object(object), message: message.into() }
    }

    pub fn hdf(&self, object: &str, e: hdf5_pure::Error) -> DataError {
        self.err(object, format!("the HDF5 reader failed: {e}"))
    }

    pub fn encoding_err(&self, object: &str, encoding: &Encoding, hint: &str) -> DataError {
        DataError::H5adEncoding {
            path: self.path.clone(),
            object: display_object(object),
            encoding: encoding.kind.clone(),
            version: encoding.version.clone(),
            hint: hint.to_string(),
        }
    }
}

fn display_object(object: &str) -> String {
    if object.is_empty() {
        "/".to_string()
    } else {
        object.to_string()
    }
}

/// Runs `f`, turning a panic inside `hdf5-pure` into an error naming `object`.
pub(crate) fn guarded<T>(ctx: &Ctx, object: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::error::catch_parser_panic(f).unwrap_or_else(|message| Err(ctx.err(object, message)))
}

/// An object of the file.
pub(crate) enum Node {
    Group(Group),
    Dataset(Dataset),
}

/// The object at `path`, or `None` when nothing has that name.
pub(crate) fn node(ctx: &Ctx, file: &hdf5_pure::File, path: &str) -> Result<Option<Node>> {
    match file.dataset(path) {
        Ok(ds) => Ok(Some(Node::Dataset(ds))),
        Err(hdf5_pure::Error::NotADataset(_)) => match file.group(path) {
            Ok(g) => Ok(Some(Node::Group(g))),
            Err(e) => Err(ctx.hdf(path, e)),
        },
        Err(hdf5_pure::Error::Format(hdf5_pure::FormatError::PathNotFound(_))) => Ok(None),
        // A component along the path is a dataset: nothing can be at the path.
        Err(hdf5_pure::Error::NotAGroup(_)) => Ok(None),
        Err(e) => Err(ctx.hdf(path, e)),
    }
}

/// `anndata`'s `encoding-type` and `encoding-version` attributes (empty when absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Encoding {
    pub kind: String,
    pub version: String,
}

pub(crate) type Attrs = HashMap<String, AttrValue>;

pub(crate) fn group_attrs(ctx: &Ctx, g: &Group, object: &str) -> Result<Attrs> {
    g.attrs().map_err(|e| ctx.hdf(object, e))
}

pub(crate) fn dataset_attrs(ctx: &Ctx, ds: &Dataset, object: &str) -> Result<Attrs> {
    ds.attrs().map_err(|e| ctx.hdf(object, e))
}

pub(crate) fn encoding(attrs: &Attrs) -> Encoding {
    Encoding {
        kind: attrs.get("encoding-type").and_then(attr_text).unwrap_or_default(),
        version: attrs.get("encoding-version").and_then(attr_text).unwrap_or_default(),
    }
}

/// A string attribute, whatever string type h5py or another writer chose; a one-element string
/// array counts as a string.
pub(crate) fn attr_text(v: &AttrValue) -> Option<String> {
    match v {
        AttrValue::String(s)
        | AttrValue::AsciiString(s)
        | AttrValue::VarLenString(s)
        | AttrValue::VarLenAsciiString(s) => Some(s.clone()),
        AttrValue::StringSized { value, .. } | AttrValue::AsciiStringSized { value, .. } => Some(value.clone()),
        _ => match attr_texts(v) {
            Some(mut all) if all.len() == 1 => all.pop(),
            _ => None,
        },
    }
}

/// A string-array attribute. An empty numeric array counts as an empty list: h5py writes an
/// empty Python list (anndata's `column-order` of a frame without columns) as `float64[0]`.
pub(crate) fn attr_texts(v: &AttrValue) -> Option<Vec<String>> {
    match v {
        AttrValue::StringArray(all)
        | AttrValue::AsciiStringArray(all)
        | AttrValue::VarLenStringArray(all)
        | AttrValue::VarLenAsciiStringArray(all)
        | AttrValue::VarLenAsciiCharArray(all) => Some(all.clone()),
        AttrValue::StringArraySized { values, .. } | AttrValue::AsciiStringArraySized { values, .. } => {
            Some(values.clone())
        }
        AttrValue::String(_)
        | AttrValue::AsciiString(_)
        | AttrValue::VarLenString(_)
        | AttrValue::VarLenAsciiString(_)
        | AttrValue::StringSized { .. }
        | AttrValue::AsciiStringSized { .. } => attr_text(v).map(|s| vec![s]),
        other => match attr_ints(other) {
            Some(v) if v.is_empty() => Some(Vec::new()),
            _ => match other {
                AttrValue::F64Array(v) if v.is_empty() => Some(Vec::new()),
                AttrValue::F32Array(v) if v.is_empty() => Some(Vec::new()),
                _ => None,
            },
        },
    }
}

/// An integer or integer-array attribute (`shape`, `h5sparse_shape`, a bool's 0/1).
pub(crate) fn attr_ints(v: &AttrValue) -> Option<Vec<i64>> {
    Some(match v {
        AttrValue::I8(x) => vec![i64::from(*x)],
        AttrValue::I16(x) => vec![i64::from(*x)],
        AttrValue::I32(x) => vec![i64::from(*x)],
        AttrValue::I64(x) => vec![*x],
        AttrValue::U8(x) => vec![i64::from(*x)],
        AttrValue::U16(x) => vec![i64::from(*x)],
        AttrValue::U32(x) => vec![i64::from(*x)],
        AttrValue::U64(x) => vec![i64::try_from(*x).ok()?],
        AttrValue::I8Array(v) => v.iter().map(|&x| i64::from(x)).collect(),
        AttrValue::I16Array(v) => v.iter().map(|&x| i64::from(x)).collect(),
        AttrValue::I32Array(v) => v.iter().map(|&x| i64::from(x)).collect(),
        AttrValue::I64Array(v) => v.clone(),
        AttrValue::U8Array(v) => v.iter().map(|&x| i64::from(x)).collect(),
        AttrValue::U16Array(v) => v.iter().map(|&x| i64::from(x)).collect(),
        AttrValue::U32Array(v) => v.iter().map(|&x| i64::from(x)).collect(),
        AttrValue::U64Array(v) => v.iter().map(|&x| i64::try_from(x).ok()).collect::<Option<_>>()?,
        _ => return None,
    })
}

/// A boolean attribute: h5py writes `np.bool_` as an enum over int8, read back as 0/1.
pub(crate) fn attr_bool(v: &AttrValue) -> Option<bool> {
    match attr_ints(v)?.as_slice() {
        [x] => Some(*x != 0),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Dataset sizes
// ---------------------------------------------------------------------------------------------

pub(crate) fn shape(ctx: &Ctx, ds: &Dataset, object: &str) -> Result<Vec<u64>> {
    ds.shape().map_err(|e| ctx.hdf(object, e))
}

/// Refuses a dataset whose declared size (or chunk size) this file cannot hold.
pub(crate) fn check_size(ctx: &Ctx, ds: &Dataset, object: &str) -> Result<()> {
    match oversized(ds, ctx.file_len).map_err(|err| ctx.hdf(object, err))? {
        Some(problem) => Err(ctx.err(object, problem)),
        None => Ok(()),
    }
}

/// The length of a 1-D dataset (a 0-D scalar counts as 1), after its size was checked.
pub(crate) fn len_1d(ctx: &Ctx, ds: &Dataset, object: &str) -> Result<usize> {
    let shape = shape(ctx, ds, object)?;
    check_size(ctx, ds, object)?;
    match shape.as_slice() {
        [] => Ok(1),
        [n] => usize::try_from(*n).map_err(|_| ctx.err(object, format!("{n} values do not fit in memory"))),
        _ => Err(ctx.err(object, format!("has shape {shape:?}; expected one dimension"))),
    }
}

pub(crate) fn check_len(ctx: &Ctx, object: &str, found: usize, expected: Option<usize>, what: &str) -> Result<()> {
    match expected {
        Some(n) if n != found => Err(ctx.err(object, format!("holds {found} values; expected {n} ({what})"))),
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// The numbers of a dataset, by the kind of its element type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Numbers {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

/// What kind of numbers a datatype holds; `None` for strings and everything else.
pub(crate) fn number_kind(dtype: &DType) -> Option<NumberKind> {
    match dtype {
        DType::F32 | DType::F64 => Some(NumberKind::Float),
        DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::U8 | DType::U16 | DType::U32 | DType::U64 => {
            Some(NumberKind::Int)
        }
        DType::Enum(names) if is_bool_enum(names) => Some(NumberKind::Bool),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumberKind {
    Float,
    Int,
    Bool,
}

/// h5py (and so anndata) stores numpy bools as the enum {FALSE = 0, TRUE = 1}.
pub(crate) fn is_bool_enum(names: &[String]) -> bool {
    names.len() == 2 && names[0].eq_ignore_ascii_case("false") && names[1].eq_ignore_ascii_case("true")
}

pub(crate) fn dtype(ctx: &Ctx, ds: &Dataset, object: &str) -> Result<DType> {
    ds.dtype().map_err(|e| ctx.hdf(object, e))
}

/// A whole 1-D (or 0-D) numeric dataset, its length checked against `expected`.
pub(crate) fn read_numbers(ctx: &Ctx, ds: &Dataset, object: &str, expected: Option<usize>) -> Result<Numbers> {
    let n = len_1d(ctx, ds, object)?;
    check_len(ctx, object, n, expected, "one per row of the frame")?;
    let e = |err| ctx.hdf(object, err);
    let dtype = dtype(ctx, ds, object)?;
    let numbers = match number_kind(&dtype) {
        Some(NumberKind::Float) => Numbers::Float(ds.read_f64().map_err(e)?),
        Some(NumberKind::Int) if dtype == DType::U64 => {
            let values = ds.read_u64().map_err(e)?;
            let ints: Option<Vec<i64>> = values.iter().map(|&v| i64::try_from(v).ok()).collect();
            Numbers::Int(ints.ok_or_else(|| ctx.err(object, "holds an unsigned value above 2^63"))?)
        }
        Some(NumberKind::Int) => Numbers::Int(ds.read_i64().map_err(e)?),
        Some(NumberKind::Bool) => Numbers::Bool(ds.read_u8().map_err(e)?.into_iter().map(|v| v != 0).collect()),
        None => return Err(ctx.err(object, format!("holds {dtype}; expected numbers"))),
    };
    let read = match &numbers {
        Numbers::Float(v) => v.len(),
        Numbers::Int(v) => v.len(),
        Numbers::Bool(v) => v.len(),
    };
    if read != n {
        return Err(ctx.err(object, format!("read {read} values from a dataset of {n}")));
    }
    Ok(numbers)
}

/// A whole 1-D (or 0-D) dataset as text: strings as stored (fixed-length strings lose their
/// padding), numbers as numpy's `str()` prints them (anndata categories may be numbers).
pub(crate) fn read_texts(ctx: &Ctx, ds: &Dataset, object: &str, expected: Option<usize>) -> Result<Vec<String>> {
    let n = len_1d(ctx, ds, object)?;
    check_len(ctx, object, n, expected, "one per row of the frame")?;
    let e = |err| ctx.hdf(object, err);
    let values = match dtype(ctx, ds, object)? {
        DType::String => ds.read_string().map_err(e)?,
        DType::VariableLengthString => {
            // Payloads live in the file's heaps, so a valid file's strings cannot be much larger
            // than the file; the limits stop a corrupt one from asking for far more memory.
            let options = hdf5_pure::VlenStringReadOptions::new()
                .with_max_elements(n)
                .with_max_payload_bytes(usize::try_from(ctx.file_len).unwrap_or(usize::MAX).saturating_mul(16));
            ds.read_vlen_strings(options).map_err(e)?
        }
        _ => match read_numbers(ctx, ds, object, expected)? {
            Numbers::Float(v) => {
                // numpy prints float32 values at float32 precision.
                let f32s = ds.element_size().map_err(e)? == 4;
                v.into_iter()
                    .map(|x| {
                        let sci = if f32s { format!("{:e}", x as f32) } else { format!("{x:e}") };
                        numpy_float_str(x, sci)
                    })
                    .collect()
            }
            Numbers::Int(v) => v.into_iter().map(|x| x.to_string()).collect(),
            Numbers::Bool(v) => v.into_iter().map(|x| if x { "True" } else { "False" }.to_string()).collect(),
        },
    };
    if values.len() != n {
        return Err(ctx.err(object, format!("read {} values from a dataset of {n}", values.len())));
    }
    Ok(values)
}

/// Whether a dataset holds strings.
pub(crate) fn is_text(dtype: &DType) -> bool {
    matches!(dtype, DType::String | DType::VariableLengthString)
}

// ---------------------------------------------------------------------------------------------
// Compound records (anndata < 0.7 wrote obs, var and obsm as numpy record arrays)
// ---------------------------------------------------------------------------------------------

/// One field of a compound dataset, decoded for every record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Field {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
    Text(Vec<String>),
    /// A fixed-size array per record (obsm's `X_pca` of shape (n, 50)): `width` values each.
    Array {
        width: usize,
        values: Vec<f64>,
    },
}

/// Every field of a 1-D compound dataset, in declaration order.
pub(crate) fn read_compound(ctx: &Ctx, ds: &Dataset, object: &str) -> Result<Vec<(String, Field)>> {
    let n = len_1d(ctx, ds, object)?;
    let datatype = ds.datatype().map_err(|e| ctx.hdf(object, e))?;
    let Datatype::Compound { size, members } = &datatype else {
        return Err(ctx.err(object, "is not a compound (record) dataset"));
    };
    let record = *size as usize;
    let raw = ds.read_raw().map_err(|e| ctx.hdf(object, e))?;
    if record == 0 || raw.len() != n.saturating_mul(record) {
        return Err(ctx.err(object, format!("read {} bytes for {n} records of {record} bytes", raw.len())));
    }
    let mut fields = Vec::with_capacity(members.len());
    for m in members {
        let what = format!("{object} field '{}'", m.name);
        let offset = usize::try_from(m.byte_offset).map_err(|_| ctx.err(&what, "has an impossible offset"))?;
        let width = m.datatype.type_size() as usize;
        if offset.checked_add(width).is_none_or(|end| end > record) {
            return Err(ctx.err(&what, format!("lies outside its {record}-byte record")));
        }
        let cells = raw.chunks_exact(record).map(|r| &r[offset..offset + width]);
        let field = match &m.datatype {
            Datatype::String { .. } => Field::Text(cells.map(fixed_string).collect()),
            Datatype::Array { base_type, dimensions } => {
                let count = dimensions.iter().map(|&d| d as usize).product::<usize>();
                let base = scalar_decoder(base_type).ok_or_else(|| {
                    ctx.err(&what, "is an array of a type cellcast cannot read (numbers only)".to_string())
                })?;
                let bw = base_type.type_size() as usize;
                if count.checked_mul(bw) != Some(width) {
                    return Err(ctx.err(&what, "has an array size that does not match its element type"));
                }
                let mut values = Vec::with_capacity(n.saturating_mul(count));
                for cell in cells {
                    for chunk in cell.chunks_exact(bw) {
                        values.push(base.f64(chunk));
                    }
                }
                Field::Array { width: count, values }
            }
            Datatype::Enumeration { base_type, members, .. }
                if is_bool_enum(&members.iter().map(|m| m.name.clone()).collect::<Vec<_>>()) =>
            {
                let base = scalar_decoder(base_type).ok_or_else(|| ctx.err(&what, "is an unreadable enum"))?;
                Field::Bool(cells.map(|c| base.i64(c) != 0).collect())
            }
            other => {
                let dec = scalar_decoder(other).ok_or_else(|| {
                    ctx.err(&what, "has a type cellcast cannot read (numbers, booleans and strings only)")
                })?;
                if dec.float {
                    Field::Float(cells.map(|c| dec.f64(c)).collect())
                } else {
                    Field::Int(cells.map(|c| dec.i64(c)).collect())
                }
            }
        };
        fields.push((m.name.clone(), field));
    }
    Ok(fields)
}

/// A fixed-length string cell: up to the first NUL, trailing spaces kept (numpy strips only
/// NULs), decoded as UTF-8 (invalid bytes become U+FFFD, as hdf5-pure does).
fn fixed_string(cell: &[u8]) -> String {
    let end = cell.iter().position(|&b| b == 0).unwrap_or(cell.len());
    String::from_utf8_lossy(&cell[..end]).into_owned()
}

/// A row window of a 1-D integer dataset as i64: little-endian 32- and 64-bit integers decoded
/// here in one pass the compiler vectorises (the bulk of an `.h5ad`'s `X/indices`), any other
/// type by hdf5-pure.
pub(crate) fn read_i64_rows(ds: &Dataset, start: u64, count: u64) -> std::result::Result<Vec<i64>, hdf5_pure::Error> {
    let dt = ds.datatype()?;
    let le = |o: &DatatypeByteOrder| matches!(o, DatatypeByteOrder::LittleEndian);
    match dt {
        Datatype::FixedPoint { size: 4, byte_order, layout } if le(&byte_order) => {
            let raw = ds.read_raw_rows(start, count)?;
            let four = raw.chunks_exact(4).map(|b| [b[0], b[1], b[2], b[3]]);
            Ok(if layout.signed {
                four.map(|b| i64::from(i32::from_le_bytes(b))).collect()
            } else {
                four.map(|b| i64::from(u32::from_le_bytes(b))).collect()
            })
        }
        Datatype::FixedPoint { size: 8, byte_order, layout } if le(&byte_order) && layout.signed => {
            let raw = ds.read_raw_rows(start, count)?;
            Ok(raw.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes"))).collect())
        }
        _ => ds.read_i64_rows(start, count),
    }
}

/// A row window of a sparse matrix's `indices` as column indices below `minor`, checked (see
/// [`CheckedIndices`]): little-endian 32-bit integers — nearly every `.h5ad` — decoded straight to
/// `u32` and checked in one comparison each (a negative `int32`'s bits are at least 2³¹), in
/// passes the compiler vectorises; any other type through i64.
pub(crate) fn read_index_rows(
    ds: &Dataset,
    start: u64,
    count: u64,
    minor: usize,
) -> std::result::Result<CheckedIndices, hdf5_pure::Error> {
    match ds.datatype()? {
        Datatype::FixedPoint { size: 4, byte_order: DatatypeByteOrder::LittleEndian, layout } => {
            let raw = ds.read_raw_rows(start, count)?;
            let v: Vec<u32> = raw.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            let largest = if layout.signed { 1 << 31 } else { 1 << 32 };
            // With more genes than a u32 counts, every 32-bit index is in range.
            let Ok(bound) = u32::try_from((minor as u64).min(largest)) else { return Ok(Ok(v)) };
            if v.iter().fold(true, |ok, &j| ok & (j < bound)) {
                return Ok(Ok(v));
            }
            let k = v.iter().position(|&j| j >= bound).expect("an index is out of range");
            Ok(Err((k, if layout.signed { i64::from(v[k] as i32) } else { i64::from(v[k]) })))
        }
        _ => Ok(checked_indices(&read_i64_rows(ds, start, count)?, minor)),
    }
}

/// A row window of a 1-D float dataset as f64: little-endian float32 and float64 decoded here
/// (an `.h5ad`'s `X/data`), any other type by hdf5-pure.
pub(crate) fn read_f64_rows(ds: &Dataset, start: u64, count: u64) -> std::result::Result<Vec<f64>, hdf5_pure::Error> {
    let dt = ds.datatype()?;
    match dt {
        Datatype::FloatingPoint { size: 4, byte_order: DatatypeByteOrder::LittleEndian, .. } => {
            let raw = ds.read_raw_rows(start, count)?;
            Ok(raw.chunks_exact(4).map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))).collect())
        }
        Datatype::FloatingPoint { size: 8, byte_order: DatatypeByteOrder::LittleEndian, .. } => {
            let raw = ds.read_raw_rows(start, count)?;
            Ok(raw.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))).collect())
        }
        _ => ds.read_f64_rows(start, count),
    }
}

/// Decodes one integer or float of a compound member.
struct ScalarDecoder {
    float: bool,
    signed: bool,
    big_endian: bool,
    size: usize,
}

fn scalar_decoder(dt: &Datatype) -> Option<ScalarDecoder> {
    let order = |o: &DatatypeByteOrder| match o {
        DatatypeByteOrder::LittleEndian => Some(false),
        DatatypeByteOrder::BigEndian => Some(true),
        _ => None,
    };
    match dt {
        Datatype::FixedPoint { size, byte_order, layout } if matches!(size, 1 | 2 | 4 | 8) => Some(ScalarDecoder {
            float: false,
            signed: layout.signed,
            big_endian: order(byte_order)?,
            size: *size as usize,
        }),
        Datatype::FloatingPoint { size, byte_order, .. } if matches!(size, 4 | 8) => {
            Some(ScalarDecoder { float: true, signed: true, big_endian: order(byte_order)?, size: *size as usize })
        }
        Datatype::Enumeration { base_type, .. } => scalar_decoder(base_type),
        _ => None,
    }
}

impl ScalarDecoder {
    fn bytes(&self, cell: &[u8]) -> [u8; 8] {
        let mut b = [0u8; 8];
        let src = &cell[..self.size.min(cell.len())];
        if self.big_endian {
            for (i, &x) in src.iter().rev().enumerate() {
                b[i] = x;
            }
        } else {
            b[..src.len()].copy_from_slice(src);
        }
        b
    }

    fn i64(&self, cell: &[u8]) -> i64 {
        if self.float {
            return self.f64(cell) as i64;
        }
        let b = self.bytes(cell);
        let raw = u64::from_le_bytes(b);
        let bits = 8 * self.size as u32;
        if self.signed && bits < 64 {
            let shift = 64 - bits;
            ((raw << shift) as i64) >> shift
        } else {
            raw as i64
        }
    }

    fn f64(&self, cell: &[u8]) -> f64 {
        let b = self.bytes(cell);
        match (self.float, self.size) {
            (true, 4) => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            (true, _) => f64::from_le_bytes(b),
            (false, _) if !self.signed && self.size == 8 => u64::from_le_bytes(b) as f64,
            (false, _) => self.i64(cell) as f64,
        }
    }
}

/// `path`'s last component.
pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `path`'s parent ("" for a top-level object).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

pub(crate) fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

/// A file read at explicit offsets (`pread`), small reads served from a block read once.
/// Opening an `.h5ad` makes tens of thousands of reads of a few bytes (each obs and var name is
/// an object of the HDF5 global heap, read alone); hdf5-pure's own source makes two system calls
/// for each (a seek, then the read).
pub(crate) struct PositionedFile {
    file: std::fs::File,
    len: u64,
    /// The last block read for small reads: its offset and bytes.
    block: std::sync::Mutex<(u64, Vec<u8>)>,
}

/// Reads up to this size go through the block.
const SMALL_READ: usize = 4 << 10;
/// The size of the block small reads are served from.
const BLOCK: u64 = 256 << 10;

impl PositionedFile {
    pub(crate) fn open(path: &Path) -> std::io::Result<PositionedFile> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(PositionedFile { file, len, block: std::sync::Mutex::new((0, Vec::new())) })
    }
}

impl hdf5_pure::Source for PositionedFile {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::result::Result<(), hdf5_pure::FormatError> {
        use std::os::unix::fs::FileExt;
        let io = |e: std::io::Error| hdf5_pure::FormatError::Source(e.to_string());
        let end = offset.checked_add(buf.len() as u64).filter(|&end| end <= self.len);
        let Some(end) = end else {
            return Err(hdf5_pure::FormatError::UnexpectedEof {
                expected: offset.saturating_add(buf.len() as u64) as usize,
                available: self.len as usize,
            });
        };
        if buf.len() > SMALL_READ {
            return self.file.read_exact_at(buf, offset).map_err(io);
        }
        let mut block = self.block.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (start, bytes) = &mut *block;
        if offset < *start || end > *start + bytes.len() as u64 {
            *start = offset;
            bytes.resize(BLOCK.min(self.len - offset) as usize, 0);
            if let Err(e) = self.file.read_exact_at(bytes, offset) {
                // No block rather than a block of what was not read.
                bytes.clear();
                return Err(io(e));
            }
        }
        let at = (offset - *start) as usize;
        buf.copy_from_slice(&bytes[at..at + buf.len()]);
        Ok(())
    }
}

/// The HDF5 file size, for [`check_size`].
pub(crate) fn file_len(path: &Path) -> Result<u64> {
    std::fs::metadata(path).map(|m| m.len()).map_err(crate::error::io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positioned_reads_give_the_files_bytes() {
        use hdf5_pure::Source;
        // 600 KiB of known bytes: small reads inside one block, across its end, after a large
        // read elsewhere, and reads running past the end.
        let bytes: Vec<u8> = (0..600u32 << 10).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let path = std::env::temp_dir().join(format!("cellcast-positioned-{}", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let file = PositionedFile::open(&path).unwrap();
        assert_eq!(file.len(), bytes.len() as u64);
        let reads = [(0, 9), (9, 8), (100, 4096), (262_140, 9), (262_150, 4000), (5, 300_000), (614_395, 5), (3, 1)];
        for (at, n) in reads {
            let mut buf = vec![0u8; n];
            file.read_at(at as u64, &mut buf).unwrap();
            assert_eq!(buf, bytes[at..at + n], "{n} bytes at {at}");
        }
        let mut past = vec![0u8; 9];
        assert!(file.read_at(614_396, &mut past).is_err());
        assert!(file.read_at(u64::MAX - 3, &mut past).is_err());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn scalar_decoding() {
        let le_i16 = ScalarDecoder { float: false, signed: true, big_endian: false, size: 2 };
        assert_eq!(le_i16.i64(&(-300i16).to_le_bytes()), -300);
        let be_u32 = ScalarDecoder { float: false, signed: false, big_endian: true, size: 4 };
        assert_eq!(be_u32.i64(&4_000_000_000u32.to_be_bytes()), 4_000_000_000);
        let le_f32 = ScalarDecoder { float: true, signed: true, big_endian: false, size: 4 };
        assert_eq!(le_f32.f64(&0.1f32.to_le_bytes()), f64::from(0.1f32));
        let be_f64 = ScalarDecoder { float: true, signed: true, big_endian: true, size: 8 };
        assert_eq!(be_f64.f64(&(-2.5f64).to_be_bytes()), -2.5);
        let i8d = ScalarDecoder { float: false, signed: true, big_endian: false, size: 1 };
        assert_eq!(i8d.i64(&[0xff]), -1);
    }

    #[test]
    fn fixed_strings_stop_at_nul() {
        assert_eq!(fixed_string(b"abc\0\0"), "abc");
        assert_eq!(fixed_string(b"abcde"), "abcde");
        assert_eq!(fixed_string(b"a b \0"), "a b ");
    }

    #[test]
    fn paths() {
        assert_eq!(base_name("obs/cell_type"), "cell_type");
        assert_eq!(parent("obs/cell_type"), "obs");
        assert_eq!(parent("X"), "");
        assert_eq!(join("", "X"), "X");
        assert_eq!(join("obs", "a"), "obs/a");
    }
}
