//! A column of strings stored in one buffer with end offsets (as Arrow
//! does), so reading a million rows does not allocate a million strings.

use std::ops::Index;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrCol {
    data: String,
    ends: Vec<usize>,
}

impl StrCol {
    pub fn new() -> StrCol {
        StrCol::default()
    }

    pub fn with_capacity(rows: usize, bytes: usize) -> StrCol {
        StrCol {
            data: String::with_capacity(bytes),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Room for `rows` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, rows: usize, bytes: usize) {
        self.data.reserve(bytes);
        self.ends.reserve(rows);
    }

    pub fn push(&mut self, s: &str) {
        self.data.push_str(s);
        self.ends.push(self.data.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Appends `other`'s strings (one copy of its buffer).
    pub fn extend_from(&mut self, other: &StrCol) {
        let offset = self.data.len();
        self.data.push_str(&other.data);
        self.ends.extend(other.ends.iter().map(|e| e + offset));
    }

    /// The rows in `idx` order.
    pub fn take(&self, idx: &[usize]) -> StrCol {
        let mut out = StrCol::with_capacity(idx.len(), 0);
        for &i in idx {
            out.push(self.get(i));
        }
        out
    }
}

impl Index<usize> for StrCol {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        self.get(i)
    }
}

impl<'a> FromIterator<&'a str> for StrCol {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> StrCol {
        let mut c = StrCol::new();
        for s in iter {
            c.push(s);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_get_iter() {
        let mut c = StrCol::new();
        for s in ["a", "", "héllo", "x,y"] {
            c.push(s);
        }
        assert_eq!(c.len(), 4);
        assert_eq!(&c[2], "héllo");
        assert_eq!(c.get(1), "");
        assert_eq!(c.iter().collect::<Vec<_>>(), ["a", "", "héllo", "x,y"]);
        let t = c.take(&[3, 0]);
        assert_eq!(t.iter().collect::<Vec<_>>(), ["x,y", "a"]);
        let mut joined = t.clone();
        joined.extend_from(&c);
        joined.extend_from(&StrCol::new());
        assert_eq!(
            joined.iter().collect::<Vec<_>>(),
            ["x,y", "a", "a", "", "héllo", "x,y"]
        );
        assert_eq!(
            joined,
            ["x,y", "a", "a", "", "héllo", "x,y"]
                .into_iter()
                .collect::<StrCol>()
        );
    }
}
