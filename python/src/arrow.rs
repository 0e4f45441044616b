//! Tables across the Arrow C data interface: pyarrow exports each column
//! into structs this side allocates and polars imports them without a
//! copy; the way back is the same in the other direction. pyarrow's
//! `_export_to_c` / `_import_from_c` take the structs' addresses.

use anyhow::{Context, Result};
use polars::prelude::*;
use polars_arrow::datatypes::Field as ArrowField;
use polars_arrow::ffi::{self, ArrowArray, ArrowSchema};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use sentinel_manifest::reader::{Reject, REJECT_COLUMNS};

/// A `pyarrow.Table` as a polars frame, column by column and chunk by
/// chunk (no copy here: the reader casts and joins each column's chunks
/// once), names and order kept.
pub(crate) fn import_table(table: &Bound<'_, PyAny>) -> Result<DataFrame> {
    let names: Vec<String> = table.getattr("column_names")?.extract()?;
    let height: usize = table.getattr("num_rows")?.extract()?;
    let mut columns = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        let chunked = table.call_method1("column", (i,))?;
        let mut chunks: Vec<Bound<'_, PyAny>> = chunked.getattr("chunks")?.extract()?;
        if chunks.is_empty() {
            // A column without chunks (an empty table): one empty array.
            chunks.push(chunked.call_method0("combine_chunks")?);
        }
        let arrays = chunks.iter().map(import_array).collect::<Result<Vec<_>>>()?;
        let series = Series::try_from((PlSmallStr::from(name.as_str()), arrays))
            .map_err(|e| anyhow::anyhow!("column `{name}` cannot be read: {e}"))?;
        columns.push(series.into_column());
    }
    DataFrame::new(height, columns)
        .map_err(|e| anyhow::anyhow!("the table's columns cannot be read together: {e}"))
}

/// One `pyarrow.Array` through the C data interface.
fn import_array(array: &Bound<'_, PyAny>) -> Result<ArrayRef> {
    let mut c_array = Box::new(ArrowArray::empty());
    let mut c_schema = Box::new(ArrowSchema::empty());
    array.call_method1(
        "_export_to_c",
        (
            &mut *c_array as *mut ArrowArray as usize,
            &mut *c_schema as *mut ArrowSchema as usize,
        ),
    )?;
    // SAFETY: pyarrow has just filled both structs as the C data interface
    // lays them out; the array is moved into polars, which calls its
    // release callback when done.
    let imported = unsafe {
        let field = ffi::import_field_from_c(&c_schema)?;
        ffi::import_array_from_c(*c_array, field.dtype)?
    };
    Ok(imported)
}

/// The frames of a run's output as one (they share their columns).
pub(crate) fn concat(frames: Vec<DataFrame>) -> Result<DataFrame> {
    let mut frames = frames.into_iter();
    let mut all = frames.next().context("the run wrote no output")?;
    for f in frames {
        all.vstack_mut_owned(f)?;
    }
    Ok(all)
}

/// A polars frame as a `pyarrow.Table`: each column exported as one array.
pub(crate) fn export_frame<'py>(py: Python<'py>, df: &DataFrame) -> PyResult<Bound<'py, PyAny>> {
    let pa = py.import("pyarrow")?;
    let import = pa.getattr("Array")?.getattr("_import_from_c")?;
    let mut arrays = Vec::with_capacity(df.width());
    let mut names = Vec::with_capacity(df.width());
    for c in df.columns() {
        let series = c.as_materialized_series().rechunk();
        let array = series.to_arrow(0, CompatLevel::oldest());
        let field = ArrowField::new(c.name().clone(), array.dtype().clone(), true);
        let c_schema = Box::new(ffi::export_field_to_c(&field));
        let c_array = Box::new(ffi::export_array_to_c(array));
        // pyarrow takes both structs over (their release callbacks are its
        // to call); what is left here is dropped as already released.
        let imported = import.call1((
            &*c_array as *const ArrowArray as usize,
            &*c_schema as *const ArrowSchema as usize,
        ))?;
        arrays.push(imported);
        names.push(c.name().to_string());
    }
    let kwargs = PyDict::new(py);
    kwargs.set_item("names", names)?;
    pa.getattr("Table")?
        .call_method("from_arrays", (arrays,), Some(&kwargs))
}

/// Rejected rows as the rejects file's columns (`line` a number).
pub(crate) fn rejects_frame(rejects: &[Reject]) -> Result<DataFrame> {
    let text = |f: fn(&Reject) -> &str| -> Vec<&str> { rejects.iter().map(f).collect() };
    let columns = [
        Column::new(REJECT_COLUMNS[0].into(), text(|r| &r.file)),
        Column::new(
            REJECT_COLUMNS[1].into(),
            rejects.iter().map(|r| r.line).collect::<Vec<u64>>(),
        ),
        Column::new(REJECT_COLUMNS[2].into(), text(|r| &r.shipment_id)),
        Column::new(REJECT_COLUMNS[3].into(), text(|r| &r.column)),
        Column::new(REJECT_COLUMNS[4].into(), text(|r| &r.value)),
        Column::new(REJECT_COLUMNS[5].into(), text(|r| r.reason_code.as_str())),
        Column::new(REJECT_COLUMNS[6].into(), text(|r| &r.reason)),
    ];
    Ok(DataFrame::new(rejects.len(), columns.to_vec())?)
}
