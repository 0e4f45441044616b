//! Party histories: what each exporter, consignee and address has filed
//! before a row. Histories start from the profiles learned at training
//! (stored with the model) and are updated by the run's own rows in
//! export_date order (ties in input order); nothing is kept between runs
//! except the model. The per-row figures depend only on the whole run, never
//! on how its rows were chunked.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::entities;
use crate::keys::{date_order, key_hash, Aliases, PartyId, RowKeys, NO_HASH};

/// What is known of one party before a row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PartyHist {
    /// Day of the first filing seen.
    pub first: i32,
    /// Lines filed.
    pub lines: u32,
    /// Lines per declared category (index of `categories.csv`).
    pub cats: Vec<u32>,
    /// Sum and count of the physical anomaly of earlier lines (see [`RowKeys::anomaly`]).
    pub anomaly_sum: f64,
    pub anomaly_n: u32,
    /// Distinct partners (consignees of an exporter, exporters of a
    /// consignee), HS6 codes and destination countries, as sorted hashes of
    /// their normalised texts ([`key_hash`]), at most [`DISTINCT_MAX`] each.
    pub partners: Vec<u32>,
    pub codes: Vec<u32>,
    pub countries: Vec<u32>,
    /// Lines with a known inspection outcome (training labels and reviewed
    /// decisions), and how many of them were found fraudulent.
    pub labelled: u32,
    pub positives: u32,
}

/// Most distinct partners, codes or countries a party's history counts:
/// past it a party is simply "many", and its memory stays bounded.
pub const DISTINCT_MAX: usize = 32;

/// Adds a hash to a sorted, bounded set.
fn add_distinct(set: &mut Vec<u32>, h: u32) {
    if set.len() >= DISTINCT_MAX {
        return;
    }
    if let Err(at) = set.binary_search(&h) {
        set.insert(at, h);
    }
}

/// Histories learned at training.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profiles {
    pub exporters: BTreeMap<String, PartyHist>,
    pub consignees: BTreeMap<String, PartyHist>,
    /// Normalised address -> exporters (entities) filing from it.
    pub addresses: BTreeMap<String, BTreeSet<String>>,
    /// The IDs exporter names were filed with, which resolve them.
    pub aliases: Aliases,
}

/// What a run knows of one party as a whole: its history before the run
/// and every line of the run (so a party's figures are the same on each of
/// its lines, whatever their dates).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PartyFacts {
    /// The party's lines in this run.
    pub run_lines: u32,
    /// Share of the run's lines (of parties of this kind) whose party files
    /// fewer lines in the run than this one: 0 for the least active, near
    /// 1 for the most. A rank, so a day's batch and a year's read alike.
    pub run_rank: f32,
    /// Distinct partners, HS6 codes and destination countries (at most [`DISTINCT_MAX`]).
    pub partners: u8,
    pub codes: u8,
    pub countries: u8,
    /// The same counts as ranks within the run: share of the run's lines
    /// (of parties of this kind) whose party has fewer. Ranks, so they
    /// read alike whatever the batch's size and period.
    pub partners_rank: f32,
    pub codes_rank: f32,
    pub countries_rank: f32,
    /// Lines with a known outcome, and how many were fraudulent.
    pub labelled: u32,
    pub positives: u32,
}

impl PartyFacts {
    fn of(h: &PartyHist, run_lines: u32) -> PartyFacts {
        PartyFacts {
            run_lines,
            run_rank: 0.0,
            partners: h.partners.len() as u8,
            codes: h.codes.len() as u8,
            countries: h.countries.len() as u8,
            partners_rank: 0.0,
            codes_rank: 0.0,
            countries_rank: 0.0,
            labelled: h.labelled,
            positives: h.positives,
        }
    }
}

