//! The review store: flagged shipments and analysts' decisions in SQLite
//! (bundled; no server), schema versioned, every write in a transaction,
//! every change of a decision kept in its history. Decided shipments flow
//! back into training as labels (confirmed = 1, cleared = 0; `inspect` and
//! undecided rows are unknown, never 0).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use sentinel_manifest::batch::Batch;
use sentinel_manifest::schema::Col;
use sentinel_manifest::tables::Tables;
use sentinel_scoring::scored::{spreadsheet_safe, ScoredRow};

/// What the review database and the desk refuse: exit 2 (and HTTP 400 at
/// the desk).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// A database of another schema, or a damaged one.
    #[error("{0}")]
    Schema(String),
    /// A scored file that cannot be read.
    #[error("{0}")]
    Unreadable(String),
    /// A shipment the database does not hold.
    #[error("{0}")]
    Unknown(String),
    /// A case decision for a shipment in no case, or lines not of its case.
    #[error("{0}")]
    NotInCase(String),
    /// A decision without a reviewer, or with goods found that are no
    /// category.
    #[error("{0}")]
    Decision(String),
    /// A desk token or bind address that would leave the desk open.
    #[error("{0}")]
    Access(String),
}

impl ReviewError {
    pub fn exit_code(&self) -> u8 {
        sentinel_manifest::error::EXIT_INPUT
    }
}

/// Version of the database layout. Version 2 adds each shipment's case and
/// the record of case decisions; a version 1 database is brought up to it
/// when opened.
pub const SCHEMA_VERSION: i64 = 3;

/// A decision on a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Decision {
    /// Misdeclared: label 1.
    Confirmed,
    /// Honest: label 0.
    Cleared,
    /// Sent to physical inspection: outcome unknown.
    Inspect,
}

impl std::str::FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Decision, String> {
        match s {
            "confirmed" => Ok(Decision::Confirmed),
            "cleared" => Ok(Decision::Cleared),
            "inspect" => Ok(Decision::Inspect),
            _ => Err(format!(
                "decision `{s}` is not one of confirmed, cleared, inspect"
            )),
        }
    }
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Confirmed => "confirmed",
            Decision::Cleared => "cleared",
            Decision::Inspect => "inspect",
        }
    }
}

