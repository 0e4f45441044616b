//! A restricted-party list in the Consolidated Screening List's published
//! CSV layout (trade.gov's downloadable CSL, or an agency's own watch list
//! in the same layout): a header naming `_id, source, entity_number, type,
//! programs, name, title, addresses, ...`, one entry a row, names and
//! aliases (`alt_names`) separated by `; `, addresses separated by `; `
//! with the country code last. Only `_id`, `source` and `name` must be
//! there; `alt_names`, `addresses`, `citizenships` and `nationalities` are
//! read when they are.
//!
//! The list is data from outside: a bad header, bad quoting, a cell over
//! [`MAX_CELL`] bytes or text that is not UTF-8 refuses the list with its
//! file, line and column; an entry without a name is skipped and counted,
//! with its line.

use std::io::Read;
use std::path::Path;

use thiserror::Error;

/// The largest cell read (a longer one refuses the list).
pub const MAX_CELL: usize = 64 * 1024;

/// Entries read at most from one list.
pub const MAX_ENTRIES: usize = 2_000_000;

/// Why a list was refused.
#[derive(Debug, Error)]
pub enum ListError {
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("{file}: line {line}: {message}")]
    Bad {
        file: String,
        line: u64,
        message: String,
    },
}

/// One entry of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `_id` (or, without one, `source:entity_number`).
    pub id: String,
    pub source: String,
    /// The entry's name, then its aliases.
    pub names: Vec<String>,
    /// Country codes of its addresses, citizenships and nationalities.
    pub countries: Vec<String>,
    /// Its addresses, normalised ([`crate::normalize::address`], the
    /// country code dropped).
    pub addresses: Vec<String>,
    /// The file it came from (index into [`List::files`]) and its line.
    pub file: u32,
    pub line: u64,
}

/// Entries of one or more lists.
#[derive(Debug, Clone, Default)]
pub struct List {
    pub entries: Vec<Entry>,
    pub files: Vec<String>,
    /// Entries skipped, with why: (file, line, reason).
    pub skipped: Vec<(String, u64, String)>,
}

/// The columns read, by their header names.
struct Columns {
    id: usize,
    source: usize,
    name: usize,
    entity_number: Option<usize>,
    alt_names: Option<usize>,
    addresses: Option<usize>,
    citizenships: Option<usize>,
    nationalities: Option<usize>,
}

impl Columns {
    fn of(header: &[String]) -> Result<Columns, String> {
        let at = |n: &str| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == n)
        };
        let need = |n: &str| {
            at(n).ok_or_else(|| format!("the header has no `{n}` column (the Consolidated Screening List layout: _id, source, entity_number, type, programs, name, ..., alt_names, ...)"))
        };
        Ok(Columns {
            id: need("_id")?,
            source: need("source")?,
            name: need("name")?,
            entity_number: at("entity_number"),
            alt_names: at("alt_names"),
            addresses: at("addresses"),
            citizenships: at("citizenships"),
            nationalities: at("nationalities"),
        })
    }
}

/// Splits a `; `-separated cell into its trimmed, non-empty parts.
fn parts(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(';').map(str::trim).filter(|s| !s.is_empty())
}

/// A two-letter country code, upper case, when `s` is one.
fn country_code(s: &str) -> Option<String> {
    let s = s.trim();
    (s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic())).then(|| s.to_ascii_uppercase())
}

impl List {
    /// Reads a list file and adds its entries.
    pub fn add_file(&mut self, path: &Path) -> Result<(), ListError> {
        let file = path.display().to_string();
        let f = std::fs::File::open(path).map_err(|e| ListError::Unreadable {
            file: file.clone(),
            message: e.to_string(),
        })?;
        self.add_reader(&file, f)
    }

