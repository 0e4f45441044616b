//! Cases: the run's flagged lines that share a party are one case, as an
//! analyst investigates them. Two flagged lines are linked when their
//! exporters resolve to one company ([`sentinel_parties::resolve`]: names, IDs and
//! addresses together, over the run's flagged lines). They are linked through the normalised
//! address the goods leave from, the ultimate consignee (name and country)
//! or the intermediate consignee (name and country) when that party is
//! concentrated among the flagged lines: at least [`LINK_SHARE`] of its
//! lines in the run are flagged. A shared warehouse or a large distributor
//! that many honest lines pass through links nothing (otherwise one such
//! hub joins most of a run's flagged lines into one case). A case is a
//! connected group of links; a flagged line that shares nothing is a case
//! of one line.
//!
//! A line below the flag line belongs to the strongest case whose flagged
//! lines share one of its parties, the exporter included, with at least two
//! flagged lines that are at least [`RELATE_SHARE`] of its lines: the other
//! shipments of parties seen often on flagged lines, shown with the case
//! ("related lines"). Such lines never link two cases. With `score
//! --list`, flagged lines whose parties match one list entry are one case. (A large exporter
//! with one flagged line keeps its other lines out of it.)
//!
//! Cases are numbered `C1`, `C2`, ... from the strongest: by case score,
//! the chance that at least one of its flagged lines is a controlled
//! misdeclaration, `1 - prod(1 - risk)`, compared in log space so that
//! large certain cases keep their order; equal scores by the best rank.

use std::collections::HashMap;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;
use sentinel_parties::keys::PartyId;

/// Every line's party ids in the run (as [`sentinel_parties::keys::RowKeys`]
/// keys them; `None` for none).
pub struct RunParties<'a> {
    pub exporter: &'a [Option<PartyId>],
    pub consignee: &'a [Option<PartyId>],
    pub address: &'a [Option<PartyId>],
    pub intermediate: &'a [Option<PartyId>],
}

/// The least share of an address's, consignee's or intermediate's lines in
/// the run that must be flagged for it to link flagged lines: half, a party
/// seen mostly on flagged lines. (A quarter joined 439 of a 200,000-line
/// world's 2,000 flagged lines into one case, through small consignees
/// shared by chance.)
pub const LINK_SHARE: f64 = 0.5;

/// The least share of a party's lines in the run that must be flagged for
/// it to bring its other lines into the case: a fifth (the ring's exporter
/// of a world where 40% of the ring's lines are flagged; not a shared
/// warehouse at 8%).
pub const RELATE_SHARE: f64 = 0.2;

/// A flagged line: its position in the run, score and rank, and its
/// exporter as resolved among the run's flagged lines
/// ([`exporter_entities`]; `None` for none).
#[derive(Debug, Clone)]
pub struct FlaggedLine {
    pub at: usize,
    pub risk: f64,
    pub rank: u32,
    pub exporter: Option<u32>,
    /// The restricted-party list entry its party matches (`score --list`).
    pub listed: Option<u32>,
}

/// The exporter entity of each of the batch's `rows` (resolved among them:
/// [`sentinel_parties::resolve`]), `None` for a row with neither name nor ID.
pub fn exporter_entities(b: &Batch, rows: &[usize]) -> Vec<Option<u32>> {
    let (names, ids, addresses) = (
        b.text(Col::UsppiName),
        b.text(Col::UsppiId),
        b.text(Col::UsppiAddress),
    );
    let records: Vec<sentinel_parties::resolve::Record> = rows
        .iter()
        .map(|&i| sentinel_parties::resolve::Record::filed(&names[i], &ids[i], &addresses[i]))
        .collect();
    let entities = sentinel_parties::resolve::resolve(&records);
    records
        .iter()
        .zip(entities)
        .map(|(r, e)| {
            if r.name.is_empty() && r.id.is_empty() {
                None
            } else {
                Some(e)
            }
        })
        .collect()
}

/// The run's cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cases {
    /// Each row's case number (1 = strongest), 0 for a row in no case.
    pub of_row: Vec<u32>,
}

