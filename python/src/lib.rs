//! `sentinel._native`: the scoring crate behind a Python class. A batch
//! comes in as a `pyarrow.Table` (the Python layer, `sentinel/__init__.py`,
//! turns polars and pandas frames into one), crosses into Rust column by
//! column through the Arrow C data interface, and is read exactly as a
//! Parquet file's columns are (`Input::Frame`); the scored rows go back the
//! same way, in the Parquet output's column types. No file is written or
//! read on the way.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use sentinel_detect::model::{embedded, Model};
use sentinel_detect::pipeline::Mode;
use sentinel_manifest::domain::Budget;
use sentinel_manifest::error::InputError as ReadError;
use sentinel_manifest::mapping::Mapping;
use sentinel_manifest::reader::{Input, Reject};
use sentinel_parties::screen::filed::filer_country;
use sentinel_parties::screen::list::List;
use sentinel_parties::screen::matcher::{Matcher, DEFAULT_MIN_SCORE};
use sentinel_parties::store::PartyStore;
use sentinel_scoring::{FlagRule, Output, RejectsTo, RunConfig, RunList};

mod arrow;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    _native,
    InputError,
    PyValueError,
    "Input sentinel cannot read: a batch without a core column, a column that cannot be read as text, a bad model, mapping or list. The message names the batch (or file), and the column or line."
);

/// An error of the scoring crates as a Python exception: the reader's and
/// the model's refusals of their input as `InputError`, anything else as
/// `RuntimeError`; the message is the whole chain, as the command line
/// prints it.
fn to_py(e: anyhow::Error) -> PyErr {
    let message = format!("{e:#}");
    if e.downcast_ref::<ReadError>().is_some()
        || e.downcast_ref::<sentinel_detect::model::ModelError>().is_some()
        || e.downcast_ref::<sentinel_parties::store::StoreError>().is_some()
    {
        InputError::new_err(message)
    } else {
        PyRuntimeError::new_err(message)
    }
}

/// A loaded model, a mapping and a flag rule: scores batches.
#[pyclass(frozen, module = "sentinel._native")]
struct Scorer {
    model: Arc<Model>,
    mapping: Option<Mapping>,
    rule: FlagRule,
    mode: Mode,
    list: Option<(Arc<Matcher>, f64)>,
    /// The party store each batch's histories start from and are written
    /// back to (`score --parties`); a lock keeps its runs one at a time.
    parties: Option<Mutex<PathBuf>>,
}

/// What one `score` call gives back: the scored rows, the rejected rows
/// (the rejects file's columns) and the summary (JSON).
type Scored<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, String);

