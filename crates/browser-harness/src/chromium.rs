//! Locating the Chromium binary.
//!
//! The lab's browser tests need a real Chromium. [`find_chromium`] looks for one
//! and, when there is none, returns an error whose message says how to install
//! it. It never decides to skip a test; that is the caller's choice (and the
//! lab's tests fail instead of skipping).

use std::path::{Path, PathBuf};

use crate::error::{HarnessError, Result};

/// How to get Chromium onto this machine; part of the "not found" error message.
pub const INSTALL_HINT: &str = "install it with `apt-get update && apt-get install -y chromium` \
     (or run `scripts/test.sh`, which installs it)";

/// Names tried on `PATH`, in order, when `CHROMIUM` is not set.
const CANDIDATES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// Finds the Chromium executable.
///
/// If the `CHROMIUM` environment variable is set (and not empty), it is used:
/// a path is taken as is, a bare name is looked up on `PATH`; if it does not
/// resolve to an executable file, that is an error (no fallback, so a typo is
/// noticed). Otherwise `chromium`, `chromium-browser` and `google-chrome` are
/// looked up on `PATH`, in that order.
///
/// The error message names what was tried and says how to install Chromium:
/// `apt-get update && apt-get install -y chromium` (or `scripts/test.sh`).
pub fn find_chromium() -> Result<PathBuf> {
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    match std::env::var_os("CHROMIUM").filter(|v| !v.is_empty()) {
        Some(value) => {
            let wanted = PathBuf::from(&value);
            resolve(&wanted, &path_var).ok_or_else(|| {
                HarnessError::ChromiumNotFound(format!(
                    "Chromium not found: CHROMIUM={} is not an executable file (nor a name on PATH). \
                     Point CHROMIUM at a Chromium binary or unset it; to get Chromium, {INSTALL_HINT}.",
                    wanted.display()
                ))
            })
        }
        None => CANDIDATES
            .iter()
            .find_map(|name| resolve(Path::new(name), &path_var))
            .ok_or_else(|| {
                HarnessError::ChromiumNotFound(format!(
                    "Chromium not found: CHROMIUM is not set and none of {} is on PATH. \
                     The browser tests need a real Chromium: {INSTALL_HINT}.",
                    CANDIDATES.join(", ")
                ))
            }),
    }
}

/// A path containing a separator is checked directly; a bare name is searched on `path_var`.
fn resolve(candidate: &Path, path_var: &std::ffi::OsStr) -> Option<PathBuf> {
    if candidate.components().count() > 1 || candidate.is_absolute() {
        return is_executable(candidate).then(|| candidate.to_path_buf());
    }
    std::env::split_paths(path_var)
        .map(|dir| dir.join(candidate))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_name_is_searched_on_path() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("chromium");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let path_var = std::env::join_paths([dir.path()]).unwrap();
        assert_eq!(resolve(Path::new("chromium"), &path_var), Some(exe.clone()));
        assert_eq!(resolve(Path::new("google-chrome"), &path_var), None);
        assert_eq!(resolve(&exe, std::ffi::OsStr::new("")), Some(exe));
    }

    #[test]
    fn install_hint_names_the_command() {
        assert!(INSTALL_HINT.contains("apt-get update && apt-get install -y chromium"));
        assert!(INSTALL_HINT.contains("scripts/test.sh"));
    }
}