impl Cases {
    /// Number of cases (they are numbered from 1 without gaps).
    pub fn count(&self) -> usize {
        self.of_row.iter().copied().max().unwrap_or(0) as usize
    }

    /// Row `i`'s case id as written (`C7`), or empty.
    pub fn id(&self, i: usize) -> Option<String> {
        match self.of_row.get(i) {
            Some(&k) if k > 0 => Some(format!("C{k}")),
            _ => None,
        }
    }
}

/// The chance that at least one of the lines is positive, as
/// `sum(ln(1 - risk))` (lower is stronger): comparable where `1 - prod`
/// would round to 1.
pub fn log_clear(risks: impl IntoIterator<Item = f64>) -> f64 {
    risks
        .into_iter()
        .filter(|r| r.is_finite())
        .map(|r| (1.0 - r.clamp(0.0, 1.0)).max(1e-300).ln())
        .sum()
}

/// The case score from [`log_clear`].
pub fn case_score(log_clear: f64) -> f64 {
    1.0 - log_clear.exp()
}

/// Levels of [`concentrated`].
const RELATES: u8 = 1;
const LINKS: u8 = 2;

/// A link between flagged lines: one party of one kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Link {
    /// Kind (1 consignee, 2 address, 3 intermediate) and id.
    Party(u8, PartyId),
    /// A resolved exporter.
    Exporter(u32),
    /// A restricted-party list entry (index over the run's lists).
    Listed(u32),
}

