//! Output files written atomically: data goes to a temporary file in the
//! destination's directory and is renamed into place only when complete, so
//! an interrupted run never leaves a half-written file and never touches an
//! input. `-` means stdout.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::error::InputError;

/// A file being written; [`AtomicFile::commit`] renames it into place.
pub struct AtomicFile {
    tmp: PathBuf,
    dest: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl AtomicFile {
    /// Starts writing `dest`. Refuses a destination that is one of `inputs`.
    pub fn create(dest: &Path, inputs: &[PathBuf]) -> Result<AtomicFile> {
        if let Ok(d) = dest.canonicalize() {
            for i in inputs {
                if i.canonicalize().is_ok_and(|c| c == d) {
                    return Err(InputError::new(format!(
                        "{}: the output would overwrite an input",
                        dest.display()
                    ))
                    .into());
                }
            }
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(InputError::new(format!(
                "{}: directory {} does not exist",
                dest.display(),
                dir.display()
            ))
            .into());
        }
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let f = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(AtomicFile {
            tmp,
            dest: dest.to_path_buf(),
            writer: Some(BufWriter::with_capacity(1 << 20, f)),
        })
    }

    pub fn writer(&mut self) -> &mut BufWriter<File> {
        self.writer.as_mut().expect("writer present until commit")
    }

    /// Flushes, syncs and renames into place.
    pub fn commit(mut self) -> Result<()> {
        let mut w = self.writer.take().expect("writer present until commit");
        w.flush()
            .with_context(|| format!("cannot write {}", self.tmp.display()))?;
        let f = w
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {}", self.tmp.display(), e.error()))?;
        f.sync_all().ok();
        drop(f);
        std::fs::rename(&self.tmp, &self.dest)
            .with_context(|| format!("cannot rename {} to {}", self.tmp.display(), self.dest.display()))?;
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.writer.is_some() {
            self.writer.take();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Whether a path names a Parquet file (by extension).
pub fn is_parquet(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}