    /// Reads a list from `r` (named `file` in messages) and adds its entries.
    pub fn add_reader(&mut self, file: &str, r: impl Read) -> Result<(), ListError> {
        let bad = |line: u64, message: String| ListError::Bad {
            file: file.to_string(),
            line,
            message,
        };
        let mut rd = csv::ReaderBuilder::new().has_headers(false).from_reader(r);
        let mut rec = csv::ByteRecord::new();
        let text_of = |rec: &csv::ByteRecord, line: u64| -> Result<Vec<String>, ListError> {
            rec.iter()
                .enumerate()
                .map(|(c, cell)| {
                    if cell.len() > MAX_CELL {
                        return Err(bad(
                            line,
                            format!(
                                "column {}: a cell of {} bytes (at most {MAX_CELL})",
                                c + 1,
                                cell.len()
                            ),
                        ));
                    }
                    std::str::from_utf8(cell).map(str::to_string).map_err(|e| {
                        bad(
                            line,
                            format!(
                                "column {}: not UTF-8 text (byte {} of the cell)",
                                c + 1,
                                e.valid_up_to() + 1
                            ),
                        )
                    })
                })
                .collect()
        };
        let read = |rd: &mut csv::Reader<_>, rec: &mut csv::ByteRecord| -> Result<bool, ListError> {
            rd.read_byte_record(rec).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                bad(line, format!("not CSV as the list layout writes it: {e}"))
            })
        };
        if !read(&mut rd, &mut rec)? {
            return Err(bad(1, "empty: no header".into()));
        }
        let header = text_of(&rec, 1)?;
        let cols = Columns::of(&header).map_err(|m| bad(1, m))?;
        let file_at = self.files.len() as u32;
        self.files.push(file.to_string());
        while read(&mut rd, &mut rec)? {
            let line = rec.position().map_or(0, |p| p.line());
            if self.entries.len() >= MAX_ENTRIES {
                return Err(bad(line, format!("more than {MAX_ENTRIES} entries")));
            }
            let row = text_of(&rec, line)?;
            let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).map_or("", |s| s.as_str());
            let name = cell(Some(cols.name)).trim();
            if name.contains(['\n', '\r']) || cell(cols.alt_names).contains(['\n', '\r']) {
                return Err(bad(
                    line,
                    "a name over several lines (a quote left open?)".to_string(),
                ));
            }
            if crate::screen::tokens::tokens(name).is_empty() {
                self.skipped.push((file.to_string(), line, "no name".into()));
                continue;
            }
            let mut names = vec![name.to_string()];
            names.extend(parts(cell(cols.alt_names)).map(str::to_string));
            let mut countries: Vec<String> = parts(cell(cols.addresses))
                .filter_map(|a| a.rsplit(',').next().and_then(country_code))
                .chain(parts(cell(cols.citizenships)).filter_map(country_code))
                .chain(parts(cell(cols.nationalities)).filter_map(country_code))
                .collect();
            countries.sort();
            countries.dedup();
            let mut addresses: Vec<String> = parts(cell(cols.addresses))
                .map(|a| match a.rsplit_once(',') {
                    Some((rest, cc)) if country_code(cc).is_some() => rest,
                    _ => a,
                })
                .map(crate::normalize::address)
                .filter(|a| !a.is_empty())
                .collect();
            addresses.sort();
            addresses.dedup();
            let source = cell(Some(cols.source)).trim().to_string();
            let id = match cell(Some(cols.id)).trim() {
                "" => format!("{source}:{}", cell(cols.entity_number).trim()),
                id => id.to_string(),
            };
            self.entries.push(Entry {
                id,
                source,
                names,
                countries,
                addresses,
                file: file_at,
                line,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "_id,source,entity_number,type,programs,name,title,addresses,federal_register_notice,start_date,end_date,standard_order,license_requirement,license_policy,call_sign,vessel_type,gross_tonnage,gross_registered_tonnage,vessel_flag,vessel_owner,remarks,source_list_url,alt_names,citizenships,dates_of_birth,nationalities,places_of_birth,source_information_url,ids\n";

    fn read(text: &[u8]) -> Result<List, ListError> {
        let mut l = List::default();
        l.add_reader("list.csv", text).map(|_| l)
    }

    #[test]
    fn reads_the_published_layout() {
        let text = format!(
            "{HEADER}e1,Entity List (EL) - Bureau of Industry and Security,,Entity,,Apex Global Trading Ltd,,\"Room 5, 8 Harbour Rd, Wan Chai, HK; 2 Jalan Ampang, Kuala Lumpur, MY\",,,,,,,,,,,,,,,Apex Global; APEX GLOBAL TRADING CO.,,,,,,\n\
             e2,Denied Persons List (DPL) - Bureau of Industry and Security,,Individual,,\"Zhang, Wei\",,,,,,,,,,,,,,,,,,CN,,,,,\n"
        );
        let l = read(text.as_bytes()).unwrap();
        assert_eq!(l.entries.len(), 2);
        let e = &l.entries[0];
        assert_eq!(e.id, "e1");
        assert_eq!(
            e.names,
            [
                "Apex Global Trading Ltd",
                "Apex Global",
                "APEX GLOBAL TRADING CO."
            ]
        );
        assert_eq!(e.countries, ["HK", "MY"]);
        assert_eq!(e.line, 2);
        assert_eq!(l.entries[1].countries, ["CN"]);
    }

    #[test]
    fn a_hostile_list_is_refused_with_its_line() {
        // No name column.
        let err = read(b"_id,source,title\n1,x,y\n").unwrap_err().to_string();
        assert!(
            err.contains("list.csv: line 1") && err.contains("`name`"),
            "{err}"
        );
        // Bad quoting: a row with more cells than the header.
        let err = read(format!("{HEADER}a,b,c,\"d\"e\",f\n").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        // A 1 MB cell.
        let big = "x".repeat(1 << 20);
        let err = read(format!("_id,source,name\n1,s,ok\n2,s,{big}\n").as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("column 3") && err.contains("bytes"),
            "{err}"
        );
        // Not UTF-8.
        let mut bytes = b"_id,source,name\n1,s,ok\n2,s,Caf".to_vec();
        bytes.extend([0xe9, b'\n']);
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("UTF-8"), "{err}");
        // Empty.
        assert!(read(b"").unwrap_err().to_string().contains("no header"));
    }

    #[test]
    fn entries_without_a_name_are_skipped_and_counted() {
        let l = read(b"_id,source,name\n1,s,\n2,s,  .-; \n3,s,Real Name\n").unwrap();
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.skipped.len(), 2);
        assert_eq!(l.skipped[0].1, 2);
        assert_eq!(l.skipped[1].1, 3);
    }
}