/// History figures of each row (aligned with the rows they were computed
/// for), stored compactly (f32, shares as bytes, party facts once per
/// party) so a run of ten million rows keeps them in a few hundred MB.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistFeatures {
    /// Days since the exporter's first filing (0 for a first filing; NaN without a name).
    pub exporter_age: Vec<f32>,
    /// Lines the exporter filed before.
    pub exporter_lines: Vec<f32>,
    /// Share of this row's declared category in the exporter's earlier lines (NaN without history).
    pub exporter_cat_share: Vec<f32>,
    /// Share of each category in the exporter's earlier lines, in 1/255
    /// (row-major, n x categories).
    pub exporter_mix: Vec<u8>,
    /// Distinct exporters seen filing from this normalised address (this one included).
    pub address_exporters: Vec<f32>,
    /// Lines the consignee received before (NaN without a name).
    pub consignee_lines: Vec<f32>,
    /// Days since the consignee's first line.
    pub consignee_age: Vec<f32>,
    /// Mean physical anomaly of the exporter's earlier lines (NaN without any).
    pub exporter_anomaly: Vec<f32>,
    /// Mean physical anomaly of the consignee's earlier lines.
    pub consignee_anomaly: Vec<f32>,
    /// Each row's exporter and consignee (`None` without one): their
    /// places in the facts below.
    pub exporter: Vec<Option<PartyId>>,
    pub consignee: Vec<Option<PartyId>>,
    pub exporter_facts: Arc<Vec<PartyFacts>>,
    pub consignee_facts: Arc<Vec<PartyFacts>>,
    /// How the per-row ages and line counts above are spread over the
    /// whole run (a chunk or sample of rows keeps the run's).
    pub activity: Arc<RunActivity>,
}

/// How a figure is spread over a run's lines: its distinct values, sorted,
/// and how many lines hold each or less. A figure read against it is a
/// quantile of the run, so that "new", "young" or "narrow" means the same in
/// a day's batch and a year's, at one agency's volume and another's (the
/// parties' ranks in [`PartyFacts`] and the per-row ranks of their ages and
/// earlier lines).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunDistribution {
    values: Vec<f64>,
    at_or_below: Vec<u64>,
}

impl RunDistribution {
    /// The distribution of the finite values of `v`, a line each.
    pub fn of(v: &[f32]) -> RunDistribution {
        RunDistribution::weighted(v.iter().filter(|x| x.is_finite()).map(|x| (f64::from(*x), 1)))
    }

    /// The distribution of values each held by that many lines (values of
    /// no line count for nothing).
    pub fn weighted(values: impl Iterator<Item = (f64, u64)>) -> RunDistribution {
        let mut lines_with: rustc_hash::FxHashMap<u64, u64> = rustc_hash::FxHashMap::default();
        for (x, n) in values.filter(|(x, n)| x.is_finite() && *n > 0) {
            // -0.0 and 0.0 are one value. The bits are keyed byte-swapped:
            // whole numbers' low bits are all zero, which FxHash's buckets
            // would pile into one (25x slower on a million ages).
            *lines_with.entry((x + 0.0).to_bits().swap_bytes()).or_default() += n;
        }
        let mut pairs: Vec<(f64, u64)> = lines_with
            .into_iter()
            .map(|(b, n)| (f64::from_bits(b.swap_bytes()), n))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut total = 0;
        let (values, at_or_below) = pairs
            .into_iter()
            .map(|(x, n)| {
                total += n;
                (x, total)
            })
            .unzip();
        RunDistribution { values, at_or_below }
    }

    /// Lines holding less than `x`, and holding `x` (`None` for an unknown
    /// figure or an empty run), out of all.
    fn counts(&self, x: f64) -> Option<(u64, u64, u64)> {
        let &n = self.at_or_below.last()?;
        if !x.is_finite() {
            return None;
        }
        let at = self.values.partition_point(|v| *v < x);
        let below = if at == 0 { 0 } else { self.at_or_below[at - 1] };
        let equal = match self.values.get(at) {
            Some(v) if *v == x => self.at_or_below[at] - below,
            _ => 0,
        };
        Some((below, equal, n))
    }

    /// The share of the run's lines whose figure is below `x` (0 for an
    /// unknown figure or an empty run).
    pub fn share_below(&self, x: f64) -> f32 {
        self.counts(x)
            .map_or(0.0, |(below, _, n)| (below as f64 / n as f64) as f32)
    }

