//! Helpers shared by the integration tests in this directory (a module of
//! each test binary that declares `mod common;`, not a test of its own).

use std::path::{Path, PathBuf};

/// A directory of a test's own under the system temp dir, removed when the
/// test ends (pass or fail), so repeated test runs leave nothing behind.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    /// `weft-WHAT-PID` in the temp dir, created. `what` names the test, so
    /// that no test removes another's directory.
    pub fn new(what: &str) -> ScratchDir {
        let dir = std::env::temp_dir().join(format!("weft-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }

    /// Writes `contents` to the file `name` in this directory; returns its
    /// path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for ScratchDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
