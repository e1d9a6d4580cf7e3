//! `flakiness serve`: the self-hosted upload server; `flakiness serve token create`.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};
use flakiness_server::{Server, ServerConfig};

use crate::exit_codes;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ServeCommand>,
    /// Address to listen on: `IP:PORT`, `[IPv6]:PORT` or `HOST:PORT` (the first of the host's
    /// addresses that can be bound; loopback by default; port 0 picks a free one).
    #[arg(
        long,
        global = true,
        env = "FLAKINESS_BIND",
        default_value = "127.0.0.1:8080"
    )]
    pub bind: String,
    /// Where the server keeps its data: server.db, blobs/ and history.db by default; with
    /// `--database-url` and `--blob-url`, only temporary files.
    #[arg(
        long,
        global = true,
        env = "FLAKINESS_DATA",
        default_value = ".flakiness/server"
    )]
    pub data: PathBuf,
    /// Keep all the server's state (tokens, uploads, projects, the history) in PostgreSQL
    /// instead of `DATA/server.db` and `DATA/history.db`: replicas on one database serve as
    /// one server.
    #[arg(
        long,
        global = true,
        env = "FLAKINESS_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Where blobs (reports, attachments) go: `s3://BUCKET/PREFIX` for S3-compatible object
    /// storage (credentials, region and `AWS_ENDPOINT_URL` from the usual `AWS_*`
    /// variables), or a folder (`file:///dir` or a path); `DATA/blobs` without it.
    #[arg(long, global = true, env = "FLAKINESS_BLOB_URL", value_name = "URL")]
    pub blob_url: Option<String>,
    /// The server's public URL, for the presigned URLs it hands out (default: from each
    /// request's Host header).
    #[arg(long, global = true, env = "FLAKINESS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Require this token to read: the pages (open one with `?token=TOKEN` once; a cookie
    /// keeps it) and the JSON API (`Authorization: Bearer TOKEN`). Uploads keep their own
    /// tokens.
    #[arg(
        long,
        global = true,
        env = "FLAKINESS_READ_TOKEN",
        hide_env_values = true
    )]
    pub read_token: Option<String>,
    /// Seconds a client has to send a request's head (an idle kept-alive connection waits
    /// that long for its next request).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_timeout: u64,
    /// Connections open at once from one client address, at most (behind a reverse proxy,
    /// every client has the proxy's address).
    #[arg(long, global = true, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections_per_client: u64,
    /// Connections open at once, at most.
    #[arg(long, global = true, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_connections: u64,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Manage access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an access token for a project (created when new) and print it, once.
    Create {
        /// `org/project`.
        #[arg(long)]
        project: String,
    },
    /// List the access tokens: id, project, creation time (the tokens themselves are not kept).
    List,
    /// Revoke an access token by its id (as `token list` shows it, or a unique prefix of 4 or
    /// more hex digits): it starts no upload any more.
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// A read token goes into a cookie and a header: at least 16 characters of `A-Z a-z 0-9 - . _ ~
/// + / =`.
fn valid_read_token(t: &str) -> bool {
    t.len() >= 16
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

fn open(args: &Args) -> Result<Server, u8> {
    if let Some(t) = args.read_token.as_deref().filter(|t| !t.is_empty()) {
        if !valid_read_token(t) {
            eprintln!(
                "flakiness: --read-token: at least 16 characters of letters, digits and - . _ ~ + / ="
            );
            return Err(exit_codes::USAGE);
        }
    }
    if let Err(e) = std::fs::create_dir_all(&args.data) {
        eprintln!("flakiness: {}: {e}", args.data.display());
        return Err(exit_codes::IO);
    }
    Server::open(ServerConfig {
        data_dir: args.data.clone(),
        database_url: args.database_url.clone(),
        blob_url: args.blob_url.clone(),
        public_url: args.public_url.clone(),
        read_token: args
            .read_token
            .clone()
            .filter(|t| !t.is_empty())
            .map(flakiness_server::ReadToken),
        limits: flakiness_server::Limits {
            header_read_timeout: std::time::Duration::from_secs(args.header_timeout),
            max_connections_per_client: usize::try_from(args.max_connections_per_client)
                .unwrap_or(usize::MAX),
            max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
            ..flakiness_server::Limits::default()
        },
    })
    .map_err(|e| {
        eprintln!("flakiness: {e}");
        exit_codes::STORE
    })
}

pub fn run(args: Args) -> u8 {
    let server = match open(&args) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match &args.command {
        Some(ServeCommand::Token(TokenCommand::Create { project })) => {
            return match server.create_token(project) {
                Ok(token) => {
                    let (state, _) = server.describe_storage();
                    eprintln!(
                        "flakiness: a token for {project}, stored (hashed) in {state}: a `flakiness serve` on the same state takes it; it is shown once, keep it"
                    );
                    println!("{token}");
                    exit_codes::SUCCESS
                }
                Err(e) => {
                    eprintln!("flakiness: {e}");
                    exit_codes::USAGE
                }
            };
        }
        Some(ServeCommand::Token(TokenCommand::List)) => {
            return match server.tokens() {
                Ok(list) => {
                    for t in list {
                        println!(
                            "{}  {}  {}",
                            t.id,
                            t.project,
                            flakiness_web::pages::when(t.created_ms)
                        );
                    }
                    exit_codes::SUCCESS
                }
                Err(e) => {
                    eprintln!("flakiness: {e}");
                    exit_codes::STORE
                }
            };
        }
        Some(ServeCommand::Token(TokenCommand::Revoke { id })) => {
            return match server.revoke_token(id) {
                Ok(t) => {
                    eprintln!("flakiness: revoked {} of {}", t.id, t.project);
                    exit_codes::SUCCESS
                }
                Err(e @ flakiness_server::ServerError::NoSuchToken(_))
                | Err(e @ flakiness_server::ServerError::AmbiguousToken(..)) => {
                    eprintln!("flakiness: {e}");
                    exit_codes::USAGE
                }
                Err(e) => {
                    eprintln!("flakiness: {e}");
                    exit_codes::STORE
                }
            };
        }
        None => {}
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let served = runtime.block_on(async {
        let listener = bind(&args.bind).await?;
        let addr = listener.local_addr().map_err(Bind::Io)?;
        let (state, blobs) = server.describe_storage();
        eprintln!(
            "flakiness: serving on http://{addr} (Ctrl-C or SIGTERM stops): state in {state}, blobs in {blobs}"
        );
        // A wrong bucket or key shows at once, not at the first upload (readiness says it too).
        let checked = server.clone();
        if let Ok(problems) = tokio::task::spawn_blocking(move || checked.not_ready()).await {
            for problem in problems {
                eprintln!("flakiness: warning: not ready: {problem}");
            }
        }
        flakiness_server::serve(listener, server.clone())
            .await
            .map_err(Bind::Io)
    });
    // The store's connections close here, outside the runtime.
    drop(runtime);
    drop(server);
    match served {
        Ok(()) => exit_codes::SUCCESS,
        Err(Bind::Resolve(e)) => {
            eprintln!(
                "flakiness: --bind {}: {e} (expected IP:PORT, [IPv6]:PORT or HOST:PORT)",
                args.bind
            );
            exit_codes::USAGE
        }
        Err(Bind::Io(e)) => {
            eprintln!("flakiness: {}: {e}", args.bind);
            exit_codes::IO
        }
    }
}

/// Why `serve` could not listen, or stopped.
enum Bind {
    /// `--bind` names no address.
    Resolve(std::io::Error),
    /// Binding or serving failed.
    Io(std::io::Error),
}

/// A listener on `addr`: `IP:PORT`, `[IPv6]:PORT`, or `HOST:PORT`, resolved, bound on the first
/// of its addresses that can be.
async fn bind(addr: &str) -> Result<tokio::net::TcpListener, Bind> {
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host(addr)
        .await
        .map_err(Bind::Resolve)?
        .collect();
    let mut last = None;
    for a in addrs {
        match tokio::net::TcpListener::bind(a).await {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => Bind::Io(e),
        None => Bind::Resolve(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the name has no address",
        )),
    })
}

/// A multi-threaded async runtime, or the exit code after saying why there is none.
pub fn runtime() -> Result<tokio::runtime::Runtime, u8> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("flakiness: cannot start the runtime: {e}");
            exit_codes::IO
        })
}
