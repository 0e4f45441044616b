//! One cell validated against its column's kind, and a validated row
//! appended to a batch.

use std::borrow::Cow;

use crate::batch::Batch;
use crate::domain::{self, Date};
use crate::mapping::Mapping;
use crate::safe_text::cut;
use crate::schema::{Col, Kind};
use crate::tables::Tables;

/// Longest text cell kept, in bytes; a longer one is invalid.
pub const MAX_TEXT: usize = 2048;

/// The outcome of validating one cell.
pub(super) enum Cell<'a> {
    Text(Cow<'a, str>),
    Num(f64),
    Empty,
}

/// Validates one cell of a canonical column. `Err` holds why it is invalid.
pub(super) fn validate<'a>(
    col: Col,
    raw: &'a str,
    mapped_label: bool,
    mapping: Option<&Mapping>,
) -> Result<Cell<'a>, String> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(Cell::Empty);
    }
    let kind = col.spec().kind;
    let bad = || format!("`{}` is not {}", cut(t, 60), kind.accepts());
    let conv = mapping.map(|m| &m.convert);
    match kind {
        Kind::Id | Kind::Text => {
            if t.len() > MAX_TEXT {
                return Err(format!(
                    "text of {} bytes is longer than the {MAX_TEXT} accepted",
                    t.len()
                ));
            }
            Ok(Cell::Text(Cow::Borrowed(t)))
        }
        Kind::Date => {
            let fmt = conv.and_then(|c| c.date_format.as_deref()).unwrap_or("%Y-%m-%d");
            let shown_fmt = if fmt == "%Y-%m-%d" { "YYYY-MM-DD" } else { fmt };
            Date::parse_with(t, fmt)
                .map(|d| Cell::Num(d.0 as f64))
                .ok_or_else(|| format!("`{}` is not a real date in the form {shown_fmt}", cut(t, 60)))
        }
        Kind::Hs => {
            if t.len() <= 10 && t.len() >= 6 && t.bytes().all(|b| b.is_ascii_digit()) {
                Ok(Cell::Text(Cow::Borrowed(t)))
            } else {
                domain::parse_hs(t)
                    .map(|s| Cell::Text(Cow::Owned(s)))
                    .ok_or_else(bad)
            }
        }
        Kind::Country => domain::country_code(t)
            .map(|s| Cell::Text(Cow::Borrowed(s)))
            .ok_or_else(bad),
        Kind::Mode => domain::mode(t)
            .map(|s| Cell::Text(Cow::Borrowed(s)))
            .ok_or_else(bad),
        Kind::ConsigneeType => domain::consignee_type(t)
            .map(|s| Cell::Text(Cow::Borrowed(s)))
            .ok_or_else(bad),
        Kind::Eccn => domain::parse_eccn(t)
            .map(|s| Cell::Text(Cow::Owned(s)))
            .ok_or_else(bad),
        Kind::Licence => domain::parse_license(t)
            .map(|s| Cell::Text(Cow::Owned(s)))
            .ok_or_else(bad),
        Kind::PositiveNumber | Kind::NonNegativeNumber | Kind::PositiveInt | Kind::NonNegativeInt => {
            let mut v = domain::parse_number(t).ok_or_else(bad)?;
            let factor = match (col, conv) {
                (Col::ValueUsd | Col::InvoiceValueUsd, Some(c)) => c.value_factor,
                (Col::ShippingWeightKg, Some(c)) => c.weight_factor,
                _ => 1.0,
            };
            v *= factor;
            let ok = match kind {
                Kind::PositiveNumber => v > 0.0,
                Kind::NonNegativeNumber => v >= 0.0,
                Kind::PositiveInt => v > 0.0 && v.fract() == 0.0,
                _ => v >= 0.0 && v.fract() == 0.0,
            };
            if ok && v.is_finite() {
                Ok(Cell::Num(v))
            } else {
                Err(bad())
            }
        }
        Kind::Label => {
            if mapped_label {
                return Ok(Cell::Num(if t == "0" || domain::parse_number(t) == Some(0.0) {
                    0.0
                } else {
                    1.0
                }));
            }
            match domain::parse_number(t) {
                Some(v) if v == 0.0 || v == 1.0 => Ok(Cell::Num(v)),
                _ => Err(bad()),
            }
        }
        Kind::Category => {
            let l = t.to_ascii_lowercase();
            Tables::get()
                .category_index(&l)
                .map(|_| Cell::Text(Cow::Owned(l)))
                .ok_or_else(bad)
        }
    }
}

/// Appends a validated row to a batch.
pub(super) fn push(b: &mut Batch, file: u32, line: u64, row: ParsedRow) {
    b.len += 1;
    b.file.push(file);
    b.line.push(line);
    b.invalid.push(row.invalid);
    for c in Col::ALL {
        let i = c as usize;
        match &row.cells[i] {
            Cell::Text(s) => b.text[i].push(s),
            Cell::Num(v) => b.num[i].push(*v),
            Cell::Empty if c.spec().kind.numeric() => b.num[i].push(f64::NAN),
            Cell::Empty => b.text[i].push(""),
        }
    }
    for (a, v) in b.extra_cat.iter_mut().zip(&row.extra_cat) {
        a.push(v);
    }
    for (a, v) in b.extra_num.iter_mut().zip(row.extra_num) {
        a.push(v);
    }
    for (a, v) in b.carry.iter_mut().zip(&row.carry) {
        a.push(v);
    }
}

/// One validated row, borrowing from the record it was read from.
pub(super) struct ParsedRow<'a> {
    /// Indexed by `Col as usize`.
    pub(super) cells: [Cell<'a>; 32],
    pub(super) invalid: u64,
    pub(super) extra_cat: Vec<Cow<'a, str>>,
    pub(super) extra_num: Vec<f64>,
    pub(super) carry: Vec<Cow<'a, str>>,
}

impl<'a> ParsedRow<'a> {
    pub(super) fn new() -> ParsedRow<'a> {
        ParsedRow {
            cells: std::array::from_fn(|_| Cell::Empty),
            invalid: 0,
            extra_cat: Vec::new(),
            extra_num: Vec::new(),
            carry: Vec::new(),
        }
    }
}