    /// The mid-rank of `x` in the run, in 0..1: the share of lines below it
    /// plus half the share equal to it (NaN for an unknown figure or an
    /// empty run).
    pub fn mid_rank(&self, x: f32) -> f64 {
        self.counts(f64::from(x)).map_or(f64::NAN, |(below, equal, n)| {
            (below as f64 + equal as f64 / 2.0) / n as f64
        })
    }
}

/// The run's spread of the exporters' and consignees' ages and earlier lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunActivity {
    pub exporter_age: RunDistribution,
    pub exporter_lines: RunDistribution,
    pub consignee_age: RunDistribution,
    pub consignee_lines: RunDistribution,
}

impl HistFeatures {
    /// The facts of row `i`'s exporter.
    pub fn exporter_of(&self, i: usize) -> Option<&PartyFacts> {
        self.exporter_facts
            .get(self.exporter.get(i).copied().flatten()?.index())
    }

    /// The facts of row `i`'s consignee.
    pub fn consignee_of(&self, i: usize) -> Option<&PartyFacts> {
        self.consignee_facts
            .get(self.consignee.get(i).copied().flatten()?.index())
    }
}

/// Computes each row's history figures and the profiles after the run.
pub fn compute(profiles: &Profiles, keys: &mut RowKeys, n_cat: usize) -> (HistFeatures, Profiles) {
    if !keys.resolved {
        entities::resolve(keys, &profiles.aliases);
    }
    let (mut f, after) = walk(profiles, keys, n_cat, true);
    let mut after = after.unwrap_or_default();
    after.aliases.names.extend(keys.learned.names.clone());
    after.aliases.at.extend(keys.learned.at.clone());
    f.exporter = keys.exporter.clone();
    f.consignee = keys.consignee.clone();
    (f, after)
}

/// Each row's history figures (what scoring needs: not the profiles after).
/// The keys' party ids move into the figures.
pub fn features(profiles: &Profiles, mut keys: RowKeys, n_cat: usize) -> HistFeatures {
    if !keys.resolved {
        entities::resolve(&mut keys, &profiles.aliases);
    }
    let mut f = walk(profiles, &keys, n_cat, false).0;
    f.exporter = keys.exporter;
    f.consignee = keys.consignee;
    f
}

fn walk(profiles: &Profiles, keys: &RowKeys, n_cat: usize, keep: bool) -> (HistFeatures, Option<Profiles>) {
    let order = date_order(&keys.date);
    // Exporters (with their addresses) and consignees are independent: one
    // thread each.
    let (ex, co) = std::thread::scope(|scope| {
        let co = scope.spawn(|| walk_consignees(profiles, keys, &order, n_cat));
        let ex = walk_exporters(profiles, keys, &order, n_cat);
        (ex, co.join().expect("the consignee history thread"))
    });
    let activity = Arc::new(RunActivity {
        exporter_age: RunDistribution::of(&ex.age),
        exporter_lines: RunDistribution::of(&ex.lines),
        consignee_age: RunDistribution::of(&co.age),
        consignee_lines: RunDistribution::of(&co.lines),
    });
    let f = HistFeatures {
        activity,
        exporter_age: ex.age,
        exporter_lines: ex.lines,
        exporter_cat_share: ex.cat_share,
        exporter_mix: ex.mix,
        address_exporters: ex.address_exporters,
        consignee_lines: co.lines,
        consignee_age: co.age,
        exporter_anomaly: ex.anomaly,
        consignee_anomaly: co.anomaly,
        exporter: Vec::new(),
        consignee: Vec::new(),
        exporter_facts: Arc::new(ex.facts),
        consignee_facts: Arc::new(co.facts),
    };
    if !keep {
        return (f, None);
    }
    let mut after = profiles.clone();
    for (k, v) in ex.parties.into_iter().enumerate() {
        if let Some(v) = v {
            after.exporters.insert(keys.exporters.list[k].clone(), v);
        }
    }
    for (k, v) in co.parties.into_iter().enumerate() {
        if let Some(v) = v {
            after.consignees.insert(keys.consignees.list[k].clone(), v);
        }
    }
    for (k, v) in ex.addresses.into_iter().enumerate() {
        if let Some(v) = v {
            after.addresses.insert(keys.addresses.list[k].clone(), v);
        }
    }
    (f, Some(after))
}

