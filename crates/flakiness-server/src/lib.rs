//! A self-hosted server of the Flakiness.io upload protocol ([`flakiness_upload::protocol`]).
//!
//! * `POST /api/upload/start` (`Bearer <access token>`) opens an upload and answers a presigned
//!   URL for the report;
//! * `POST /api/upload/attachments` (`Bearer <upload token>`) answers presigned URLs for
//!   attachments;
//! * `PUT /blobs/...` (presigned: HMAC-SHA-256 signature and expiry in the query) stores a body
//!   (`br`, `zstd` or identity), bounded after decompression, content-addressed under
//!   `<data>/blobs/<sha256>`;
//! * `POST /api/upload/finish` (`Bearer <upload token>`) validates the report, ingests it into
//!   the history store (SQLite `<data>/history.db`, or PostgreSQL) and makes the run visible;
//! * `GET /api/projects`, `/api/projects/{org}/{project}/runs` (newest first; `?limit=N`: the
//!   newest N), `/api/projects/{org}/{project}/runs/{id}/report`,
//!   `/api/projects/{org}/{project}/runs/{id}/attachments/{attachment_id}` (an attachment's
//!   bytes, `application/octet-stream`; 400 for an id that is not a file name),
//!   `/api/projects/{org}/{project}/tests`: a read-only JSON API (what `flakiness download`
//!   reads).
//!
//! The server's own metadata (projects, hashed access tokens, uploads) lives in
//! `<data>/server.db`; the HMAC key in `<data>/secret` (created `0600`).

mod blob_store;
mod blobs;
mod http;
pub(crate) mod meta;
mod pages;
mod view;

pub use meta::{MetaError, RefreshState};

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use meta::Meta;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flakiness_store::{HistoryStore, PgStore, SqliteStore, StoreError};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// The limits of the server, with their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest report, once decompressed (default 1 GiB).
    pub max_report_bytes: u64,
    /// Largest attachment, once decompressed (default 256 MiB).
    pub max_attachment_bytes: u64,
    /// Most attachments per upload (default 10 000).
    pub max_attachments: usize,
    /// Largest body of the JSON endpoints (default 1 MiB).
    pub max_json_bytes: usize,
    /// Timeout of the JSON requests (default 60 s).
    pub request_timeout: Duration,
    /// Timeout of a blob `PUT` (default 1 hour).
    pub blob_timeout: Duration,
    /// How long a presigned URL is valid (default 6 hours).
    pub presign_ttl: Duration,
    /// Age beyond which a pending upload is deleted (default 24 hours).
    pub pending_max_age: Duration,
    /// How often expired uploads are cleaned up by [`serve`] (default 10 minutes).
    pub cleanup_interval: Duration,
    /// How often [`serve`] looks for refreshes of pages that nobody runs: changes whose
    /// refresh was claimed by a replica that stopped (default 30 s).
    pub refresh_sweep_interval: Duration,
    /// How long a claimed refresh is its replica's before another may take it (default 5
    /// minutes).
    pub refresh_lease: Duration,
    /// Time a client has to send a request's head, counted from when the server waits for it:
    /// a partial request line, trickled headers and an idle kept-alive connection are closed
    /// after it (default 30 s).
    pub header_read_timeout: Duration,
    /// Connections open at once from one client address, at most: more are closed as soon as
    /// they are accepted (default 256: a CI fleet behind one NAT address, or a reverse proxy,
    /// is one address).
    pub max_connections_per_client: usize,
    /// Connections open at once, at most (default 4096).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_report_bytes: 1 << 30,
            max_attachment_bytes: 256 << 20,
            max_attachments: 10_000,
            max_json_bytes: 1 << 20,
            request_timeout: Duration::from_secs(60),
            blob_timeout: Duration::from_secs(3600),
            presign_ttl: Duration::from_secs(6 * 3600),
            pending_max_age: Duration::from_secs(24 * 3600),
            cleanup_interval: Duration::from_secs(600),
            refresh_sweep_interval: Duration::from_secs(30),
            refresh_lease: Duration::from_secs(300),
            header_read_timeout: Duration::from_secs(30),
            max_connections_per_client: 256,
            max_connections: 4096,
        }
    }
}

