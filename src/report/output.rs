//! File output: a regular file is written next to its target and renamed over it, so
//! it is whole or untouched; a device or FIFO (`/dev/null`, a shell's `>(gzip)`) is
//! written through; a symlink writes its target. A file this process read as input is
//! never an output.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written now, so an interrupted process can remove them.
static WRITING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary file this process is writing (on SIGINT or SIGTERM, just
/// before it exits): an interrupted write leaves the target as it was and nothing else.
pub fn remove_temp_files() {
    let files = WRITING.lock().map(|mut w| std::mem::take(&mut *w)).unwrap_or_default();
    for file in files {
        let _ = std::fs::remove_file(file);
    }
}

/// Removes the temporary files an earlier, killed process left in `dir` (`.NAME.tmp-PID`
/// of a process that no longer writes them): a sweep resumed into its output folder
/// starts clean.
pub fn remove_stale_temp_files(dir: &Path) -> std::io::Result<usize> {
    let own = format!(".tmp-{}", std::process::id());
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with('.') && name.contains(".tmp-") && !name.ends_with(&own);
        if ours && entry.file_type()?.is_file() {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Refuses `path` when it is (or links to) an input.
fn refuse_inputs(path: &Path) -> std::io::Result<()> {
    if crate::schema::source::is_input(path) {
        let msg = format!("`{}` is an input of this command; write elsewhere", path.display());
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, msg));
    }
    Ok(())
}

/// The temporary path used while `path` is being written.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `path` with whatever `fill` writes: a regular file all or nothing, a device
/// or FIFO through, a symlink's target. An input is refused before `fill` runs.
pub fn write_atomically<F>(path: &Path, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    refuse_inputs(path)?;
    let Ok(meta) = std::fs::symlink_metadata(path) else { return replace(path, fill) };
    if meta.file_type().is_symlink() {
        let target = std::fs::canonicalize(path).map_err(|e| {
            let msg = format!("`{}` is a symlink that leads nowhere: {e}", path.display());
            std::io::Error::new(e.kind(), msg)
        })?;
        return write_atomically(&target, fill);
    }
    if meta.is_file() || meta.is_dir() {
        return replace(path, fill); // A directory fails the rename, with its own error.
    }
    let mut out = std::io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(path)?);
    fill(&mut out)?;
    out.flush()
}

/// Writes a regular file beside `path` and renames it into place once whole.
fn replace<F>(path: &Path, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let tmp = temp_path(path);
    if let Ok(mut w) = WRITING.lock() {
        w.push(tmp.clone());
    }
    let result = (|| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    if let Ok(mut w) = WRITING.lock() {
        w.retain(|p| p != &tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_writes_leave_nothing_behind() {
        let dir = std::env::temp_dir().join(format!("archsim-output-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.txt");
        let err = write_atomically(&target, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert!(!target.exists());
        assert!(!temp_path(&target).exists());
        write_atomically(&target, |w| w.write_all(b"whole")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "whole");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    #[cfg(unix)]
    fn inputs_are_refused_devices_written_through_and_symlinks_followed() {
        let dir = std::env::temp_dir().join(format!("archsim-output-kinds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("input.ron");
        std::fs::write(&input, "Scenario()").unwrap();
        crate::schema::source::protect_input(&input);
        let err = write_atomically(&input, |w| w.write_all(b"trace")).unwrap_err();
        assert!(err.to_string().contains("is an input"), "{err}");
        assert_eq!(std::fs::read_to_string(&input).unwrap(), "Scenario()");
        write_atomically(Path::new("/dev/null"), |w| w.write_all(b"gone")).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
        let target = dir.join("target.txt");
        let link = dir.join("link.txt");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        std::fs::write(&target, "old").unwrap();
        write_atomically(&link, |w| w.write_all(b"new")).unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        let to_input = dir.join("to_input.ron");
        std::os::unix::fs::symlink(&input, &to_input).unwrap();
        assert!(write_atomically(&to_input, |w| w.write_all(b"x")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