/// A party's history before its first row of the run: the stored profile,
/// or a fresh one starting on `day`.
fn start_hist(
    slot: &mut Option<PartyHist>,
    stored: &BTreeMap<String, PartyHist>,
    name: &str,
    day: i32,
    n_cat: usize,
) -> PartyHist {
    let mut h = slot.take().unwrap_or_else(|| {
        stored.get(name).cloned().unwrap_or_else(|| PartyHist {
            first: day,
            cats: vec![0; n_cat],
            ..PartyHist::default()
        })
    });
    h.cats.resize(n_cat, 0);
    h
}

/// Mean physical anomaly of a party's earlier lines (NaN without any).
fn mean_anomaly(h: &PartyHist) -> f32 {
    if h.anomaly_n > 0 {
        (h.anomaly_sum / h.anomaly_n as f64) as f32
    } else {
        f32::NAN
    }
}

/// Counts row `i` into a party's history; `partner` is the hash of the
/// other party ([`NO_HASH`] without one).
fn count_row(h: &mut PartyHist, keys: &RowKeys, i: usize, partner: u32) {
    h.lines += 1;
    h.cats[keys.category[i] as usize] += 1;
    let anomaly = keys.anomaly[i];
    if anomaly.is_finite() {
        h.anomaly_sum += anomaly as f64;
        h.anomaly_n += 1;
    }
    if partner != NO_HASH {
        add_distinct(&mut h.partners, partner);
    }
    add_distinct(&mut h.codes, keys.code[i]);
    if keys.country[i] != NO_HASH {
        add_distinct(&mut h.countries, keys.country[i]);
    }
    let label = keys.label.get(i).copied().unwrap_or(f32::NAN);
    if label.is_finite() {
        h.labelled += 1;
        h.positives += u32::from(label > 0.5);
    }
}

/// The stable hash of each interned key.
fn hashes(list: &[String]) -> Vec<u32> {
    list.iter().map(|k| key_hash(k)).collect()
}

/// The hash of interned key `id` ([`NO_HASH`] for none).
fn hash_of(id: Option<PartyId>, hashes: &[u32]) -> u32 {
    id.and_then(|id| hashes.get(id.index()))
        .copied()
        .unwrap_or(NO_HASH)
}

/// Each party's facts after the walk.
fn facts(parties: &[Option<PartyHist>], run_lines: &[u32]) -> Vec<PartyFacts> {
    let known = || {
        parties
            .iter()
            .zip(run_lines)
            .filter_map(|(h, n)| h.as_ref().map(|h| (h, *n)))
    };
    // Each party weighs its lines in the run.
    let spread = |figure: fn(&PartyHist) -> usize| {
        RunDistribution::weighted(known().map(|(h, n)| (figure(h) as f64, u64::from(n))))
    };
    let by_lines = RunDistribution::weighted(run_lines.iter().map(|n| (f64::from(*n), u64::from(*n))));
    let by_partners = spread(|h| h.partners.len());
    let by_codes = spread(|h| h.codes.len());
    let by_countries = spread(|h| h.countries.len());
    parties
        .iter()
        .zip(run_lines)
        .map(|(h, n)| {
            h.as_ref().map_or_else(PartyFacts::default, |h| PartyFacts {
                run_rank: by_lines.share_below(f64::from(*n)),
                partners_rank: by_partners.share_below(h.partners.len() as f64),
                codes_rank: by_codes.share_below(h.codes.len() as f64),
                countries_rank: by_countries.share_below(h.countries.len() as f64),
                ..PartyFacts::of(h, *n)
            })
        })
        .collect()
}

/// The exporter and address figures of every row, and the histories after
/// the run.
struct ExporterWalk {
    age: Vec<f32>,
    lines: Vec<f32>,
    cat_share: Vec<f32>,
    mix: Vec<u8>,
    anomaly: Vec<f32>,
    address_exporters: Vec<f32>,
    parties: Vec<Option<PartyHist>>,
    facts: Vec<PartyFacts>,
    addresses: Vec<Option<BTreeSet<String>>>,
}