/// Where the server keeps its data and how it answers.
#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// `server.db`, `secret`, `blobs/` and (without `database_url`) `history.db`.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL for all the server's state (metadata and history); SQLite
    /// `<data>/server.db` and `<data>/history.db` without it.
    pub database_url: Option<String>,
    /// Where blobs go: `s3://bucket/prefix` (S3-compatible object storage, configured by the
    /// usual `AWS_*` variables; `AWS_ENDPOINT_URL` for another service than AWS), or
    /// `file:///dir` / a path; `<data>/blobs` without it.
    pub blob_url: Option<String>,
    /// The server's public URL (`https://flakiness.example.com`) for presigned URLs; without
    /// it they are built from the request's `Host` header (`http://{host}`).
    pub public_url: Option<String>,
    /// When set, the pages and the read side of the JSON API need this token: a
    /// `Authorization: Bearer` header, or a browser's cookie, set by opening any page with
    /// `?token=TOKEN`. Uploads keep their own tokens.
    pub read_token: Option<ReadToken>,
    pub limits: Limits,
}

/// Hex digits of a token's hash that make its id.
const TOKEN_ID_LEN: usize = 12;

/// An access token, as [`Server::tokens`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// The first 12 hex digits of the token's SHA-256: how `token revoke` names it.
    pub id: String,
    /// `org/project`.
    pub project: String,
    /// When it was created (Unix ms).
    pub created_ms: i64,
}

/// The token of the read side (see [`ServerConfig::read_token`]); never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ReadToken(pub String);

impl std::fmt::Debug for ReadToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadToken(***)")
    }
}

/// Errors of [`Server`]'s setup and administration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Meta(#[from] MetaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: the server secret must be 32 bytes", path.display())]
    BadSecret { path: PathBuf },
    #[error("cannot build the report validator: {0}")]
    Validator(String),
    #[error("{0:?}: a project is `org/project`, each of letters, digits, `.`, `_` and `-`")]
    BadProject(String),
    #[error("no access token has an id starting with {0:?}")]
    NoSuchToken(String),
    #[error("{0:?} names {1} access tokens: give more of the id")]
    AmbiguousToken(String, usize),
    #[error("invalid public URL {0:?}: expected http:// or https://")]
    BadPublicUrl(String),
    #[error("blob storage: {0}")]
    Blobs(String),
}

pub(crate) type Hs = Box<dyn HistoryStore + Send>;

pub(crate) struct Inner {
    pub(crate) data_dir: PathBuf,
    pub(crate) blobs: blob_store::BlobStore,
    pub(crate) public_url: Option<String>,
    pub(crate) limits: Limits,
    read_token: Option<ReadToken>,
    secret: [u8; 32],
    /// Always `Some` but while the server is dropped.
    meta: Option<Box<dyn Meta>>,
    /// The history store that pages and analyses read (always `Some` but while the server is
    /// dropped).
    history: Mutex<Option<Hs>>,
    /// A second handle on the same store, for `finish`'s ingests: a finish does not wait for
    /// an analysis reading the whole history (SQLite's WAL and PostgreSQL both let a reader
    /// and a writer go at once).
    writer: Mutex<Option<Hs>>,
    pub(crate) validator: flakiness_validate::Validator,
    /// Run lists and analyses of the pages, per project.
    pub(crate) pages: pages::PageCache,
    /// This replica's name in the refresh jobs it claims (random, per start).
    pub(crate) replica: String,
    /// Refreshes of pages this replica ran.
    pub(crate) refreshes: std::sync::atomic::AtomicU64,
    /// How long its last refresh took (ms): the next waits twice that, at least.
    pub(crate) last_refresh_ms: std::sync::atomic::AtomicU64,
    /// Set when [`serve_with_shutdown`] begins to stop: readiness fails.
    pub(crate) draining: std::sync::atomic::AtomicBool,
}

impl Drop for Inner {
    /// The PostgreSQL client runs a runtime of its own, which may not be dropped on a thread
    /// of an async runtime: when the last clone goes there, the store is closed on a plain
    /// thread.
    fn drop(&mut self) {
        let store = self
            .history
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let writer = self
            .writer
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let meta = self.meta.take();
        if tokio::runtime::Handle::try_current().is_ok() {
            let _ = std::thread::spawn(move || drop((store, writer, meta))).join();
        }
    }
}

