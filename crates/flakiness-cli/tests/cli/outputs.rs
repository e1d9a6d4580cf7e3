//! Every input under testdata/ converts to the same bytes as before: `flakiness convert` on
//! each file of `testdata/junit/` and `testdata/inputs/` (notes and images aside), with a fixed
//! commit and no CI variables, gives the exit code, the `report.json` digest and the attachment
//! files listed in `testdata/expected/convert-outputs.txt`. Speed work must not change an
//! output; a change on purpose rewrites the list with `FLAKINESS_UPDATE_OUTPUTS=1` and shows up
//! in the diff.
//!
//! The machine's own facts in `environments[].systemData` (kernel version, OS, architecture)
//! are replaced by placeholders before hashing, and each input's modification time (the start
//! of a run whose file names none) is set to a fixed instant first, so the list holds on any
//! machine and checkout.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest as _;

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const LIST: &str = "testdata/expected/convert-outputs.txt";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo")
}

/// The inputs: every file under the two folders but notes (`.md`) and images (`.png`), sorted.
fn inputs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["testdata/junit", "testdata/inputs"] {
        for entry in walkdir::WalkDir::new(root.join(dir)) {
            let entry = entry.expect("walk");
            let p = entry.path();
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if entry.file_type().is_file() && !matches!(ext, "md" | "png") {
                out.push(p.strip_prefix(root).expect("inside").to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// `report.json` with the machine's facts replaced: the same bytes on every machine.
fn machine_free(mut json: String) -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    for (key, value) in [
        ("osVersion", kernel.trim()),
        ("osName", std::env::consts::OS),
        ("osArch", std::env::consts::ARCH),
    ] {
        if !value.is_empty() {
            json = json.replace(
                &format!("\"{key}\":\"{value}\""),
                &format!("\"{key}\":\"MACHINE\""),
            );
        }
    }
    json
}

fn hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One line per input: `PATH exit=N report=DIGEST attachments=NAME:DIGEST,...`.
fn convert(root: &Path, input: &Path, out: &Path) -> String {
    // 2026-01-01T00:00:00Z: a checkout's own times never reach the output.
    let fixed = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
    std::fs::File::options()
        .write(true)
        .open(root.join(input))
        .and_then(|f| f.set_modified(fixed))
        .expect("set the input's modification time");
    let o = Command::new(env!("CARGO_BIN_EXE_flakiness"))
        .current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["convert", "--commit-id", COMMIT, "-o"])
        .arg(out)
        .arg(input)
        .output()
        .expect("flakiness convert");
    let code = o.status.code().unwrap_or(-1);
    let mut line = format!("{} exit={code}", input.display());
    if let Ok(json) = std::fs::read_to_string(out.join("report.json")) {
        line.push_str(&format!(" report={}", hex(machine_free(json).as_bytes())));
        let mut files: Vec<String> = std::fs::read_dir(out.join("attachments"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let bytes = std::fs::read(e.path()).expect("attachment");
                format!("{}:{}", e.file_name().to_string_lossy(), hex(&bytes))
            })
            .collect();
        files.sort();
        if !files.is_empty() {
            line.push_str(&format!(" attachments={}", files.join(",")));
        }
    }
    line
}

#[test]
fn every_testdata_input_converts_to_the_same_bytes() {
    let root = repo();
    let tmp = tempfile::tempdir().expect("tmp");
    let lines: Vec<String> = inputs(&root)
        .iter()
        .enumerate()
        .map(|(i, input)| convert(&root, input, &tmp.path().join(format!("out-{i}"))))
        .collect();
    assert!(lines.len() > 50, "{} inputs", lines.len());
    assert!(
        lines.iter().filter(|l| l.contains(" exit=0 ")).count() > 40,
        "most inputs convert"
    );
    let got = lines.join("\n") + "\n";
    let list = root.join(LIST);
    if std::env::var_os("FLAKINESS_UPDATE_OUTPUTS").is_some() {
        std::fs::create_dir_all(list.parent().expect("parent")).expect("mkdir");
        std::fs::write(&list, &got).expect("write the list");
        return;
    }
    let want = std::fs::read_to_string(&list)
        .unwrap_or_else(|e| panic!("{LIST}: {e} (FLAKINESS_UPDATE_OUTPUTS=1 writes it)"));
    let changed: Vec<String> = want
        .lines()
        .zip(got.lines())
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("- {w}\n+ {g}"))
        .collect();
    assert!(
        changed.is_empty() && want.lines().count() == got.lines().count(),
        "outputs changed (FLAKINESS_UPDATE_OUTPUTS=1 rewrites {LIST} when on purpose):\n{}",
        changed.join("\n")
    );
}