fn walk_exporters(profiles: &Profiles, keys: &RowKeys, order: &[u32], n_cat: usize) -> ExporterWalk {
    let n = keys.len();
    let nan = f32::NAN;
    let mut w = ExporterWalk {
        age: vec![nan; n],
        lines: vec![0.0; n],
        cat_share: vec![nan; n],
        mix: vec![0; n * n_cat],
        anomaly: vec![nan; n],
        address_exporters: vec![nan; n],
        parties: vec![None; keys.exporters.list.len()],
        facts: Vec::new(),
        addresses: vec![None; keys.addresses.list.len()],
    };
    let partner = hashes(&keys.consignees.list);
    let mut run_lines = vec![0u32; keys.exporters.list.len()];
    // The last exporter seen at each address: most addresses have one.
    let mut last_at: Vec<Option<PartyId>> = vec![None; keys.addresses.list.len()];
    for &i in order {
        let i = i as usize;
        let day = keys.date[i];
        let cat = keys.category[i] as usize;
        let e = keys.exporter[i];
        if let Some(e) = e {
            let name = keys.exporters.key(e);
            let mut h = start_hist(&mut w.parties[e.index()], &profiles.exporters, name, day, n_cat);
            h.first = h.first.min(day);
            w.age[i] = (day - h.first) as f32;
            w.lines[i] = h.lines as f32;
            if h.lines > 0 {
                w.cat_share[i] = (h.cats[cat] as f64 / h.lines as f64) as f32;
                for (k, c) in h.cats.iter().enumerate() {
                    w.mix[i * n_cat + k] = (*c as f64 / h.lines as f64 * 255.0).round() as u8;
                }
            }
            w.anomaly[i] = mean_anomaly(&h);
            count_row(&mut h, keys, i, hash_of(keys.consignee[i], &partner));
            run_lines[e.index()] += 1;
            w.parties[e.index()] = Some(h);
        }
        if let Some(a) = keys.address[i] {
            let set = w.addresses[a.index()].get_or_insert_with(|| {
                profiles
                    .addresses
                    .get(keys.addresses.key(a))
                    .cloned()
                    .unwrap_or_default()
            });
            if let Some(e) = e.filter(|&e| last_at[a.index()] != Some(e)) {
                last_at[a.index()] = Some(e);
                let name = keys.exporters.key(e);
                if !set.contains(name) {
                    set.insert(name.to_string());
                }
            }
            w.address_exporters[i] = set.len().max(1) as f32;
        }
    }
    w.facts = facts(&w.parties, &run_lines);
    w
}

/// The consignee figures of every row, and the histories after the run.
struct ConsigneeWalk {
    lines: Vec<f32>,
    age: Vec<f32>,
    anomaly: Vec<f32>,
    parties: Vec<Option<PartyHist>>,
    facts: Vec<PartyFacts>,
}

fn walk_consignees(profiles: &Profiles, keys: &RowKeys, order: &[u32], n_cat: usize) -> ConsigneeWalk {
    let n = keys.len();
    let nan = f32::NAN;
    let mut w = ConsigneeWalk {
        lines: vec![nan; n],
        age: vec![nan; n],
        anomaly: vec![nan; n],
        parties: vec![None; keys.consignees.list.len()],
        facts: Vec::new(),
    };
    let partner = hashes(&keys.exporters.list);
    let mut run_lines = vec![0u32; keys.consignees.list.len()];
    for &i in order {
        let i = i as usize;
        let Some(c) = keys.consignee[i] else {
            continue;
        };
        let day = keys.date[i];
        let name = keys.consignees.key(c);
        let mut h = start_hist(&mut w.parties[c.index()], &profiles.consignees, name, day, n_cat);
        h.first = h.first.min(day);
        w.lines[i] = h.lines as f32;
        w.age[i] = (day - h.first) as f32;
        w.anomaly[i] = mean_anomaly(&h);
        count_row(&mut h, keys, i, hash_of(keys.exporter[i], &partner));
        run_lines[c.index()] += 1;
        w.parties[c.index()] = Some(h);
    }
    w.facts = facts(&w.parties, &run_lines);
    w
}

impl HistFeatures {
    /// Rows it holds figures for.
    pub fn len(&self) -> usize {
        self.exporter_age.len()
    }

