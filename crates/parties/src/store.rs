//! The party store (`score --parties FILE`): party histories kept between
//! runs, so that a batch scored today knows the parties of every batch
//! scored before it with the same store.
//!
//! A SQLite file holds, per exporter (its entity, [`crate::entities`]),
//! consignee and address (keyed by its normalised text): first day seen, lines, lines per category, the
//! physical anomaly of its lines, its partners, HS codes and countries, and
//! its known outcomes ([`crate::history::PartyHist`]); and per exporter name,
//! anywhere and at each address, the IDs it was filed with, which resolve
//! later lines without an ID. A run reads the aliases of its names, resolves
//! its exporters, reads the entries of its own parties over the model's
//! profiles, walks its rows in date order as without a store, and writes
//! its parties' entries and aliases back; so scoring a month
//! as 30 daily batches in date order gives every line the same history
//! figures as scoring it as one batch.
//!
//! One run at a time: a run takes the store's write lock when it opens it
//! and holds it until it commits, after its output is written; a second run
//! is refused with a clear message meanwhile. A run that fails before it
//! commits leaves the store as it was (the transaction is rolled back).
//! The store is tied to the model it was built with and versioned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{anyhow, Context, Result};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};

use crate::entities;
use crate::history::{self, HistFeatures, Profiles};
use crate::keys::Aliases;
use crate::keys::RowKeys;

/// What the party store refuses: exit 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Another run holds the store.
    #[error("{0}")]
    Busy(String),
    /// The file is not a party store (another application's database, or
    /// no database).
    #[error("{0}")]
    NotAStore(String),
    /// A store of another schema version.
    #[error("{0}")]
    Version(String),
    /// A store built with another model.
    #[error("{0}")]
    OtherModel(String),
    /// An entry that cannot be read.
    #[error("{0}")]
    Damaged(String),
}

impl StoreError {
    pub fn exit_code(&self) -> u8 {
        sentinel_manifest::error::EXIT_INPUT
    }
}

/// Version of the store's tables.
pub const SCHEMA_VERSION: i64 = 2;

/// An open party store, locked for this run until [`PartyStore::commit`].
pub struct PartyStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn bin<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    bincode::serialize(v).map_err(|e| anyhow!("encoding a party: {e}"))
}