fn find(parent: &mut [usize], mut x: usize) -> usize {
    while parent[x] != x {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    x
}

/// How concentrated among the flagged lines each party of each kind is
/// (indexed by party id): [`LINKS`] with at least two flagged lines that
/// are at least [`LINK_SHARE`] of its lines in the run, [`RELATES`] at least
/// [`RELATE_SHARE`], else 0.
fn concentrated(kinds: &[&[Option<PartyId>]; 4], flagged: &[FlaggedLine]) -> Vec<Vec<u8>> {
    kinds
        .iter()
        .map(|ids| {
            let size = flagged
                .iter()
                .filter_map(|f| ids[f.at])
                .max()
                .map_or(0, |m| m.index() + 1);
            let mut marked = vec![0u32; size];
            for id in flagged.iter().filter_map(|f| ids[f.at]) {
                if let Some(m) = marked.get_mut(id.index()) {
                    *m += 1;
                }
            }
            let mut lines = vec![0u32; size];
            for id in ids.iter().flatten() {
                if let Some(l) = lines.get_mut(id.index()) {
                    *l += 1;
                }
            }
            marked
                .iter()
                .zip(&lines)
                .map(|(&m, &l)| {
                    let share = f64::from(m) / f64::from(l.max(1));
                    match m >= 2 {
                        true if share >= LINK_SHARE => LINKS,
                        true if share >= RELATE_SHARE => RELATES,
                        _ => 0,
                    }
                })
                .collect()
        })
        .collect()
}

/// The run's cases from its flagged lines and every line's parties.
pub fn assign(parties: &RunParties, flagged: &[FlaggedLine]) -> Cases {
    let n = parties.exporter.len();
    let kinds: [&[Option<PartyId>]; 4] = [
        parties.exporter,
        parties.consignee,
        parties.address,
        parties.intermediate,
    ];
    let dense = concentrated(&kinds, flagged);
    // A row's parties concentrated at least to `level`: (kind, id).
    let concentrated_of = |at: usize, level: u8| {
        kinds
            .iter()
            .zip(&dense)
            .enumerate()
            .filter_map(move |(k, (ids, c))| {
                let id = ids[at]?;
                c.get(id.index()).is_some_and(|&c| c >= level).then_some((k, id))
            })
    };
    let mut parent: Vec<usize> = (0..flagged.len()).collect();
    let mut first: HashMap<Link, usize> = HashMap::new();
    for (k, f) in flagged.iter().enumerate() {
        // The exporter always links (one company); other parties when concentrated.
        let mut of_line: Vec<Link> = concentrated_of(f.at, LINKS)
            .filter(|(kind, _)| *kind > 0)
            .map(|(kind, id)| Link::Party(kind as u8, id))
            .collect();
        if let Some(e) = f.exporter {
            of_line.push(Link::Exporter(e));
        }
        // A listed entry links its flagged lines, however many lines of
        // its parties the run holds.
        if let Some(e) = f.listed {
            of_line.push(Link::Listed(e));
        }
        for l in of_line {
            match first.get(&l) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, k), find(&mut parent, j));
                    // The smaller index stays the root: deterministic.
                    parent[a.max(b)] = a.min(b);
                }
                None => {
                    first.insert(l, k);
                }
            }
        }
    }
    // Each group: its score (log space) and best rank.
    let mut groups: HashMap<usize, (f64, u32)> = HashMap::new();
    let mut root_of = Vec::with_capacity(flagged.len());
    for (k, f) in flagged.iter().enumerate() {
        let r = find(&mut parent, k);
        root_of.push(r);
        let g = groups.entry(r).or_insert((0.0, u32::MAX));
        g.0 += log_clear([f.risk]);
        g.1 = g.1.min(f.rank);
    }
    let mut order: Vec<(usize, f64, u32)> = groups.into_iter().map(|(r, (s, b))| (r, s, b)).collect();
    order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)));
    let number: HashMap<usize, u32> = order
        .iter()
        .enumerate()
        .map(|(k, g)| (g.0, k as u32 + 1))
        .collect();
    let mut of_row = vec![0u32; n];
    // The strongest case of each concentrated party of a flagged line, per
    // kind, indexed by party id: one array lookup per row and kind.
    let mut by_party: Vec<Vec<u32>> = dense.iter().map(|l| vec![0u32; l.len()]).collect();
    for (f, r) in flagged.iter().zip(&root_of) {
        let case = number[r];
        of_row[f.at] = case;
        for (kind, id) in concentrated_of(f.at, RELATES) {
            let c = &mut by_party[kind][id.index()];
            if *c == 0 || case < *c {
                *c = case;
            }
        }
    }
    if !flagged.is_empty() {
        for (i, c) in of_row.iter_mut().enumerate() {
            if *c > 0 {
                continue;
            }
            *c = kinds
                .iter()
                .zip(&by_party)
                .filter_map(|(ids, cases)| ids[i].and_then(|id| cases.get(id.index())).copied())
                .filter(|&k| k > 0)
                .min()
                .unwrap_or(0);
        }
    }
    Cases { of_row }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(at: usize, risk: f64, rank: u32) -> FlaggedLine {
        FlaggedLine {
            at,
            risk,
            rank,
            exporter: None,
            listed: None,
        }
    }

    /// Party ids from numbers, [`N`] for none.
    fn ids(v: &[u32]) -> Vec<Option<PartyId>> {
        v.iter()
            .map(|&x| (x != N).then(|| PartyId::new(x as usize)))
            .collect()
    }

    const N: u32 = u32::MAX;

    #[test]
    fn flagged_lines_sharing_a_party_are_one_case_but_not_through_a_hub() {
        // Rows 0-4 are flagged. Rows 0 and 1 share an address only they
        // use; row 2 shares row 1's exporter ID; row 3 shares an
        // intermediate with row 2. Row 4 shares a consignee with row 0, but
        // ten unflagged rows (7-16) use it too: a hub that links nothing.
        // Row 5 (unflagged) has row 0's exporter, which has one flagged line
        // of two; row 6 shares nothing.
        let mut exporter = vec![1, 2, 3, 4, 5, 1, 9];
        let mut consignee = vec![40, 7, 8, 9, 40, N, 11];
        let mut address = vec![20, 20, 21, 22, 23, N, 24];
        let mut intermediate = vec![N, N, 30, 30, N, N, N];
        for k in 0..10 {
            exporter.push(100 + k);
            consignee.push(40);
            address.push(N);
            intermediate.push(N);
        }
        let (exporter, consignee) = (ids(&exporter), ids(&consignee));
        let (address, intermediate) = (ids(&address), ids(&intermediate));
        let parties = RunParties {
            exporter: &exporter,
            consignee: &consignee,
            address: &address,
            intermediate: &intermediate,
        };
        let mut flagged = vec![
            line(0, 0.9, 1),
            line(1, 0.5, 4),
            line(2, 0.4, 5),
            line(3, 0.3, 6),
            line(4, 0.95, 2),
        ];
        // Rows 1 and 2: one company (resolved: say, the same ID).
        flagged[1].exporter = Some(77);
        flagged[2].exporter = Some(77);
        let c = assign(&parties, &flagged);
        assert_eq!(c.count(), 2);
        // The four-line case is stronger than the single 0.95 line; the
        // hub's rows and the exporter's other line carry no case.
        let mut want = vec![1, 1, 1, 1, 2, 0, 0];
        want.extend([0; 10]);
        assert_eq!(c.of_row, want);
        assert_eq!(c.id(4).as_deref(), Some("C2"));
        assert_eq!(c.id(6), None);
        assert!((case_score(log_clear([0.5, 0.5])) - 0.75).abs() < 1e-12);
        // With half of its lines flagged (6 of 12) the consignee links, and
        // brings its other lines into the case.
        flagged.extend((7..11).map(|at| line(at, 0.2, at as u32 + 2)));
        let c = assign(&parties, &flagged);
        assert_eq!(c.count(), 1);
        assert_eq!(c.of_row[16], 1, "the linking consignee's other lines are related");
        assert_eq!(c.of_row[5], 0);
        assert_eq!(c.of_row[6], 0);
    }

    #[test]
    fn flagged_lines_of_one_listed_entry_are_one_case() {
        // Three flagged lines with nothing in common but the list entry
        // two of them match (their consignees' other lines keep them from
        // linking by party).
        let exporter = ids(&[1, 2, 3]);
        let consignee = ids(&[10, 11, 12]);
        let none = ids(&[N, N, N]);
        let parties = RunParties {
            exporter: &exporter,
            consignee: &consignee,
            address: &none,
            intermediate: &none,
        };
        let mut flagged = vec![line(0, 0.9, 1), line(1, 0.8, 2), line(2, 0.7, 3)];
        assert_eq!(assign(&parties, &flagged).count(), 3);
        flagged[0].listed = Some(5);
        flagged[2].listed = Some(5);
        let c = assign(&parties, &flagged);
        assert_eq!(c.count(), 2);
        assert_eq!(c.of_row[0], c.of_row[2]);
        assert_ne!(c.of_row[0], c.of_row[1]);
    }

    #[test]
    fn a_related_line_joins_the_strongest_case_and_links_nothing() {
        // Row 2 (unflagged) shares row 0's exporter and the consignee of
        // rows 1 and 3 (flagged, linked through it: 2 of its 3 lines).
        let exporter = ids(&[1, 2, 1, 3]);
        let consignee = ids(&[5, 6, 6, 6]);
        let none = ids(&[N; 4]);
        let parties = RunParties {
            exporter: &exporter,
            consignee: &consignee,
            address: &none,
            intermediate: &none,
        };
        let c = assign(&parties, &[line(0, 0.2, 3), line(1, 0.99, 1), line(3, 0.5, 2)]);
        assert_eq!(c.count(), 2);
        assert_eq!(c.of_row, vec![2, 1, 1, 1]);
        // A party with 2 of its 8 lines flagged brings its other lines in,
        // but links nothing: rows 0 and 1 stay apart.
        let exporter = ids(&[1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let consignee = ids(&[7, 7, 7, 7, 7, 7, 7, 7, N]);
        let none = ids(&[N; 9]);
        let parties = RunParties {
            exporter: &exporter,
            consignee: &consignee,
            address: &none,
            intermediate: &none,
        };
        let c = assign(&parties, &[line(0, 0.9, 1), line(1, 0.5, 2)]);
        assert_eq!(c.count(), 2);
        assert_eq!(c.of_row, vec![1, 2, 1, 1, 1, 1, 1, 1, 0]);
        // Certain lines keep their order where 1 - prod rounds to 1.
        assert!(log_clear([1.0, 1.0]) < log_clear([1.0]));
    }
}