    pub fn is_empty(&self) -> bool {
        self.exporter_age.is_empty()
    }

    /// The rows `idx`, in that order.
    pub fn select(&self, idx: &[usize], n_cat: usize) -> HistFeatures {
        let pick = |v: &[f32]| idx.iter().map(|&i| v[i]).collect::<Vec<f32>>();
        HistFeatures {
            exporter_age: pick(&self.exporter_age),
            exporter_lines: pick(&self.exporter_lines),
            exporter_cat_share: pick(&self.exporter_cat_share),
            exporter_mix: idx
                .iter()
                .flat_map(|&i| self.exporter_mix[i * n_cat..(i + 1) * n_cat].iter().copied())
                .collect(),
            address_exporters: pick(&self.address_exporters),
            consignee_lines: pick(&self.consignee_lines),
            consignee_age: pick(&self.consignee_age),
            exporter_anomaly: pick(&self.exporter_anomaly),
            consignee_anomaly: pick(&self.consignee_anomaly),
            exporter: idx.iter().map(|&i| self.exporter[i]).collect(),
            consignee: idx.iter().map(|&i| self.consignee[i]).collect(),
            exporter_facts: Arc::clone(&self.exporter_facts),
            consignee_facts: Arc::clone(&self.consignee_facts),
            activity: Arc::clone(&self.activity),
        }
    }