/// The history store, locked (see [`Server::history`]).
pub(crate) struct HistoryGuard<'a>(MutexGuard<'a, Option<Hs>>);

impl std::ops::Deref for HistoryGuard<'_> {
    type Target = Hs;
    fn deref(&self) -> &Hs {
        match self.0.as_ref() {
            Some(h) => h,
            None => unreachable!("the store is taken only when the server is dropped"),
        }
    }
}

impl std::ops::DerefMut for HistoryGuard<'_> {
    fn deref_mut(&mut self) -> &mut Hs {
        match self.0.as_mut() {
            Some(h) => h,
            None => unreachable!("the store is taken only when the server is dropped"),
        }
    }
}

/// The server: cheap to clone (shared state).
#[derive(Clone)]
pub struct Server {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("data_dir", &self.inner.data_dir)
            .field("public_url", &self.inner.public_url)
            .field("limits", &self.inner.limits)
            .finish_non_exhaustive()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::fill(&mut buf[..]);
    hex(&buf)
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Splits `org/project`, both valid slugs.
pub(crate) fn parse_project(s: &str) -> Option<(&str, &str)> {
    let (org, project) = s.split_once('/')?;
    (valid_slug(org) && valid_slug(project)).then_some((org, project))
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn load_secret(path: &Path) -> Result<[u8; 32], ServerError> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(mut f) => {
            let mut key = [0u8; 32];
            rand::fill(&mut key[..]);
            f.write_all(&key).map_err(io_err(path))?;
            f.sync_all().map_err(io_err(path))?;
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let mut bytes = Vec::new();
            fs::File::open(path)
                .and_then(|f| f.take(64).read_to_end(&mut bytes))
                .map_err(io_err(path))?;
            bytes.try_into().map_err(|_| ServerError::BadSecret {
                path: path.to_path_buf(),
            })
        }
        Err(e) => Err(io_err(path)(e)),
    }
}

/// What a presigned URL points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    Report,
    Attachment(&'a str),
}

impl Target<'_> {
    fn signed_text(&self, upload_id: &str, expires: u64) -> String {
        match self {
            Target::Report => format!("{upload_id}/report/{expires}"),
            Target::Attachment(id) => format!("{upload_id}/attachments/{id}/{expires}"),
        }
    }
}

/// Percent-encodes a path segment (everything but unreserved characters).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What an access token is (see [`Server::project_of_token`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccessToken {
    /// It grants this project: (id, org, project).
    Valid(i64, String, String),
    /// It was revoked (`serve token revoke`).
    Revoked,
    /// The server never made it.
    Unknown,
}

pub(crate) use meta::UploadRow;

