//! One writer per run folder: an advisory lock on `PARENT/.NAME.lock`, held
//! for the whole write of the folder `PARENT/NAME`.
//!
//! The lock is the operating system's (`File::try_lock`, `flock` on Unix):
//! it is released when the process exits, however it exits, so the lock
//! file of a dead process is never a stale lock. The file holds the PID of
//! the holder (for the error message) and is removed on drop. A second
//! writer stops at once with [`HarnessError::Locked`], naming the folder and
//! the process that holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::HarnessError;

/// The lock on one run folder (released and its file removed on drop).
#[derive(Debug)]
pub struct FolderLock {
    file: File,
    path: PathBuf,
}

/// The lock file of the folder `dir`: `.NAME.lock` beside it.
#[must_use]
pub fn lock_path(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    dir.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf).join(format!(".{name}.lock"))
}

fn same_file(a: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        match (a.metadata(), std::fs::metadata(path)) {
            (Ok(held), Ok(now)) => held.ino() == now.ino() && held.dev() == now.dev(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, path);
        true
    }
}

impl FolderLock {
    /// Takes the lock of the folder `dir` (creating its parent if needed).
    ///
    /// # Errors
    /// [`HarnessError::Locked`] when another process (or another writer of
    /// this one) holds it; I/O failure.
    pub fn acquire(dir: &Path) -> crate::Result<Self> {
        let path = lock_path(dir);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(HarnessError::io("creating", parent))?;
        }
        let mut busy = 0;
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(HarnessError::io("opening", &path))?;
            match file.try_lock() {
                Ok(()) => {}
                // Held: tried again twice over 20 ms (a finished writer's lock being cleared), then refused.
                Err(TryLockError::WouldBlock) if busy < 2 => {
                    busy += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    continue;
                }
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    let _ = file.read_to_string(&mut text);
                    return Err(HarnessError::Locked { dir: dir.to_path_buf(), holder: text.trim().parse().ok() });
                }
                Err(TryLockError::Error(error)) => return Err(HarnessError::io("locking", &path)(error)),
            }
            // The previous holder may have removed the file between our open and our lock: then lock the new one.
            if !same_file(&file, &path) {
                continue;
            }
            file.set_len(0).and_then(|()| file.rewind()).map_err(HarnessError::io("writing", &path))?;
            write!(file, "{}", std::process::id()).and_then(|()| file.flush()).map_err(HarnessError::io("writing", &path))?;
            return Ok(Self { file, path });
        }
    }
}

/// Removes the lock file of `dir` when no process holds it (left by a
/// writer killed after it finished the folder); a held lock is left alone.
pub fn clear_unheld(dir: &Path) {
    if lock_path(dir).exists() {
        drop(FolderLock::acquire(dir));
    }
}

impl Drop for FolderLock {
    fn drop(&mut self) {
        // Removed while held, so that a waiting writer re-opens the new file (see `acquire`).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_and_the_lock_is_free_after_drop() {
        let root = std::env::temp_dir().join(format!("decouple-lock-{}", std::process::id()));
        let dir = root.join("run");
        let first = FolderLock::acquire(&dir).unwrap();
        let error = FolderLock::acquire(&dir).unwrap_err();
        assert!(matches!(&error, HarnessError::Locked { holder: Some(pid), .. } if *pid == std::process::id()), "{error}");
        assert!(error.to_string().contains(&dir.display().to_string()), "{error}");
        clear_unheld(&dir);
        assert!(lock_path(&dir).exists(), "a held lock is left alone");
        drop(first);
        assert!(!lock_path(&dir).exists());
        // A lock file no process holds (its writer was killed) is taken over, and cleared.
        std::fs::write(lock_path(&dir), "4000000").unwrap();
        clear_unheld(&dir);
        assert!(!lock_path(&dir).exists());
        drop(FolderLock::acquire(&dir).unwrap());
        let _ = std::fs::remove_dir_all(&root);
    }
}
