//! Writing a file so that it is never seen half-written.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// renamed into place: an interrupted write never leaves a half-written file
/// under the final name.
///
/// The temporary is named after the file, this process and a per-process
/// counter (`.NAME.PID.N.partial`), so two processes, or two threads, writing
/// the same file never share a temporary; the last rename wins.
///
/// # Errors
/// I/O failure, with the path it concerns in the message (the temporary is
/// removed on a failed rename).
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> std::io::Result<()> {
    let temporary = temporary_path(path);
    let with_path = |error: std::io::Error, what: &Path| std::io::Error::new(error.kind(), format!("{}: {error}", what.display()));
    std::fs::write(&temporary, bytes).map_err(|error| with_path(error, &temporary))?;
    std::fs::rename(&temporary, path).map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        with_path(error, path)
    })
}

/// `.NAME.PID.N.partial` beside `path`.
fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map_or_else(String::new, |name| name.to_string_lossy().into_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.partial", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::temporary_path;
    use std::path::Path;

    #[test]
    fn temporaries_are_per_process_and_per_call() {
        let path = Path::new("runs/net.json");
        let (first, second) = (temporary_path(path), temporary_path(path));
        assert_ne!(first, second);
        let name = first.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".net.json.") && name.contains(&std::process::id().to_string()) && name.ends_with(".partial"), "{name}");
        assert_eq!(first.parent(), path.parent());
    }
}