impl Server {
    /// Opens (creating what is missing) the data directory, the metadata database, the secret
    /// and the history store.
    ///
    /// This blocks (file and database I/O; with a PostgreSQL URL, the synchronous PostgreSQL
    /// client, which must not run on an async runtime's thread): from async code, call it in
    /// `tokio::task::spawn_blocking`.
    pub fn open(config: ServerConfig) -> Result<Server, ServerError> {
        let data_dir = config.data_dir;
        let blob_url: blob_store::BlobUrl = match &config.blob_url {
            Some(url) => url
                .parse()
                .map_err(|e: blob_store::BlobUrlError| ServerError::Blobs(e.to_string()))?,
            None => blob_store::BlobUrl::Local(data_dir.join("blobs")),
        };
        let blobs = blob_store::BlobStore::open(&blob_url, &data_dir.join("tmp"))
            .map_err(|e| ServerError::Blobs(e.to_string()))?;
        if let Some(url) = &config.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ServerError::BadPublicUrl(url.clone()));
            }
        }
        let (meta, history, writer): (Box<dyn Meta>, Hs, Hs) = match &config.database_url {
            Some(url) => {
                let pg = meta::postgres::PgMeta::connect(url)?;
                // A server that kept its metadata in `server.db` (before `--database-url` held
                // everything) goes on with its tokens and uploads; the file is kept, renamed.
                let old = data_dir.join("server.db");
                if old.is_file() {
                    pg.import_sqlite(&old)?;
                    let kept = data_dir.join("server.db.imported");
                    fs::rename(&old, &kept).map_err(io_err(&old))?;
                }
                (
                    Box::new(pg),
                    Box::new(PgStore::connect(url)?),
                    Box::new(PgStore::connect(url)?),
                )
            }
            None => {
                let path = data_dir.join("history.db");
                (
                    Box::new(meta::sqlite::SqliteMeta::open(&data_dir.join("server.db"))?),
                    Box::new(SqliteStore::open(&path)?),
                    Box::new(SqliteStore::open(&path)?),
                )
            }
        };
        // Replicas over one database sign alike: the key is kept there; alone, in a file.
        // The first replica over a database offers the file's key when there is one (a server
        // that moves to PostgreSQL keeps its presigned URLs valid).
        let mut fresh = [0u8; 32];
        rand::fill(&mut fresh[..]);
        let file_key = data_dir.join("secret");
        if config.database_url.is_some() && file_key.is_file() {
            fresh = load_secret(&file_key)?;
        }
        let secret = match meta.shared_secret(fresh)? {
            Some(key) => key,
            None => load_secret(&data_dir.join("secret"))?,
        };
        let validator = flakiness_validate::Validator::new(flakiness_validate::Options::default())
            .map_err(|e| ServerError::Validator(e.to_string()))?;
        // A blob PUT killed with the server left its temporary file. With a folder of blobs
        // of its own (one server per data directory), nothing else writes there before it
        // runs: every one goes now. Replicas sharing a folder remove only the old ones.
        let shared =
            config.database_url.is_some() && matches!(blob_url, blob_store::BlobUrl::Local(_));
        blobs.remove_stale_temp_files(if shared {
            config.limits.blob_timeout
        } else {
            Duration::ZERO
        });
        Ok(Server {
            inner: Arc::new(Inner {
                data_dir,
                blobs,
                public_url: config
                    .public_url
                    .map(|u| u.trim_end_matches('/').to_string()),
                limits: config.limits,
                read_token: config.read_token,
                secret,
                meta: Some(meta),
                history: Mutex::new(Some(history)),
                writer: Mutex::new(Some(writer)),
                validator,
                pages: Mutex::default(),
                replica: random_hex(8),
                refreshes: Default::default(),
                last_refresh_ms: Default::default(),
                draining: Default::default(),
            }),
        })
    }

    /// The HTTP routes of the server: the upload protocol, the JSON API and the pages
    /// ([`flakiness_web::router`]); the last two behind the read token when there is one.
    pub fn router(&self) -> axum::Router {
        let reads =
            http::read_router(self.clone()).merge(flakiness_web::router(Arc::new(self.clone())));
        let reads = match &self.inner.read_token {
            Some(ReadToken(token)) => flakiness_web::gated(reads, token.clone(), "/".into()),
            None => reads,
        };
        flakiness_web::hardened(http::router(self.clone()).merge(reads))
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Whether the blob of this SHA-256 (hex) is in storage. Blocks: from async code, call
    /// it in `spawn_blocking`.
    pub fn has_blob(&self, sha256_hex: &str) -> Result<bool, ServerError> {
        block_on(self.inner.blobs.exists(sha256_hex)).map_err(|e| ServerError::Blobs(e.to_string()))
    }

    pub(crate) fn meta(&self) -> &dyn Meta {
        match &self.inner.meta {
            Some(m) => m.as_ref(),
            None => unreachable!("the store is taken only when the server is dropped"),
        }
    }

    /// The history store's reading handle, locked.
    pub(crate) fn history(&self) -> HistoryGuard<'_> {
        HistoryGuard(self.inner.history.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The history store's writing handle (ingests), locked.
    pub(crate) fn history_writer(&self) -> HistoryGuard<'_> {
        HistoryGuard(self.inner.writer.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Creates an access token for `org/project` (the project is created when missing) and
    /// answers it: it is shown once, only its SHA-256 is stored.
    pub fn create_token(&self, project: &str) -> Result<String, ServerError> {
        let (org, name) =
            parse_project(project).ok_or_else(|| ServerError::BadProject(project.into()))?;
        let token = format!("flk_{}", random_hex(32));
        self.meta()
            .create_token(org, name, &sha256_hex(token.as_bytes()), now_ms())?;
        Ok(token)
    }

    /// The access tokens, by project then age: their ids (the first 12 hex digits of their
    /// hash: the token itself is not kept), `org/project` and creation time (Unix ms).
    pub fn tokens(&self) -> Result<Vec<TokenInfo>, ServerError> {
        Ok(self
            .meta()
            .tokens()?
            .into_iter()
            .map(|t| TokenInfo {
                id: t.hash.chars().take(TOKEN_ID_LEN).collect(),
                project: format!("{}/{}", t.org, t.project),
                created_ms: t.created_ms,
            })
            .collect())
    }

    /// Revokes the access token whose id (see [`tokens`](Self::tokens)) starts with
    /// `id_prefix` (at least 4 hex digits, naming one token): it starts no upload any more.
    /// Uploads it already started keep their own upload tokens until they finish or expire.
    pub fn revoke_token(&self, id_prefix: &str) -> Result<TokenInfo, ServerError> {
        let prefix = id_prefix.trim().to_ascii_lowercase();
        let matching: Vec<TokenInfo> = self
            .tokens()?
            .into_iter()
            .filter(|t| prefix.len() >= 4 && t.id.starts_with(&prefix))
            .collect();
        let [found] = matching.as_slice() else {
            return Err(if matching.is_empty() {
                ServerError::NoSuchToken(id_prefix.into())
            } else {
                ServerError::AmbiguousToken(id_prefix.into(), matching.len())
            });
        };
        self.meta().revoke_token(&found.id, now_ms())?;
        Ok(found.clone())
    }

    /// The signature of a presigned URL (hex HMAC-SHA-256).
    pub(crate) fn sign(&self, upload_id: &str, target: &Target<'_>, expires: u64) -> Vec<u8> {
        // HMAC accepts keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.inner.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(target.signed_text(upload_id, expires).as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `sig` (hex) signs this target until `expires` (compared in constant time) and
    /// `expires` is still ahead.
    pub(crate) fn check_signature(
        &self,
        upload_id: &str,
        target: &Target<'_>,
        expires: u64,
        sig: &str,
    ) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.sign(upload_id, target, expires);
        let given = unhex(sig).unwrap_or_default();
        let good: bool = expected.ct_eq(&given).into();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(u64::MAX);
        good && now < expires
    }

    /// A presigned URL under `base` (no trailing slash).
    pub(crate) fn presign(&self, base: &str, upload_id: &str, target: &Target<'_>) -> String {
        let expires = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .saturating_add(self.inner.limits.presign_ttl.as_secs());
        let sig = hex(&self.sign(upload_id, target, expires));
        let path = match target {
            Target::Report => format!("/blobs/{upload_id}/report"),
            Target::Attachment(id) => {
                format!("/blobs/{upload_id}/attachments/{}", encode_segment(id))
            }
        };
        format!("{base}{path}?expires={expires}&sig={sig}")
    }

    /// What an access token is: the project it grants, or why it grants none.
    pub(crate) fn project_of_token(&self, token: &str) -> Result<AccessToken, ServerError> {
        use subtle::ConstantTimeEq;
        let hash = sha256_hex(token.as_bytes());
        if let Some(t) = self.meta().token(&hash)? {
            if bool::from(t.hash.as_bytes().ct_eq(hash.as_bytes())) {
                return Ok(AccessToken::Valid(t.project_id, t.org, t.project));
            }
        }
        let revoked = self.meta().revoked(&hash)?;
        Ok(
            match revoked.filter(|stored| bool::from(stored.as_bytes().ct_eq(hash.as_bytes()))) {
                Some(_) => AccessToken::Revoked,
                None => AccessToken::Unknown,
            },
        )
    }

    /// The upload an upload token opens, or `None`.
    pub(crate) fn upload_of_token(&self, token: &str) -> Result<Option<UploadRow>, ServerError> {
        use subtle::ConstantTimeEq;
        let hash = sha256_hex(token.as_bytes());
        let row = self.meta().upload_by_token(&hash)?;
        Ok(row.and_then(|(stored, upload)| {
            bool::from(stored.as_bytes().ct_eq(hash.as_bytes())).then_some(upload)
        }))
    }

    /// An upload by id.
    pub(crate) fn upload(&self, upload_id: &str) -> Result<Option<UploadRow>, ServerError> {
        Ok(self.meta().upload(upload_id)?)
    }

    /// The run a finished upload made or found, and the upload whose page shows it: the
    /// project's first finished upload of that run (as the pages key it); `None` for an upload
    /// not finished.
    pub(crate) fn run_page_of(
        &self,
        upload_id: &str,
    ) -> Result<Option<(i64, String)>, ServerError> {
        Ok(self.meta().run_page_of(upload_id)?)
    }

    /// Creates a pending upload; answers (upload id, upload token).
    pub(crate) fn create_upload(&self, project_id: i64) -> Result<(String, String), ServerError> {
        let id = random_hex(16);
        let token = format!("flu_{}", random_hex(32));
        self.meta()
            .create_upload(&id, project_id, &sha256_hex(token.as_bytes()), now_ms())?;
        Ok((id, token))
    }

    /// Deletes the pending uploads created more than `max_age` ago, their attachment records,
    /// and the blobs no remaining upload refers to (plus temporary files older than `max_age`).
    /// Answers how many uploads were deleted.
    pub fn cleanup_expired(&self, max_age: Duration) -> Result<usize, ServerError> {
        let cutoff = now_ms().saturating_sub(max_age.as_millis() as i64);
        let (expired, blobs) = self.meta().expire_pending(cutoff)?;
        for blob in blobs {
            self.collect_blob(&blob)?;
        }
        // A temporary file no PUT has written to for longer than a PUT may last is abandoned.
        self.inner.blobs.remove_stale_temp_files(
            self.inner
                .limits
                .blob_timeout
                .min(max_age)
                .max(Duration::from_secs(60)),
        );
        Ok(expired)
    }

    /// Deletes a blob no upload refers to any more (checked under the blob's lock, so that a
    /// concurrent `PUT` of the same content either records it first or finds it gone).
    pub(crate) fn collect_blob(&self, blob: &str) -> Result<bool, ServerError> {
        Ok(self
            .meta()
            .collect_blob(blob, &|| self.remove_blob(blob).map_err(|e| e.to_string()))?)
    }

    /// Where the server's state is: the metadata store (a PostgreSQL URL without its
    /// password, or `server.db`'s path) and the blob storage.
    pub fn describe_storage(&self) -> (String, String) {
        (self.meta().describe(), self.inner.blobs.describe())
    }

    /// What keeps the server from being ready (`/readyz`), in words: `database: …`,
    /// `blobs: …`; empty when ready. Blocks.
    pub fn not_ready(&self) -> Vec<String> {
        self.readiness()
            .into_iter()
            .filter_map(|(name, r)| r.err().map(|e| format!("{name}: {e}")))
            .collect()
    }

    /// Each check of readiness, by name: the metadata store, the blob storage.
    pub(crate) fn readiness(&self) -> Vec<(&'static str, Result<(), String>)> {
        let blobs = block_on(self.inner.blobs.check());
        // The history store is in the same database as the metadata with PostgreSQL, and a
        // local file with SQLite; it is not asked here, as a long ingest holds it.
        vec![
            ("database", self.meta().ping().map_err(|e| e.to_string())),
            ("blobs", blobs),
        ]
    }

    /// The refresh jobs of every project (changes, changes covered, refreshes run), for
    /// operators and tests.
    pub fn refresh_states(&self) -> Result<Vec<RefreshState>, ServerError> {
        Ok(self.meta().refresh_states()?)
    }

    /// The whole content of the blob of this SHA-256 (hex), `None` when it is not in storage:
    /// for tools and tests (it holds the blob in memory). Blocks, as [`Self::has_blob`].
    pub fn read_blob(&self, sha256_hex: &str) -> Result<Option<Vec<u8>>, ServerError> {
        use futures_util::TryStreamExt as _;
        block_on(async {
            let Some((stream, len)) = self.inner.blobs.get(sha256_hex).await? else {
                return Ok(None);
            };
            let mut all = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            let mut stream = stream;
            while let Some(chunk) = stream.try_next().await? {
                all.extend_from_slice(&chunk);
            }
            Ok(Some(all))
        })
        .map_err(|e: io::Error| ServerError::Blobs(e.to_string()))
    }

    /// Deletes a blob (gone already is fine); only ever a SHA-256 name.
    pub(crate) fn remove_blob(&self, blob: &str) -> Result<(), ServerError> {
        block_on(self.inner.blobs.remove(blob)).map_err(|e| ServerError::Blobs(e.to_string()))
    }
}

/// Runs `f` to completion from blocking code: on the runtime of the calling thread (a
/// `spawn_blocking` thread of the server's), or, outside any runtime, on one of the blob
/// store's own, kept for the process (its HTTP connections outlive one call).
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static OWN: std::sync::OnceLock<Option<tokio::runtime::Runtime>> = std::sync::OnceLock::new();
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        return handle.block_on(f);
    }
    let own = OWN.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("flakiness-blobs")
            .enable_all()
            .build()
            .ok()
    });
    match own {
        Some(rt) => rt.block_on(f),
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(f))
            .unwrap_or_else(|e| panic!("no async runtime can be made: {e}")),
    }
}