impl PartyStore {
    /// Opens (or creates) the store at `path` for a run of model
    /// `model_id`, taking its write lock.
    pub fn open(path: &Path, model_id: &str) -> Result<PartyStore> {
        let shown = path.display();
        let conn = Connection::open(path).with_context(|| format!("{shown}: cannot open the party store"))?;
        conn.busy_timeout(std::time::Duration::ZERO)?;
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) {
                return Err(StoreError::Busy(format!(
                    "{shown}: another run is using this party store; run again when it has finished"
                ))
                .into());
            }
            return Err(StoreError::NotAStore(format!("{shown}: not a party store ({e})")).into());
        }
        // Another application's database (a review database given by
        // mistake, say) is refused rather than given the store's tables.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut q| q.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| StoreError::NotAStore(format!("{shown}: not a party store ({e})")))?;
        if !tables.is_empty() && !tables.iter().any(|t| t == "parties") {
            return Err(StoreError::NotAStore(format!(
                "{shown}: not a party store (it holds other tables: {})",
                tables.join(", ")
            ))
            .into());
        }
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS parties (
                 kind TEXT NOT NULL, key TEXT NOT NULL, hist BLOB NOT NULL,
                 PRIMARY KEY (kind, key));
             CREATE TABLE IF NOT EXISTS runs (
                 id INTEGER PRIMARY KEY, at_unix INTEGER NOT NULL, rows INTEGER NOT NULL,
                 first_date INTEGER, last_date INTEGER);",
        )
        .map_err(|e| StoreError::NotAStore(format!("{shown}: not a party store ({e})")))?;
        let meta = |k: &str| -> Result<Option<String>> {
            Ok(conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [k], |r| r.get(0))
                .optional()?)
        };
        match meta("schema_version")? {
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1), ('model_id', ?2)",
                    params![SCHEMA_VERSION.to_string(), model_id],
                )?;
            }
            Some(v) if v != SCHEMA_VERSION.to_string() => {
                return Err(StoreError::Version(format!(
                    "{shown}: party store version {v}, this sentinel reads version {SCHEMA_VERSION}"
                ))
                .into());
            }
            Some(_) => {
                let built = meta("model_id")?.unwrap_or_default();
                if built != model_id {
                    return Err(StoreError::OtherModel(format!(
                        "{shown}: the party store was built with model {built}, this run uses {model_id}: \
                         use a new store for this model, or score with the model it was built with"
                    ))
                    .into());
                }
            }
        }
        Ok(PartyStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| anyhow!("{}: the party store's lock is poisoned", self.path.display()))
    }

    /// The run's history figures: its exporters resolved with the aliases
    /// of the store over the model's, its parties' histories read from the
    /// store over the model's profiles, and the run's parties and aliases
    /// as they stand after it written back (not yet committed).
    pub fn histories(&self, base: &Profiles, keys: &mut RowKeys, n_cat: usize) -> Result<HistFeatures> {
        let aliases = self.aliases(&base.aliases, keys)?;
        crate::entities::resolve(keys, &aliases);
        let before = self.load(base, keys)?;
        let (hist, after) = history::compute(&before, keys, n_cat);
        self.stage(&after, keys)?;
        Ok(hist)
    }

    /// The aliases of the run's exporter names: the store's, else the
    /// model's.
    fn aliases(&self, base: &Aliases, keys: &RowKeys) -> Result<Aliases> {
        let (names, at) = entities::alias_keys(keys);
        let of = |map: &BTreeMap<String, Vec<String>>, list: &[String]| -> BTreeMap<String, Vec<String>> {
            list.iter()
                .filter_map(|k| map.get(k).map(|v| (k.clone(), v.clone())))
                .collect()
        };
        let mut out = Aliases {
            names: of(&base.names, &names),
            at: of(&base.at, &at),
        };
        let conn = self.conn()?;
        self.overlay(&conn, "alias_name", &names, &mut out.names)?;
        self.overlay(&conn, "alias_at", &at, &mut out.at)?;
        Ok(out)
    }

    /// The histories before a run: the model's profiles, with the store's
    /// entries for the run's parties over them (exporters resolved).
    fn load(&self, base: &Profiles, keys: &RowKeys) -> Result<Profiles> {
        let conn = self.conn()?;
        let mut p = base.clone();
        self.overlay(&conn, "exporter", &keys.exporters.list, &mut p.exporters)?;
        self.overlay(&conn, "consignee", &keys.consignees.list, &mut p.consignees)?;
        self.overlay(&conn, "address", &keys.addresses.list, &mut p.addresses)?;
        Ok(p)
    }

    /// The store's entries of one kind for `list` over `into`; an entry
    /// that cannot be read is an error naming the store, kind and key.
    fn overlay<T: serde::de::DeserializeOwned>(
        &self,
        conn: &Connection,
        kind: &str,
        list: &[String],
        into: &mut BTreeMap<String, T>,
    ) -> Result<()> {
        let mut get = conn.prepare_cached("SELECT hist FROM parties WHERE kind = ?1 AND key = ?2")?;
        for key in list {
            let blob: Option<Vec<u8>> = get.query_row(params![kind, key], |r| r.get(0)).optional()?;
            if let Some(b) = blob {
                let v = bincode::deserialize(&b).map_err(|_| {
                    StoreError::Damaged(format!(
                        "{}: the party store's {kind} entry for {key:?} cannot be read",
                        self.path.display()
                    ))
                })?;
                into.insert(key.clone(), v);
            }
        }
        Ok(())
    }

    /// Writes the run's parties and aliases as they stand after it (not
    /// yet committed).
    fn stage(&self, after: &Profiles, keys: &RowKeys) -> Result<()> {
        let conn = self.conn()?;
        let mut put =
            conn.prepare_cached("INSERT OR REPLACE INTO parties (kind, key, hist) VALUES (?1, ?2, ?3)")?;
        fn entries<'m, T: serde::Serialize>(
            kind: &'static str,
            list: &'m [String],
            map: &'m BTreeMap<String, T>,
        ) -> impl Iterator<Item = Result<(&'static str, &'m String, Vec<u8>)>> + 'm {
            list.iter()
                .filter_map(move |k| map.get(k).map(|v| bin(v).map(|b| (kind, k, b))))
        }
        for entry in entries("exporter", &keys.exporters.list, &after.exporters)
            .chain(entries("consignee", &keys.consignees.list, &after.consignees))
            .chain(entries("address", &keys.addresses.list, &after.addresses))
        {
            let (kind, key, blob) = entry?;
            put.execute(params![kind, key, blob])?;
        }
        for (kind, map) in [
            ("alias_name", &keys.learned.names),
            ("alias_at", &keys.learned.at),
        ] {
            for (key, ids) in map {
                put.execute(params![kind, key, bin(ids)?])?;
            }
        }
        let dates = keys.date.iter().filter(|d| **d != i32::MIN);
        let first = dates.clone().min().copied();
        let last = dates.max().copied();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        conn.execute(
            "INSERT INTO runs (at_unix, rows, first_date, last_date) VALUES (?1, ?2, ?3, ?4)",
            params![now, keys.len() as i64, first, last],
        )?;
        Ok(())
    }

    /// The day of the latest line any earlier run held (None before the first).
    pub fn last_date(&self) -> Result<Option<i32>> {
        let conn = self.conn()?;
        Ok(conn.query_row("SELECT MAX(last_date) FROM runs", [], |r| r.get(0))?)
    }

    /// Makes the run's changes durable and releases the store.
    pub fn commit(self) -> Result<()> {
        let path = self.path.display().to_string();
        let conn = self
            .conn
            .into_inner()
            .map_err(|_| anyhow!("{path}: the party store's lock is poisoned"))?;
        conn.execute_batch("COMMIT")
            .with_context(|| format!("{path}: cannot save the party store"))
    }

    /// [`Self::commit`] of a store a run shared (`RunConfig::parties`), once
    /// the run has let go of it.
    pub fn commit_shared(store: std::sync::Arc<PartyStore>) -> Result<()> {
        std::sync::Arc::into_inner(store)
            .ok_or_else(|| anyhow!("the party store is still in use"))?
            .commit()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(path: &Path, model_id: &str) -> StoreError {
        let err = PartyStore::open(path, model_id).err().expect("refused");
        err.downcast_ref::<StoreError>()
            .cloned()
            .unwrap_or_else(|| panic!("{err:#}"))
    }

    #[test]
    fn what_is_no_party_store_or_another_models_is_refused_by_kind() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database at all, but long enough to be read as one").unwrap();
        assert!(matches!(refusal(&text, "m1"), StoreError::NotAStore(_)));
        let other = dir.path().join("other.db");
        let conn = Connection::open(&other).unwrap();
        conn.execute_batch("CREATE TABLE decisions (id TEXT);").unwrap();
        drop(conn);
        let e = refusal(&other, "m1");
        assert!(matches!(e, StoreError::NotAStore(_)), "{e}");
        assert!(
            e.to_string()
                .ends_with("not a party store (it holds other tables: decisions)"),
            "{e}"
        );
        let store = dir.path().join("parties.db");
        PartyStore::open(&store, "m1").unwrap().commit().unwrap();
        assert!(matches!(refusal(&store, "m2"), StoreError::OtherModel(_)));
        assert_eq!(
            refusal(&store, "m2").exit_code(),
            sentinel_manifest::error::EXIT_INPUT
        );
    }
}
