//! How to name this program in a command printed for the user to type: `nrmp` when the running
//! binary is the `nrmp` on `PATH`, otherwise the path it was started from (`./target/release/nrmp`
//! after `cargo run --release`), so that every command the demo prints works as printed.

use std::path::{Path, PathBuf};

/// The word that starts a printed `nrmp …` command for this process.
pub fn program() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "nrmp".into();
    };
    let cwd = std::env::current_dir().unwrap_or_default();
    let path = std::env::var_os("PATH").unwrap_or_default();
    program_name(&exe, &cwd, std::env::split_paths(&path))
}

/// [`program`] for a given executable, working directory and `PATH`.
pub fn program_name(exe: &Path, cwd: &Path, path: impl IntoIterator<Item = PathBuf>) -> String {
    let exe = canonical(exe);
    let on_path = path.into_iter().any(|dir| {
        let candidate = dir.join("nrmp");
        candidate.is_file() && canonical(&candidate) == exe
    });
    if on_path {
        return "nrmp".into();
    }
    let shown = match exe.strip_prefix(canonical(cwd)) {
        Ok(rel) => Path::new(".").join(rel),
        Err(_) => exe,
    };
    let text = shown.display().to_string();
    if text.contains(char::is_whitespace) {
        format!("'{text}'")
    } else {
        text
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("target/release");
        std::fs::create_dir_all(&bin).unwrap();
        let exe = bin.join("nrmp");
        std::fs::write(&exe, b"").unwrap();
        (dir, exe)
    }

    #[test]
    fn a_binary_on_path_is_named_nrmp() {
        let (dir, exe) = tree();
        let name = program_name(&exe, Path::new("/"), [dir.path().join("target/release")]);
        assert_eq!(name, "nrmp");
    }

    #[test]
    fn a_binary_under_the_working_directory_is_named_relative_to_it() {
        let (dir, exe) = tree();
        let name = program_name(&exe, dir.path(), [PathBuf::from("/usr/bin")]);
        assert_eq!(name, "./target/release/nrmp");
    }

    #[test]
    fn another_nrmp_on_path_does_not_count() {
        let (dir, exe) = tree();
        let other = dir.path().join("bin");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join("nrmp"), b"").unwrap();
        let name = program_name(&exe, Path::new("/nowhere"), [other]);
        assert_eq!(name, canonical(&exe).display().to_string());
    }
}