    /// The rows `start..end`, for scoring a run chunk by chunk.
    pub fn slice(&self, start: usize, end: usize, n_cat: usize) -> HistFeatures {
        HistFeatures {
            exporter_age: self.exporter_age[start..end].to_vec(),
            exporter_lines: self.exporter_lines[start..end].to_vec(),
            exporter_cat_share: self.exporter_cat_share[start..end].to_vec(),
            exporter_mix: self.exporter_mix[start * n_cat..end * n_cat].to_vec(),
            address_exporters: self.address_exporters[start..end].to_vec(),
            consignee_lines: self.consignee_lines[start..end].to_vec(),
            consignee_age: self.consignee_age[start..end].to_vec(),
            exporter_anomaly: self.exporter_anomaly[start..end].to_vec(),
            consignee_anomaly: self.consignee_anomaly[start..end].to_vec(),
            exporter: self.exporter[start..end].to_vec(),
            consignee: self.consignee[start..end].to_vec(),
            exporter_facts: Arc::clone(&self.exporter_facts),
            consignee_facts: Arc::clone(&self.consignee_facts),
            activity: Arc::clone(&self.activity),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(rows: &[(i32, &str, &str, u8)]) -> RowKeys {
        let mut k = RowKeys::default();
        for (d, e, a, c) in rows {
            k.date.push(*d);
            let e = k.records.id(&crate::keys::record_key(e, ""));
            k.record.push(e);
            k.consignee.push(None);
            let a = k.addresses.id(a);
            k.address.push(a);
            k.category.push(*c);
            k.code.push(0);
            k.country.push(NO_HASH);
            k.anomaly.push(f32::NAN);
        }
        k
    }

    #[test]
    fn party_facts_count_the_run_and_rank_activity() {
        // A files 3 lines to two consignees, B one line.
        let mut k = keys(&[
            (1, "A", "X", 0),
            (2, "A", "X", 1),
            (3, "A", "X", 0),
            (4, "B", "Y", 0),
        ]);
        k.consignee = vec![
            k.consignees.id("C1"),
            k.consignees.id("C2"),
            k.consignees.id("C1"),
            k.consignees.id("C1"),
        ];
        k.code = vec![1, 2, 2, 3];
        k.label = vec![1.0, 0.0, f32::NAN, 0.0];
        let (f, after) = compute(&Profiles::default(), &mut k, 2);
        let a = f.exporter_of(0).copied().expect("A");
        assert_eq!((a.run_lines, a.partners, a.codes), (3, 2, 2));
        assert_eq!((a.labelled, a.positives), (2, 1));
        assert_eq!(f.exporter_of(3).map(|b| b.run_lines), Some(1));
        // B's one line is below none; A's three lines are above B's one.
        assert_eq!(f.exporter_of(3).map(|b| b.run_rank), Some(0.0));
        assert_eq!(a.run_rank, 0.25);
        // A's two consignees and two codes beat B's one on B's one line.
        assert_eq!((a.partners_rank, a.codes_rank), (0.25, 0.25));
        assert_eq!(
            f.exporter_of(3).map(|b| (b.partners, b.partners_rank)),
            Some((1, 0.0))
        );
        let c1 = f.consignee_of(0).copied().expect("C1");
        assert_eq!((c1.run_lines, c1.partners), (3, 2));
        // C1 (two exporters, three lines) above C2 (one exporter, one line).
        assert_eq!(c1.partners_rank, 0.25);
        // The profiles carry the sets and outcomes into the next run.
        assert_eq!(after.exporters["A"].partners.len(), 2);
        assert_eq!(after.exporters["A"].labelled, 2);
        // A scored run never counts its own labels.
        let g = features(&after, keys(&[(9, "A", "X", 0)]), 2);
        assert_eq!(g.exporter_of(0).map(|a| (a.labelled, a.run_lines)), Some((2, 1)));
    }

    #[test]
    fn rows_see_only_earlier_dates_and_ties_in_input_order() {
        // Input order is not date order: the day-5 row comes first.
        let mut k = keys(&[
            (5, "A", "X", 1),
            (1, "A", "X", 0),
            (5, "A", "X", 0),
            (3, "B", "X", 0),
        ]);
        let (f, after) = compute(&Profiles::default(), &mut k, 2);
        assert_eq!(f.exporter_lines, [1.0, 0.0, 2.0, 0.0]);
        assert_eq!(f.exporter_age, [4.0, 0.0, 4.0, 0.0]);
        assert!(f.exporter_cat_share[1].is_nan());
        assert_eq!(f.exporter_cat_share[0], 0.0, "first A line was category 0");
        assert_eq!(f.exporter_cat_share[2], 0.5);
        assert_eq!(f.address_exporters, [2.0, 1.0, 2.0, 2.0]);
        assert_eq!(after.exporters["A"].lines, 3);
        // Starting from the profiles, a new run sees the old history.
        let (g, _) = compute(&after, &mut keys(&[(10, "A", "Y", 1)]), 2);
        assert_eq!(g.exporter_lines, [3.0]);
        assert_eq!(g.exporter_age, [9.0]);
    }

    #[test]
    fn a_figure_reads_as_its_mid_rank_in_the_run() {
        // Five lines of new parties (one written -0.0), two with 3 earlier
        // lines, two with 10, one unknown.
        let d = RunDistribution::of(&[0.0, 0.0, 3.0, 0.0, 10.0, f32::NAN, 0.0, 3.0, 10.0, -0.0]);
        // Five of nine known figures are 0: half of them count.
        assert!((d.mid_rank(0.0) - 2.5 / 9.0).abs() < 1e-12);
        assert!((d.mid_rank(3.0) - 6.0 / 9.0).abs() < 1e-12);
        assert!((d.mid_rank(10.0) - 8.0 / 9.0).abs() < 1e-12);
        // Between and beyond the run's figures.
        assert!((d.mid_rank(5.0) - 7.0 / 9.0).abs() < 1e-12);
        assert_eq!(d.mid_rank(-1.0), 0.0);
        assert_eq!(d.mid_rank(99.0), 1.0);
        assert!(d.mid_rank(f32::NAN).is_nan());
        assert!(RunDistribution::of(&[f32::NAN]).mid_rank(1.0).is_nan());
        // The same "new" reads as rarer in a run where few lines are new.
        let mostly_old = RunDistribution::of(&[0.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0]);
        assert!(mostly_old.mid_rank(0.0) < d.mid_rank(0.0));
        // Weighted by lines: the share of lines strictly below.
        let w = RunDistribution::weighted([(1.0, 3), (4.0, 1), (2.0, 0), (9.0, 4)].into_iter());
        assert_eq!(w.share_below(1.0), 0.0);
        assert_eq!(w.share_below(4.0), 3.0 / 8.0);
        assert_eq!(w.share_below(9.0), 0.5);
        assert_eq!(w.share_below(2.0), 3.0 / 8.0);
        assert_eq!(RunDistribution::default().share_below(1.0), 0.0);
    }
}