/// Serves `server` on `listener` until Ctrl-C or SIGTERM (what a process manager or an
/// orchestrator sends to stop a replica): cleans up expired uploads at start and every
/// [`Limits::cleanup_interval`], takes over lapsed refreshes every
/// [`Limits::refresh_sweep_interval`]; when stopping, readiness fails at once and requests in
/// flight get 10 s to finish.
pub async fn serve(listener: tokio::net::TcpListener, server: Server) -> io::Result<()> {
    serve_with_shutdown(listener, server, async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    })
    .await
}

/// [`serve`], until `shutdown` completes.
pub async fn serve_with_shutdown(
    listener: tokio::net::TcpListener,
    server: Server,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cleaner = {
        let server = server.clone();
        tokio::spawn(async move {
            let limits = &server.inner.limits;
            let mut tick =
                tokio::time::interval(limits.cleanup_interval.max(Duration::from_secs(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let s = server.clone();
                let max_age = s.inner.limits.pending_max_age;
                // Errors are retried at the next tick; the server never prints.
                let _ = tokio::task::spawn_blocking(move || s.cleanup_expired(max_age)).await;
            }
        })
    };
    let sweeper = {
        let server = server.clone();
        tokio::spawn(async move {
            let every = server
                .inner
                .limits
                .refresh_sweep_interval
                .max(Duration::from_millis(100));
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let s = server.clone();
                let _ = tokio::task::spawn_blocking(move || while s.refresh_one(None) {}).await;
            }
        })
    };
    let limits = server.inner.limits.clone();
    let draining = server.clone();
    let shutdown = async move {
        shutdown.await;
        // Readiness answers 503 from now on, to the requests still in flight.
        draining
            .inner
            .draining
            .store(true, std::sync::atomic::Ordering::Relaxed);
    };
    let result = serve_bounded(listener, server.router(), limits, shutdown).await;
    cleaner.abort();
    sweeper.abort();
    result
}

/// The connections open per client address, and in all.
#[derive(Default)]
struct Open {
    per_client: std::collections::HashMap<std::net::IpAddr, usize>,
    total: usize,
}

/// A connection counted in [`Open`] until dropped.
struct Counted {
    open: Arc<Mutex<Open>>,
    client: std::net::IpAddr,
}

impl Counted {
    fn take(open: &Arc<Mutex<Open>>, client: std::net::IpAddr, limits: &Limits) -> Option<Self> {
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = o.per_client.get(&client).copied().unwrap_or(0);
        if o.total >= limits.max_connections.max(1)
            || mine >= limits.max_connections_per_client.max(1)
        {
            return None;
        }
        o.total += 1;
        *o.per_client.entry(client).or_default() += 1;
        Some(Counted {
            open: open.clone(),
            client,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                o.per_client.remove(&self.client);
            }
        }
    }
}

/// Serves `router` on `listener` (HTTP/1.1) within `limits`: a request's head must arrive
/// within `header_read_timeout` (an idle kept-alive connection waits that long for the next
/// one), and connections beyond `max_connections_per_client` from one address or
/// `max_connections` in all are closed when accepted. On `shutdown`, stops accepting and gives
/// open connections 10 s to finish.
pub async fn serve_bounded(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = &limits;
    use hyper_util::rt::{TokioIo, TokioTimer};
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let open: Arc<Mutex<Open>> = Arc::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: wait a little, as axum::serve does.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(counted) = Counted::take(&open, peer.ip(), limits) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = conn.await;
            drop(counted);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {}
    }
    Ok(())
}
