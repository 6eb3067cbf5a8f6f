//! Embeds the SQL migrations (`migrations/<backend>/NNNN_description.sql`) into the crate: writes,
//! for each backend, the list of `(version, description, include_str!(file))` that
//! `src/migrations.rs` turns into sqlx migrations. This does at build time what `sqlx::migrate!`
//! would, without sqlx's proc-macro crate — which builds sqlx, its drivers and SQLite's C
//! source a second time for the compiler (docs/architecture.md, "Build time").

use std::fmt::Write as _;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::var("OUT_DIR")?;
    for backend in ["sqlite", "postgres"] {
        let dir = Path::new("migrations").join(backend);
        println!("cargo:rerun-if-changed={}", dir.display());
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            if let Ok(name) = entry?.file_name().into_string()
                && name.ends_with(".sql")
            {
                files.push(name);
            }
        }
        files.sort();
        let mut list = String::from("&[\n");
        for file in &files {
            let stem = file.trim_end_matches(".sql");
            let (version, description) = stem
                .split_once('_')
                .ok_or_else(|| format!("{file}: migrations are named NNNN_description.sql"))?;
            let version: i64 = version
                .parse()
                .map_err(|_| format!("{file}: the version must be a number"))?;
            let description = description.replace('_', " ");
            writeln!(
                list,
                "    ({version}, {description:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/{backend}/{file}\"))),"
            )?;
        }
        list.push(']');
        let target = Path::new(&out).join(format!("{backend}_migrations.rs"));
        std::fs::write(&target, list).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}