#[pymethods]
impl Scorer {
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (model=None, mapping=None, budget=None, threshold=None, ignore_labels=false, lists=Vec::new(), list_min_score=DEFAULT_MIN_SCORE, parties=None))]
    fn new(
        model: Option<PathBuf>,
        mapping: Option<PathBuf>,
        budget: Option<&str>,
        threshold: Option<f64>,
        ignore_labels: bool,
        lists: Vec<PathBuf>,
        list_min_score: f64,
        parties: Option<PathBuf>,
    ) -> PyResult<Scorer> {
        let budget = budget
            .map(str::parse::<Budget>)
            .transpose()
            .map_err(PyValueError::new_err)?;
        let rule = FlagRule::of(budget, threshold).map_err(PyValueError::new_err)?;
        if !(0.0..=1.0).contains(&list_min_score) {
            return Err(PyValueError::new_err(format!(
                "list_min_score {list_min_score} must be between 0 and 1"
            )));
        }
        let model = match &model {
            Some(dir) => Model::load(dir),
            None => embedded::load(),
        }
        .map_err(to_py)?;
        let mapping = match &mapping {
            Some(p) => Some(Mapping::load(p).map_err(|e| to_py(e.into()))?),
            None => model.parts.mapping.clone(),
        };
        let list = if lists.is_empty() {
            None
        } else {
            let mut list = List::default();
            for p in &lists {
                list.add_file(p).map_err(|e| InputError::new_err(e.to_string()))?;
            }
            Some((Arc::new(Matcher::new(list)), list_min_score))
        };
        let mode = Mode::of(&model, ignore_labels);
        if let Some(p) = &parties {
            // Refused now (a store of another model, an unreadable file)
            // rather than at the first batch.
            drop(PartyStore::open(p, model.id()).map_err(to_py)?);
        }
        Ok(Scorer {
            model: Arc::new(model),
            mapping,
            rule,
            mode,
            list,
            parties: parties.map(Mutex::new),
        })
    }

    /// Scores one batch (a `pyarrow.Table`): the scored rows as a table of
    /// the spec's scored-output columns, the rejected rows as a table of the
    /// rejects file's columns, and the run's summary as JSON. `explain`
    /// names rows (by shipment_id) given reasons whatever their rank.
    #[pyo3(signature = (table, name="<batch>", keep_columns=false, explain=Vec::new()))]
    fn score<'py>(
        &self,
        py: Python<'py>,
        table: &Bound<'py, PyAny>,
        name: &str,
        keep_columns: bool,
        explain: Vec<String>,
    ) -> PyResult<Scored<'py>> {
        let frame = arrow::import_table(table).map_err(|e| InputError::new_err(format!("{name}: {e:#}")))?;
        let rejected = Arc::new(Mutex::new(Vec::<Reject>::new()));
        let input = Input::Frame {
            name: name.to_string(),
            frame,
        };
        let to_rejects = RejectsTo::Memory(Arc::clone(&rejected));
        let list = self.list.as_ref().map(|(matcher, min_score)| RunList {
            matcher: Arc::clone(matcher),
            min_score: *min_score,
            filer_country: filer_country(self.mapping.as_ref()),
        });
        let (model, mapping, mode, rule) = (
            Arc::clone(&self.model),
            self.mapping.clone(),
            self.mode,
            self.rule,
        );
        let parties = self.parties.as_ref();
        // Scoring holds no Python object: other Python threads run meanwhile.
        let (frames, summary) = py
            .detach(move || -> anyhow::Result<_> {
                // One run at a time against a store, committed once the
                // output is whole (as `score --parties` does).
                let held = parties
                    .map(|p| {
                        p.lock()
                            .map_err(|_| anyhow::anyhow!("a run on the party store failed"))
                    })
                    .transpose()?;
                let store = held
                    .as_deref()
                    .map(|p| PartyStore::open(p, model.id()).map(Arc::new))
                    .transpose()?;
                let cfg = RunConfig {
                    inputs: vec![input],
                    mapping,
                    rejects: to_rejects,
                    mode,
                    rule,
                    keep_columns,
                    chunk_rows: sentinel_manifest::reader::CHUNK_ROWS,
                    in_memory_rows: sentinel_scoring::score::IN_MEMORY_ROWS,
                    temp_dir: std::env::temp_dir(),
                    progress: Box::new(|_, _| {}),
                    parties: store.clone(),
                    list,
                    explain: explain.into_iter().collect(),
                };
                let mut frames = Vec::new();
                let (summary, _code) =
                    sentinel_scoring::score_run_to(&model, cfg, Output::Frames(&mut frames))?;
                let summary = serde_json::to_string(&summary)?;
                let frames = arrow::concat(frames)?;
                if let Some(store) = store {
                    PartyStore::commit_shared(store)?;
                }
                Ok((frames, summary))
            })
            .map_err(to_py)?;
        let rejected = std::mem::take(
            &mut *rejected
                .lock()
                .map_err(|_| PyRuntimeError::new_err("rejects lost"))?,
        );
        let scored = arrow::export_frame(py, &frames)?;
        let rejects = arrow::export_frame(py, &arrow::rejects_frame(&rejected).map_err(to_py)?)?;
        Ok((scored, rejects, summary))
    }

    /// The model's manifest (`manifest.json`) as JSON.
    fn manifest_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.model.manifest).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The model's id.
    #[getter]
    fn model_id(&self) -> String {
        self.model.id().to_string()
    }

    /// `supervised` or `label-free`: how batches are ranked.
    #[getter]
    fn mode(&self) -> String {
        self.mode.to_string()
    }

    /// The flag rule, as the summary writes it.
    #[getter]
    fn rule(&self) -> String {
        match self.rule {
            FlagRule::Budget(b) => format!("budget {b}"),
            FlagRule::Threshold(t) => format!("threshold {t}"),
        }
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Scorer>()?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
