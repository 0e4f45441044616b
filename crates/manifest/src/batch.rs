//! [`Batch`]: validated rows, column by column, the data every layer after
//! the reader works on. The reader builds batches; features, histories,
//! models, scoring and reports read them.

use crate::domain::Date;
use crate::schema::{Col, Kind};
use crate::strcol::StrCol;

/// Validated rows, column by column. Text cells are `""` when empty,
/// numeric cells (and dates, as day numbers) `NaN` when empty.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    pub len: usize,
    /// Index of the input file (into [`crate::reader::Reader::file_names`]).
    pub file: Vec<u32>,
    /// Physical line on which the record starts (Parquet: row index + 1).
    pub line: Vec<u64>,
    pub(crate) text: Vec<StrCol>,
    pub(crate) num: Vec<Vec<f64>>,
    /// Bit `Col::bit()` set where the reader emptied an invalid cell.
    pub invalid: Vec<u64>,
    /// Mapping's categorical feature columns, in mapping order.
    pub extra_cat: Vec<StrCol>,
    /// Mapping's numeric feature columns, in mapping order.
    pub extra_num: Vec<Vec<f64>>,
    /// Columns carried through untouched, in [`crate::reader::Reader::carry_names`] order.
    pub carry: Vec<StrCol>,
}

impl Batch {
    pub(crate) fn with_shape(n_cat: usize, n_num: usize, n_carry: usize) -> Batch {
        let mut b = Batch {
            text: vec![StrCol::new(); Col::ALL.len()],
            num: vec![Vec::new(); Col::ALL.len()],
            ..Batch::default()
        };
        b.extra_cat = vec![StrCol::new(); n_cat];
        b.extra_num = vec![Vec::new(); n_num];
        b.carry = vec![StrCol::new(); n_carry];
        b
    }

    /// A copy of the rows with only the text columns `cols` (the others
    /// empty): what another thread needs of a chunk, without the rest.
    pub fn text_columns(&self, cols: &[Col]) -> Batch {
        let mut b = Batch {
            len: self.len,
            text: vec![StrCol::new(); Col::ALL.len()],
            num: vec![Vec::new(); Col::ALL.len()],
            ..Batch::default()
        };
        for &c in cols {
            b.text[c as usize] = self.text[c as usize].clone();
        }
        b
    }

    /// Text cells of a text column.
    pub fn text(&self, c: Col) -> &StrCol {
        &self.text[c as usize]
    }

    /// Values of a numeric column (dates as day numbers).
    pub fn num(&self, c: Col) -> &[f64] {
        &self.num[c as usize]
    }

    /// The cell of a canonical column as text: validated text, numbers as
    /// written by Rust, dates as YYYY-MM-DD, `""` when empty.
    pub fn cell_text(&self, c: Col, i: usize) -> String {
        if !c.spec().kind.numeric() {
            return self.text(c)[i].to_string();
        }
        let v = self.num(c)[i];
        if v.is_nan() {
            String::new()
        } else if c.spec().kind == Kind::Date {
            Date(v as i32).to_string()
        } else {
            format!("{v}")
        }
    }

    /// Mutable text column (for generators and tests that build batches).
    pub fn text_mut(&mut self, c: Col) -> &mut StrCol {
        &mut self.text[c as usize]
    }

    pub fn num_mut(&mut self, c: Col) -> &mut Vec<f64> {
        &mut self.num[c as usize]
    }

    /// An empty batch with every canonical column and no extras.
    pub fn empty() -> Batch {
        Batch::with_shape(0, 0, 0)
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize]) -> Batch {
        Batch {
            len: idx.len(),
            file: idx.iter().map(|&i| self.file[i]).collect(),
            line: idx.iter().map(|&i| self.line[i]).collect(),
            text: self
                .text
                .iter()
                .map(|c| if c.is_empty() { StrCol::new() } else { c.take(idx) })
                .collect(),
            num: self
                .num
                .iter()
                .map(|c| {
                    if c.is_empty() {
                        Vec::new()
                    } else {
                        idx.iter().map(|&i| c[i]).collect()
                    }
                })
                .collect(),
            invalid: idx.iter().map(|&i| self.invalid[i]).collect(),
            extra_cat: self.extra_cat.iter().map(|c| c.take(idx)).collect(),
            extra_num: self
                .extra_num
                .iter()
                .map(|c| idx.iter().map(|&i| c[i]).collect())
                .collect(),
            carry: self.carry.iter().map(|c| c.take(idx)).collect(),
        }
    }

    /// Appends `other`'s rows (same extras layout); an empty batch takes
    /// `other` whole.
    pub fn append(&mut self, other: Batch) {
        if self.len == 0 {
            *self = other;
            return;
        }
        self.len += other.len;
        self.file.extend(other.file);
        self.line.extend(other.line);
        self.invalid.extend(other.invalid);
        for (a, b) in self.text.iter_mut().zip(&other.text) {
            a.extend_from(b);
        }
        for (a, b) in self.num.iter_mut().zip(other.num) {
            a.extend(b);
        }
        for (a, b) in self.extra_cat.iter_mut().zip(&other.extra_cat) {
            a.extend_from(b);
        }
        for (a, b) in self.extra_num.iter_mut().zip(other.extra_num) {
            a.extend(b);
        }
        for (a, b) in self.carry.iter_mut().zip(&other.carry) {
            a.extend_from(b);
        }
    }
}
