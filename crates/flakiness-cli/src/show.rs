//! `flakiness show PATH...`: a report directory, or a folder of reports, in the browser through
//! a local server (127.0.0.1, a free port, a random token in the URL, only that folder served);
//! or one self-contained HTML file with `--html`.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args as ClapArgs;
use flakiness_web::folder::{FolderCatalog, FolderProject};

use crate::exit_codes;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Report directories, report files, JUnit XML files, or folders holding them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the URL instead of opening a browser.
    #[arg(long)]
    pub no_open: bool,
    /// Write one self-contained HTML file instead of serving: the run's page for one report,
    /// the flaky tests page for several.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
    /// Port on 127.0.0.1 (0: a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

pub fn run(args: Args) -> u8 {
    let project = match FolderProject::open(&args.paths) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("flakiness: {e}");
            return exit_codes::IO;
        }
    };
    for skipped in &project.skipped {
        eprintln!("flakiness: skipped {skipped}");
    }
    if project.is_empty() {
        eprintln!("flakiness: no usable report under the given paths");
        return exit_codes::IO;
    }
    if let Some(out) = &args.html {
        let html = match project.standalone_html() {
            Ok(h) => h,
            Err(e) => {
                eprintln!("flakiness: {e}");
                return exit_codes::IO;
            }
        };
        return match flakiness_analyze::write_file_whole(out, html.as_bytes()) {
            Ok(()) => {
                eprintln!("flakiness: wrote {}", out.display());
                exit_codes::SUCCESS
            }
            Err(e) => {
                eprintln!("flakiness: {}: {e}", out.display());
                exit_codes::IO
            }
        };
    }
    let runtime = match crate::serve::runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let project = Arc::new(project);
    let landing = {
        let base = format!("/{}/{}", project.org, project.name);
        match project.len() {
            1 => flakiness_web::Project::runs(&*project)
                .ok()
                .and_then(|r| r.first().map(|r| format!("{base}/runs/{}", r.key)))
                .unwrap_or(base),
            _ => base,
        }
    };
    let token = flakiness_web::random_token();
    let router = flakiness_web::hardened(flakiness_web::gated(
        flakiness_web::router(Arc::new(FolderCatalog(project.clone()))),
        token.clone(),
        landing,
    ));
    let served = runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(std::net::SocketAddr::from(([127, 0, 0, 1], args.port)))
                .await?;
        let addr = listener.local_addr()?;
        let url = format!("http://{addr}/?token={token}");
        if args.no_open {
            println!("{url}");
        } else {
            eprintln!("flakiness: opening {url}");
            if let Err(e) = open::that_detached(&url) {
                eprintln!("flakiness: cannot open a browser ({e}); open {url}");
            }
        }
        eprintln!(
            "flakiness: showing {} run(s) on http://{addr} (Ctrl-C stops)",
            project.len()
        );
        // The same connection bounds as `serve` (header-read timeout, connection caps).
        flakiness_server::serve_bounded(
            listener,
            router,
            flakiness_server::Limits::default(),
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
        )
        .await
    });
    drop(runtime);
    match served {
        Ok(()) => exit_codes::SUCCESS,
        Err(e) => {
            eprintln!("flakiness: {e}");
            exit_codes::IO
        }
    }
}
