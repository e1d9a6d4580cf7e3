//! `flakiness completions`, `flakiness man` and `flakiness --version`.

use std::process::Command;

use super::{flakiness, repo, stdout};

/// Every shell gets a script naming the subcommands; bash's, sourced, registers the
/// completion function.
#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = flakiness(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = stdout(&o);
        for sub in ["convert", "analyze", "upload", "completions"] {
            assert!(script.contains(sub), "{shell}: {sub} is missing");
        }
    }
    let bin = env!("CARGO_BIN_EXE_flakiness");
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source <('{bin}' completions bash) && complete -p flakiness"
        ))
        .output()
        .expect("bash");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout(&o).contains("-F _flakiness flakiness"),
        "{}",
        stdout(&o)
    );
    // An unknown shell is a usage error.
    assert_eq!(flakiness(&["completions", "tcsh"]).status.code(), Some(2));
}

/// The main page on stdout, or a page per subcommand in a folder.
#[test]
fn man_pages() {
    let o = flakiness(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = stdout(&o);
    assert!(
        page.starts_with(".ie") || page.contains(".TH flakiness 1"),
        "{page}"
    );
    assert!(page.contains(".TH flakiness 1"));
    for sub in ["convert", "analyze", "completions", "man"] {
        assert!(page.contains(sub), "{sub}");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("man1");
    let o = flakiness(&["man", "--dir", out.to_str().expect("utf-8")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for page in [
        "flakiness.1",
        "flakiness-convert.1",
        "flakiness-analyze.1",
        "flakiness-serve.1",
    ] {
        let text =
            std::fs::read_to_string(out.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.contains(".TH"), "{page}");
    }
    // The convert page carries its examples.
    let convert = std::fs::read_to_string(out.join("flakiness-convert.1")).expect("page");
    assert!(convert.contains("surefire"), "{convert}");
}

/// `--version` names the commit the binary was built from.
#[test]
fn version_names_the_commit() {
    let o = flakiness(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let line = stdout(&o);
    let commit = line
        .trim()
        .strip_prefix(concat!(
            "flakiness ",
            env!("CARGO_PKG_VERSION"),
            " (commit "
        ))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    let git = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(repo())
        .output();
    match git {
        Ok(g) if g.status.success() => {
            assert_eq!(commit, String::from_utf8_lossy(&g.stdout).trim());
        }
        // No git here: the build could not ask it either.
        _ => assert!(commit == "unknown" || commit.len() == 12, "{commit}"),
    }
}