pub struct Store {
    conn: Connection,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating when absent) a review database.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)
            .with_context(|| format!("{}: cannot open the review database", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS shipments(
               shipment_id TEXT PRIMARY KEY, batch TEXT NOT NULL, imported_at INTEGER NOT NULL,
               rank INTEGER, risk_score REAL, flagged INTEGER NOT NULL, declared_category TEXT, likely_category TEXT,
               likely_probability REAL, reason_codes TEXT, reasons TEXT, model_id TEXT, manifest TEXT NOT NULL, case_id TEXT,
               entity TEXT);
             CREATE TABLE IF NOT EXISTS decisions(
               shipment_id TEXT PRIMARY KEY REFERENCES shipments(shipment_id),
               decision TEXT NOT NULL CHECK(decision IN ('confirmed','cleared','inspect')),
               goods_found TEXT, reviewer TEXT NOT NULL, note TEXT, updated_at INTEGER NOT NULL, version INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS queue(position INTEGER PRIMARY KEY, shipment_id TEXT NOT NULL, explore INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS decision_history(
               id INTEGER PRIMARY KEY AUTOINCREMENT, shipment_id TEXT NOT NULL, at INTEGER NOT NULL, reviewer TEXT NOT NULL,
               before_decision TEXT, after_decision TEXT NOT NULL, before_goods TEXT, after_goods TEXT, note TEXT);
             CREATE TABLE IF NOT EXISTS case_decisions(
               id INTEGER PRIMARY KEY AUTOINCREMENT, batch TEXT NOT NULL, case_id TEXT NOT NULL, at INTEGER NOT NULL, reviewer TEXT NOT NULL,
               decision TEXT NOT NULL, goods_found TEXT, note TEXT, decided TEXT NOT NULL, exceptions TEXT NOT NULL);",
        )
        .with_context(|| format!("{}: not a review database", path.display()))?;
        let version: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| {
                r.get(0)
            })
            .optional()?;
        match version.as_deref().map(str::parse::<i64>) {
            None => {
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
                    params![SCHEMA_VERSION.to_string()],
                )?;
            }
            Some(Ok(v)) if v == SCHEMA_VERSION => {}
            Some(Ok(1 | 2)) => {
                // Version 1 had no cases, version 2 no exporter entities:
                // add the columns (the table of case decisions is created
                // above). Lines imported before keep no entity.
                let tx = conn.unchecked_transaction()?;
                for column in ["case_id", "entity"] {
                    let has: bool = tx
                        .prepare("SELECT 1 FROM pragma_table_info('shipments') WHERE name = ?1")?
                        .exists([column])?;
                    if !has {
                        tx.execute(&format!("ALTER TABLE shipments ADD COLUMN {column} TEXT"), [])?;
                    }
                }
                tx.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                    params![SCHEMA_VERSION.to_string()],
                )?;
                tx.commit()?;
            }
            Some(Ok(v)) => {
                return Err(ReviewError::Schema(format!(
                    "{}: review database schema {v}, this sentinel reads schema {SCHEMA_VERSION}",
                    path.display()
                ))
                .into())
            }
            Some(Err(_)) => {
                return Err(ReviewError::Schema(format!(
                    "{}: review database has a damaged schema version",
                    path.display()
                ))
                .into())
            }
        }
        conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS shipments_case ON shipments(batch, case_id);
             CREATE INDEX IF NOT EXISTS shipments_entity ON shipments(entity);",
        )?;
        Ok(Store { conn })
    }

    /// Loads a scored batch (with the batch it was scored from) into the
    /// store, in one transaction. Returns the number of shipments loaded;
    /// shipments already present keep their decisions.
    pub fn import(&mut self, batch_name: &str, scored: &[ScoredRow], b: &Batch) -> Result<usize> {
        let ids = b.text(Col::ShipmentId);
        let entity = sentinel_parties::entities::of_batch(b);
        let index: BTreeMap<&str, usize> = (0..b.len).map(|i| (&ids[i], i)).collect();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        {
            let mut st = tx.prepare(
                "INSERT INTO shipments(shipment_id, batch, imported_at, rank, risk_score, flagged, declared_category, likely_category, likely_probability, reason_codes, reasons, model_id, manifest, case_id, entity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT(shipment_id) DO UPDATE SET batch = excluded.batch, imported_at = excluded.imported_at, rank = excluded.rank,
                   risk_score = excluded.risk_score, flagged = excluded.flagged, declared_category = excluded.declared_category,
                   likely_category = excluded.likely_category, likely_probability = excluded.likely_probability,
                   reason_codes = excluded.reason_codes, reasons = excluded.reasons, model_id = excluded.model_id, manifest = excluded.manifest,
                   case_id = excluded.case_id, entity = excluded.entity",
            )?;
            let t = now();
            for s in scored {
                let Some(&i) = index.get(s.shipment_id.as_str()) else {
                    continue;
                };
                let manifest = serde_json::to_string(&manifest_cells(b, i))?;
                st.execute(params![
                    s.shipment_id,
                    batch_name,
                    t,
                    s.rank as i64,
                    s.risk,
                    s.flagged,
                    s.declared,
                    s.likely,
                    s.likely_p,
                    s.codes,
                    s.reasons,
                    s.model_id,
                    manifest,
                    Some(s.case_id.as_str()).filter(|c| !c.is_empty()),
                    Some(entity[i].as_str()).filter(|e| !e.is_empty())
                ])?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Records (or changes) a decision, keeping the history, in one transaction.
    pub fn decide(
        &mut self,
        shipment_id: &str,
        decision: Decision,
        goods: Option<&str>,
        reviewer: &str,
        note: &str,
    ) -> Result<()> {
        check_decision(goods, reviewer)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        decide_in(&tx, shipment_id, decision, goods, reviewer, note)?;
        tx.commit()?;
        Ok(())
    }

    /// The case a shipment belongs to: (batch, case id).
    pub fn case_of(&self, shipment_id: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT batch, case_id FROM shipments WHERE shipment_id = ?1 AND case_id IS NOT NULL",
                params![shipment_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    }

    /// The lines of a case in the store: flagged first, by rank.
    pub fn case_lines(&self, batch: &str, case_id: &str) -> Result<Vec<CaseLineView>> {
        let mut st = self.conn.prepare(
            "SELECT s.shipment_id, s.rank, s.risk_score, s.flagged, s.declared_category, s.likely_category, d.decision,
                    EXISTS(SELECT 1 FROM queue q WHERE q.shipment_id = s.shipment_id), s.manifest
             FROM shipments s LEFT JOIN decisions d USING (shipment_id)
             WHERE s.batch = ?1 AND s.case_id = ?2 ORDER BY s.flagged DESC, s.rank, s.shipment_id",
        )?;
        let rows = st.query_map(params![batch, case_id], |r| {
            let manifest: BTreeMap<String, String> =
                serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default();
            let cell = |k: &str| manifest.get(k).cloned().unwrap_or_default();
            Ok(CaseLineView {
                shipment_id: r.get(0)?,
                rank: r.get(1)?,
                risk_score: r.get(2)?,
                flagged: r.get(3)?,
                declared_category: r.get(4)?,
                likely_category: r.get(5)?,
                decision: r.get(6)?,
                in_queue: r.get(7)?,
                exporter: cell("usppi_name"),
                consignee: cell("ultimate_consignee_name"),
                export_date: cell("export_date"),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One decision for the whole case of `shipment_id`, in one
    /// transaction: on `lines` (each must be a line of the case), or on
    /// every flagged line of the case when None. Each decided line keeps the
    /// change in its history (noted as the case's); the case's other lines
    /// are its exceptions and keep their own decisions. The case decision
    /// itself is recorded with both lists.
    pub fn decide_case(
        &mut self,
        shipment_id: &str,
        decision: Decision,
        goods: Option<&str>,
        reviewer: &str,
        note: &str,
        lines: Option<&[String]>,
    ) -> Result<CaseDecided> {
        check_decision(goods, reviewer)?;
        let Some((batch, case_id)) = self.case_of(shipment_id)? else {
            return Err(ReviewError::NotInCase(format!("shipment `{shipment_id}` is in no case")).into());
        };
        let all = self.case_lines(&batch, &case_id)?;
        let chosen: Vec<String> = match lines {
            Some(ids) => {
                if let Some(bad) = ids.iter().find(|id| !all.iter().any(|l| &l.shipment_id == *id)) {
                    return Err(ReviewError::NotInCase(format!(
                        "shipment `{bad}` is not a line of case {case_id}"
                    ))
                    .into());
                }
                all.iter()
                    .filter(|l| ids.contains(&l.shipment_id))
                    .map(|l| l.shipment_id.clone())
                    .collect()
            }
            None => all
                .iter()
                .filter(|l| l.flagged)
                .map(|l| l.shipment_id.clone())
                .collect(),
        };
        let exceptions: Vec<String> = all
            .iter()
            .filter(|l| !chosen.contains(&l.shipment_id))
            .map(|l| l.shipment_id.clone())
            .collect();
        let line_note = if note.is_empty() {
            format!("case {case_id}")
        } else {
            format!("case {case_id}: {note}")
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for id in &chosen {
            decide_in(&tx, id, decision, goods, reviewer, &line_note)?;
        }
        tx.execute(
            "INSERT INTO case_decisions(batch, case_id, at, reviewer, decision, goods_found, note, decided, exceptions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                batch,
                case_id,
                now(),
                reviewer,
                decision.as_str(),
                goods,
                note,
                serde_json::to_string(&chosen)?,
                serde_json::to_string(&exceptions)?
            ],
        )?;
        tx.commit()?;
        Ok(CaseDecided {
            case_id,
            decided: chosen,
            exceptions,
        })
    }

    /// The decisions taken on a whole case, oldest first.
    pub fn case_decisions(&self, batch: &str, case_id: &str) -> Result<Vec<CaseDecisionEntry>> {
        let mut st = self.conn.prepare(
            "SELECT at, reviewer, decision, goods_found, note, decided, exceptions FROM case_decisions WHERE batch = ?1 AND case_id = ?2 ORDER BY id",
        )?;
        let rows = st.query_map(params![batch, case_id], |r| {
            Ok(CaseDecisionEntry {
                at: r.get(0)?,
                reviewer: r.get(1)?,
                decision: r.get(2)?,
                goods_found: r.get(3)?,
                note: r.get(4)?,
                decided: serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or_default(),
                exceptions: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Replaces the review queue.
    pub fn set_queue(&mut self, entries: &[(String, bool)]) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM queue", [])?;
        {
            let mut st =
                tx.prepare("INSERT INTO queue(position, shipment_id, explore) VALUES (?1, ?2, ?3)")?;
            for (k, (id, explore)) in entries.iter().enumerate() {
                st.execute(params![k as i64 + 1, id, explore])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The queue with each shipment's score and current decision, in the
    /// order to review it: undecided shipments whose case, or whose
    /// exporter (its entity, in any batch), holds a confirmed line first (a
    /// confirmation raises the same parties' other open shipments at once),
    /// then by position.
    pub fn queue(&self) -> Result<Vec<QueueEntry>> {
        let mut st = self.conn.prepare(
            "SELECT q.position, q.shipment_id, q.explore, s.rank, s.risk_score, s.declared_category, s.likely_category, s.reason_codes, d.decision,
                    s.case_id,
                    EXISTS(SELECT 1 FROM shipments s2 JOIN decisions d2 USING (shipment_id)
                           WHERE s2.batch = s.batch AND s2.case_id = s.case_id AND d2.decision = 'confirmed' AND s2.shipment_id <> s.shipment_id) AS raised,
                    EXISTS(SELECT 1 FROM shipments s3 JOIN decisions d3 USING (shipment_id)
                           WHERE s3.entity = s.entity AND d3.decision = 'confirmed' AND s3.shipment_id <> s.shipment_id) AS raised_entity
             FROM queue q JOIN shipments s USING (shipment_id) LEFT JOIN decisions d USING (shipment_id)
             ORDER BY (d.decision IS NULL AND (raised OR raised_entity)) DESC, q.position",
        )?;
        let rows = st.query_map([], |r| {
            Ok(QueueEntry {
                position: r.get(0)?,
                shipment_id: r.get(1)?,
                explore: r.get(2)?,
                rank: r.get(3)?,
                risk_score: r.get(4)?,
                declared_category: r.get(5)?,
                likely_category: r.get(6)?,
                reason_codes: r.get(7)?,
                decision: r.get(8)?,
                case_id: r.get(9)?,
                case_confirmed: r.get(10)?,
                exporter_confirmed: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// One shipment with its evidence, decision and history.
    pub fn shipment(&self, id: &str) -> Result<Option<ShipmentView>> {
        let row = self
            .conn
            .query_row(
                "SELECT s.rank, s.risk_score, s.flagged, s.declared_category, s.likely_category, s.likely_probability, s.reason_codes, s.reasons, s.model_id, s.manifest,
                        d.decision, d.goods_found, d.reviewer, d.note, d.updated_at, d.version
                 FROM shipments s LEFT JOIN decisions d USING (shipment_id) WHERE s.shipment_id = ?1",
                params![id],
                |r| {
                    Ok(ShipmentView {
                        shipment_id: id.to_string(),
                        rank: r.get(0)?,
                        risk_score: r.get(1)?,
                        flagged: r.get(2)?,
                        declared_category: r.get(3)?,
                        likely_category: r.get(4)?,
                        likely_probability: r.get(5)?,
                        reason_codes: r.get(6)?,
                        reasons: r.get(7)?,
                        model_id: r.get(8)?,
                        manifest: serde_json::from_str(&r.get::<_, String>(9)?).unwrap_or_default(),
                        decision: r.get(10)?,
                        goods_found: r.get(11)?,
                        reviewer: r.get(12)?,
                        note: r.get(13)?,
                        decided_at: r.get(14)?,
                        version: r.get(15)?,
                        history: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut v) = row else { return Ok(None) };
        let mut st = self.conn.prepare(
            "SELECT at, reviewer, before_decision, after_decision, before_goods, after_goods, note FROM decision_history WHERE shipment_id = ?1 ORDER BY id",
        )?;
        let h = st.query_map(params![id], |r| {
            Ok(HistoryEntry {
                at: r.get(0)?,
                reviewer: r.get(1)?,
                before: r.get(2)?,
                after: r.get(3)?,
                before_goods: r.get(4)?,
                after_goods: r.get(5)?,
                note: r.get(6)?,
            })
        })?;
        v.history = h.collect::<Result<Vec<_>, _>>()?;
        Ok(Some(v))
    }

    /// Number of history entries of a shipment.
    pub fn history_len(&self, shipment_id: &str) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM decision_history WHERE shipment_id = ?1",
            params![shipment_id],
            |r| r.get(0),
        )?)
    }

    /// Decided shipments (confirmed or cleared) as manifest rows with
    /// `label` and, where recorded, `true_category`.
    pub fn labelled(&self) -> Result<Vec<BTreeMap<String, String>>> {
        let mut st = self.conn.prepare(
            "SELECT s.manifest, d.decision, d.goods_found FROM decisions d JOIN shipments s USING (shipment_id)
             WHERE d.decision IN ('confirmed', 'cleared') ORDER BY s.shipment_id",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (manifest, decision, goods) = row?;
            let mut cells: BTreeMap<String, String> =
                serde_json::from_str(&manifest).context("a stored manifest row is damaged")?;
            cells.insert(
                "label".into(),
                if decision == "confirmed" {
                    "1".into()
                } else {
                    "0".into()
                },
            );
            cells.insert("true_category".into(), goods.unwrap_or_default());
            cells.insert("typology".into(), String::new());
            out.push(cells);
        }
        Ok(out)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    pub position: i64,
    pub shipment_id: String,
    pub explore: bool,
    pub rank: i64,
    pub risk_score: f64,
    pub declared_category: Option<String>,
    pub likely_category: Option<String>,
    pub reason_codes: Option<String>,
    pub decision: Option<String>,
    pub case_id: Option<String>,
    /// Another line of the shipment's case is confirmed.
    pub case_confirmed: bool,
    /// Another line of the shipment's exporter (its entity,
    /// [`sentinel_parties::entities::of_batch`]), in any batch, is confirmed.
    pub exporter_confirmed: bool,
}

/// A line of a case as the desk lists it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseLineView {
    pub shipment_id: String,
    pub rank: i64,
    pub risk_score: f64,
    pub flagged: bool,
    pub declared_category: Option<String>,
    pub likely_category: Option<String>,
    pub decision: Option<String>,
    pub in_queue: bool,
    /// The line's exporter and consignee as filed, and its date.
    pub exporter: String,
    pub consignee: String,
    pub export_date: String,
}

/// What a case decision did.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDecided {
    pub case_id: String,
    pub decided: Vec<String>,
    pub exceptions: Vec<String>,
}

/// A decision taken on a whole case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDecisionEntry {
    pub at: i64,
    pub reviewer: String,
    pub decision: String,
    pub goods_found: Option<String>,
    pub note: Option<String>,
    pub decided: Vec<String>,
    pub exceptions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub reviewer: String,
    pub before: Option<String>,
    pub after: String,
    pub before_goods: Option<String>,
    pub after_goods: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ShipmentView {
    pub shipment_id: String,
    pub rank: i64,
    pub risk_score: f64,
    pub flagged: bool,
    pub declared_category: Option<String>,
    pub likely_category: Option<String>,
    pub likely_probability: Option<f64>,
    pub reason_codes: Option<String>,
    pub reasons: Option<String>,
    pub model_id: Option<String>,
    pub manifest: BTreeMap<String, String>,
    pub decision: Option<String>,
    pub goods_found: Option<String>,
    pub reviewer: Option<String>,
    pub note: Option<String>,
    pub decided_at: Option<i64>,
    pub version: Option<i64>,
    pub history: Vec<HistoryEntry>,
}

/// The name a scored file's shipments are imported under: its path and a
/// digest of its bytes. Cases are numbered within a run (`C1` of every
/// day's batch), so a day's scored file written to the same path as the
/// day before must not join the earlier day's cases; the same file served
/// again keeps its name (and its cases' decisions).
pub fn batch_name(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| {
        ReviewError::Unreadable(format!("{}: cannot open the scored file: {e}", path.display()))
    })?;
    let mut h = sentinel_manifest::hash::Fnv64::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.bytes(&buf[..n]);
    }
    Ok(format!("{} ({:016x})", path.display(), h.0))
}

/// A decision's goods and reviewer, checked before anything is written.
fn check_decision(goods: Option<&str>, reviewer: &str) -> Result<()> {
    if reviewer.trim().is_empty() {
        return Err(ReviewError::Decision("a decision needs the reviewer's name".to_string()).into());
    }
    if let Some(g) = goods {
        if Tables::get().category_index(g).is_none() {
            return Err(ReviewError::Decision(format!(
                "goods found `{g}` is not a cargo category of the spec"
            ))
            .into());
        }
    }
    Ok(())
}

/// Records one shipment's decision and its history entry within `tx`.
fn decide_in(
    tx: &rusqlite::Transaction,
    shipment_id: &str,
    decision: Decision,
    goods: Option<&str>,
    reviewer: &str,
    note: &str,
) -> Result<()> {
    let known: Option<String> = tx
        .query_row(
            "SELECT shipment_id FROM shipments WHERE shipment_id = ?1",
            params![shipment_id],
            |r| r.get(0),
        )
        .optional()?;
    if known.is_none() {
        return Err(
            ReviewError::Unknown(format!("shipment `{shipment_id}` is not in the review database")).into(),
        );
    }
    let before: Option<(String, Option<String>, i64)> = tx
        .query_row(
            "SELECT decision, goods_found, version FROM decisions WHERE shipment_id = ?1",
            params![shipment_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let t = now();
    let version = before.as_ref().map_or(1, |b| b.2 + 1);
    tx.execute(
        "INSERT INTO decisions(shipment_id, decision, goods_found, reviewer, note, updated_at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(shipment_id) DO UPDATE SET decision = excluded.decision, goods_found = excluded.goods_found,
           reviewer = excluded.reviewer, note = excluded.note, updated_at = excluded.updated_at, version = excluded.version",
        params![shipment_id, decision.as_str(), goods, reviewer, note, t, version],
    )?;
    tx.execute(
        "INSERT INTO decision_history(shipment_id, at, reviewer, before_decision, after_decision, before_goods, after_goods, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![shipment_id, t, reviewer, before.as_ref().map(|b| b.0.clone()), decision.as_str(), before.and_then(|b| b.1), goods, note],
    )?;
    Ok(())
}

/// The canonical cells of row `i` (validated values) as text.
fn manifest_cells(b: &Batch, i: usize) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for c in Col::ALL {
        if matches!(c, Col::Label | Col::TrueCategory | Col::Typology) {
            continue;
        }
        m.insert(c.name().to_string(), b.cell_text(c, i));
    }
    m
}

/// Writes decided shipments in the manifest format (with `label` and
/// `true_category`).
pub fn write_labels(
    rows: &[BTreeMap<String, String>],
    w: &mut dyn std::io::Write,
    safe: bool,
) -> Result<usize> {
    let names: Vec<&str> = Col::ALL.iter().map(|c| c.name()).collect();
    let mut out = csv::Writer::from_writer(w);
    out.write_record(&names)?;
    for r in rows {
        let rec: Vec<String> = names
            .iter()
            .map(|n| {
                let v = r.get(*n).cloned().unwrap_or_default();
                if safe {
                    spreadsheet_safe(&v)
                } else {
                    v
                }
            })
            .collect();
        out.write_record(&rec)?;
    }
    out.flush()?;
    Ok(rows.len())
}

/// Decided shipments as CSV bytes (for training).
pub fn labels_csv(store: &Store) -> Result<(usize, Vec<u8>)> {
    let rows = store.labelled()?;
    let mut buf = Vec::new();
    let n = write_labels(&rows, &mut buf, false)?;
    if n == 0 {
        bail!("the review database holds no confirmed or cleared shipments");
    }
    Ok((n, buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of rows with these shipment ids and nothing else.
    fn batch(ids: &[&str]) -> Batch {
        let mut b = Batch::empty();
        for (k, id) in ids.iter().enumerate() {
            b.invalid.push(0);
            b.line.push(k as u64 + 2);
            b.file.push(0);
            for c in Col::ALL {
                if c.spec().kind.numeric() {
                    b.num_mut(c)
                        .push(if c == Col::ExportDate { 20000.0 } else { 1.0 });
                } else {
                    b.text_mut(c).push(if c == Col::ShipmentId { id } else { "" });
                }
            }
        }
        b.len = ids.len();
        b
    }

    /// Scored rows of these shipments, ranked in order, each flagged and in
    /// a case as `of` says by its index.
    fn scored(ids: &[&str], of: impl Fn(usize) -> (bool, String)) -> Vec<ScoredRow> {
        ids.iter()
            .enumerate()
            .map(|(k, id)| {
                let (flagged, case_id) = of(k);
                ScoredRow {
                    shipment_id: id.to_string(),
                    rank: k + 1,
                    flagged,
                    case_id,
                    ..ScoredRow::default()
                }
            })
            .collect()
    }

    #[test]
    fn a_confirmed_line_raises_its_exporters_open_lines_in_other_batches() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("r.sqlite")).unwrap();
        // (shipment, exporter name, exporter ID): T2 is S1's company under
        // another spelling with its ID, T3 that spelling without it (the
        // batch tells whose it is), T1 and T4 another company.
        let import = |s: &mut Store, name: &str, lines: &[(&str, &str, &str)]| {
            let ids: Vec<&str> = lines.iter().map(|l| l.0).collect();
            let mut b = batch(&ids);
            *b.text_mut(Col::UsppiName) = lines.iter().map(|l| l.1).collect();
            *b.text_mut(Col::UsppiId) = lines.iter().map(|l| l.2).collect();
            s.import(name, &scored(&ids, |_| (true, String::new())), &b)
                .unwrap();
        };
        import(&mut s, "day 1", &[("S1", "Sandkyan Technology L.L.C.", "77")]);
        import(
            &mut s,
            "day 2",
            &[
                ("T1", "Acme Corp", "5"),
                ("T2", "SANDKYAN TECH", "77"),
                ("T3", "Sandkyan Tech", ""),
                ("T4", "Acme", ""),
            ],
        );
        s.set_queue(&["S1", "T1", "T2", "T3", "T4"].map(|i| (i.to_string(), false)))
            .unwrap();
        s.decide("S1", Decision::Confirmed, None, "ana", "").unwrap();
        let q = s.queue().unwrap();
        let order: Vec<&str> = q.iter().map(|e| e.shipment_id.as_str()).collect();
        assert_eq!(order, ["T2", "T3", "S1", "T1", "T4"]);
        assert!(q[0].exporter_confirmed && !q[0].case_confirmed);
        assert!(!q[3].exporter_confirmed);
    }

    #[test]
    fn a_confirmed_line_raises_its_case_and_a_case_decision_keeps_exceptions() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("r.sqlite")).unwrap();
        let ids = ["S1", "S2", "S3", "S4", "S5"];
        // S1, S3 and S5 are one case (S5 below the flag line), S2 and S4 in none.
        let rows = scored(&ids, |k| {
            (k < 4, if k % 2 == 0 { "C1".into() } else { String::new() })
        });
        s.import("b1", &rows, &batch(&ids)).unwrap();
        s.set_queue(&[
            ("S1".into(), false),
            ("S2".into(), false),
            ("S3".into(), false),
            ("S4".into(), false),
        ])
        .unwrap();
        let order = |s: &Store| {
            s.queue()
                .unwrap()
                .into_iter()
                .map(|e| e.shipment_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(order(&s), ["S1", "S2", "S3", "S4"]);
        s.decide("S1", Decision::Confirmed, None, "ana", "").unwrap();
        // S3, open and of the confirmed case, comes first at once.
        assert_eq!(order(&s), ["S3", "S1", "S2", "S4"]);
        assert!(s.queue().unwrap()[0].case_confirmed);
        // The case's lines, flagged first; a case decision on one line.
        let lines = s.case_lines("b1", "C1").unwrap();
        let listed: Vec<&str> = lines.iter().map(|l| l.shipment_id.as_str()).collect();
        assert_eq!(listed, ["S1", "S3", "S5"]);
        assert!(!lines[2].flagged && !lines[2].in_queue);
        let done = s
            .decide_case(
                "S3",
                Decision::Cleared,
                None,
                "ben",
                "one seller",
                Some(&["S3".to_string()]),
            )
            .unwrap();
        assert_eq!(done.decided, ["S3"]);
        assert_eq!(done.exceptions, ["S1", "S5"]);
        let v = s.shipment("S3").unwrap().unwrap();
        assert_eq!(v.decision.as_deref(), Some("cleared"));
        assert_eq!(v.history[0].note.as_deref(), Some("case C1: one seller"));
        assert_eq!(
            s.shipment("S1").unwrap().unwrap().decision.as_deref(),
            Some("confirmed")
        );
        // Without lines: the flagged ones.
        let done = s
            .decide_case("S5", Decision::Inspect, None, "ben", "", None)
            .unwrap();
        assert_eq!(done.decided, ["S1", "S3"]);
        assert_eq!(s.case_decisions("b1", "C1").unwrap().len(), 2);
        // A line of another case, or a shipment in no case, is refused.
        assert!(s
            .decide_case(
                "S1",
                Decision::Cleared,
                None,
                "ben",
                "",
                Some(&["S2".to_string()])
            )
            .is_err());
        assert!(s
            .decide_case("S2", Decision::Cleared, None, "ben", "", None)
            .is_err());
        assert_eq!(s.history_len("S2").unwrap(), 0);
    }

    #[test]
    fn formula_prefixes_are_neutralised() {
        assert_eq!(spreadsheet_safe("=1+2"), "'=1+2");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("-3"), "'-3");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("adapter"), "adapter");
    }

    #[test]
    fn decisions_keep_their_history() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("r.sqlite")).unwrap();
        let b = batch(&["S1"]);
        let row = ScoredRow {
            shipment_id: "S1".into(),
            risk: 0.9,
            flagged: true,
            rank: 1,
            ..ScoredRow::default()
        };
        assert_eq!(s.import("b1", &[row], &b).unwrap(), 1);
        s.decide("S1", Decision::Inspect, None, "ana", "send it").unwrap();
        s.decide(
            "S1",
            Decision::Confirmed,
            Some("datacenter_gpu"),
            "ben",
            "H100s inside",
        )
        .unwrap();
        assert_eq!(s.history_len("S1").unwrap(), 2);
        let l = s.labelled().unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0]["label"], "1");
        assert_eq!(l[0]["true_category"], "datacenter_gpu");
        assert!(s.decide("S9", Decision::Cleared, None, "ana", "").is_err());
        assert!(s
            .decide("S1", Decision::Cleared, Some("gpus"), "ana", "")
            .is_err());
        assert!(s.decide("S1", Decision::Cleared, None, " ", "").is_err());
    }

    #[test]
    fn a_version_1_database_is_upgraded_and_keeps_its_decisions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v1.sqlite");
        {
            // The layout of schema 1, with one decided shipment.
            let c = Connection::open(&p).unwrap();
            c.execute_batch(
                "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES ('schema_version', '1');
                 CREATE TABLE shipments(
                   shipment_id TEXT PRIMARY KEY, batch TEXT NOT NULL, imported_at INTEGER NOT NULL,
                   rank INTEGER, risk_score REAL, flagged INTEGER NOT NULL, declared_category TEXT, likely_category TEXT,
                   likely_probability REAL, reason_codes TEXT, reasons TEXT, model_id TEXT, manifest TEXT NOT NULL);
                 CREATE TABLE decisions(
                   shipment_id TEXT PRIMARY KEY REFERENCES shipments(shipment_id),
                   decision TEXT NOT NULL CHECK(decision IN ('confirmed','cleared','inspect')),
                   goods_found TEXT, reviewer TEXT NOT NULL, note TEXT, updated_at INTEGER NOT NULL, version INTEGER NOT NULL);
                 CREATE TABLE queue(position INTEGER PRIMARY KEY, shipment_id TEXT NOT NULL, explore INTEGER NOT NULL);
                 CREATE TABLE decision_history(
                   id INTEGER PRIMARY KEY AUTOINCREMENT, shipment_id TEXT NOT NULL, at INTEGER NOT NULL, reviewer TEXT NOT NULL,
                   before_decision TEXT, after_decision TEXT NOT NULL, before_goods TEXT, after_goods TEXT, note TEXT);
                 INSERT INTO shipments VALUES ('S1', 'b1', 0, 1, 0.9, 1, 'storage', 'datacenter_gpu', 0.8, '', '', 'm', '{}');
                 INSERT INTO decisions VALUES ('S1', 'confirmed', NULL, 'ana', '', 0, 1);
                 INSERT INTO queue VALUES (1, 'S1', 0);",
            )
            .unwrap();
        }
        let s = Store::open(&p).unwrap();
        let version: String = s
            .conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION.to_string());
        let q = s.queue().unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].decision.as_deref(), Some("confirmed"));
        assert_eq!(q[0].case_id, None);
        assert_eq!(s.case_of("S1").unwrap(), None);
        assert_eq!(s.labelled().unwrap().len(), 1);
        drop(s);
        // Opening it again changes nothing.
        assert_eq!(Store::open(&p).unwrap().queue().unwrap().len(), 1);
    }

    #[test]
    fn a_batch_is_named_by_its_path_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("scored.csv");
        std::fs::write(&p, "shipment_id\nA\n").unwrap();
        let monday = batch_name(&p).unwrap();
        assert_eq!(batch_name(&p).unwrap(), monday, "the same file, the same batch");
        std::fs::write(&p, "shipment_id\nB\n").unwrap();
        assert_ne!(
            batch_name(&p).unwrap(),
            monday,
            "the next day's file at the same path"
        );
        assert!(batch_name(&dir.path().join("absent.csv")).is_err());
    }
}
