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
                    return Err(InputError::Output(format!(
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
            return Err(InputError::Output(format!(
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

    /// Flushes, syncs and renames into place. On failure the temporary
    /// file is removed and the destination left as it was.
    pub fn commit(mut self) -> Result<()> {
        let mut w = self.writer.take().expect("writer present until commit");
        let done = (|| -> Result<()> {
            w.flush()
                .with_context(|| format!("cannot write {}", self.tmp.display()))?;
            let f = w
                .into_inner()
                .map_err(|e| anyhow::anyhow!("cannot write {}: {}", self.tmp.display(), e.error()))?;
            // A file whose data may not have reached the disk is not put in place.
            f.sync_all()
                .with_context(|| format!("cannot sync {} to disk", self.tmp.display()))?;
            drop(f);
            std::fs::rename(&self.tmp, &self.dest)
                .with_context(|| format!("cannot rename {} to {}", self.tmp.display(), self.dest.display()))
        })();
        if done.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        done
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The files in a directory.
    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_failed_commit_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The destination is a directory: the rename fails.
        let dest = dir.path().join("out.csv");
        std::fs::create_dir(&dest).unwrap();
        let mut f = AtomicFile::create(&dest, &[]).unwrap();
        f.writer().write_all(b"a,b\n").unwrap();
        let err = f.commit().unwrap_err();
        assert!(format!("{err:#}").contains("cannot rename"), "{err:#}");
        assert_eq!(listing(dir.path()), ["out.csv"]);
        assert!(dest.is_dir());
        // A good commit puts the file in place and leaves nothing else.
        let ok = dir.path().join("ok.csv");
        let mut f = AtomicFile::create(&ok, &[]).unwrap();
        f.writer().write_all(b"a,b\n").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&ok).unwrap(), b"a,b\n");
        assert_eq!(listing(dir.path()), ["ok.csv", "out.csv"]);
    }
}
