//! Sets `FLAKINESS_COMMIT` for `flakiness --version`: the commit the binary is built from
//! (`git rev-parse HEAD`), else the one `cargo package` recorded in `.cargo_vcs_info.json`,
//! else `unknown`.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let commit = git(&["rev-parse", "--short=12", "HEAD"])
        .or_else(|| {
            let info =
                std::fs::read_to_string(Path::new(&manifest).join(".cargo_vcs_info.json")).ok()?;
            let at = info.find("\"sha1\"")?;
            let rest = &info[at + 6..];
            let start = rest.find('"')? + 1;
            let sha: String = rest[start..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect();
            (sha.len() >= 12).then(|| sha[..12].to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FLAKINESS_COMMIT={commit}");
    // Built again when HEAD moves or the branch it names gets a commit.
    if let Some(p) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={p}");
    }
    if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
        if let Some(p) = git(&["rev-parse", "--git-path", &head]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    if let Some(p) = git(&["rev-parse", "--git-path", "packed-refs"]) {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
