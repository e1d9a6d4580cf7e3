//! Where blobs are kept: a local directory (`<dir>/<sha256>`, as [`blobs::persist`] writes
//! them) or an S3-compatible bucket (`<prefix>/blobs/<sha256>`).
//!
//! Bodies are always received into a local temporary file first (in
//! [`BlobStore::temp_dir`], by [`blobs::receive`]); [`BlobStore::persist`] then renames it into
//! place, or streams it to the bucket in parts of [`PART_SIZE`].

use std::fmt;
use std::fs;
use std::future::Future;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path as ObjectPath;
use object_store::{
    ClientConfigKey, ClientOptions, MultipartUpload, ObjectStore, PutPayload, RetryConfig,
};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::task::JoinSet;

use crate::blobs;

/// Size of the parts of a multipart upload; a blob up to this size is sent in one `PUT`.
pub(crate) const PART_SIZE: usize = 8 << 20;
/// Parts of one multipart upload in flight at once (memory: about this many parts).
const PARTS_IN_FLIGHT: usize = 2;
/// Time to establish a connection to the object store.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Whole-request timeout of the small requests (`HEAD`, `DELETE`, ranged `GET`, starting and
/// completing a multipart upload), retries aside.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Time one `PUT` of at most [`PART_SIZE`] may take, retries included (about 14 KB/s).
const PUT_TIMEOUT: Duration = Duration::from_secs(600);
/// Time a streamed `GET` may go without a byte before it fails.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Time [`BlobStore::check`] waits for the object store (one try).
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a [`BlobStore`] keeps blobs: `s3://bucket[/prefix]`, `file:///absolute/path`, or a
/// path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlobUrl {
    /// A directory: `<dir>/<sha256>`.
    Local(PathBuf),
    /// A bucket: `<prefix>/blobs/<sha256>` (`blobs/<sha256>` with an empty prefix); the
    /// prefix has no leading or trailing `/`.
    S3 { bucket: String, prefix: String },
}

/// Why a [`BlobUrl`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BlobUrlError {
    #[error("no blob storage given: expected s3://bucket[/prefix], file:///path or a path")]
    Empty,
    #[error("{0:?}: unsupported scheme: expected s3://bucket[/prefix], file:///path or a path")]
    Scheme(String),
    #[error("{0:?}: no bucket name after s3://")]
    NoBucket(String),
    #[error("{url:?}: invalid bucket name {bucket:?}: letters, digits, `.`, `-` and `_` only")]
    BadBucket { url: String, bucket: String },
    #[error("{url:?}: invalid prefix: {reason}")]
    BadPrefix { url: String, reason: String },
    #[error("{0:?}: a blob storage URL takes no query or fragment")]
    Query(String),
    #[error("{0:?}: a file URL is file:///absolute/path (no host)")]
    FileUrl(String),
}

impl FromStr for BlobUrl {
    type Err = BlobUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(BlobUrlError::Empty);
        }
        let Some((scheme, rest)) = split_scheme(s) else {
            return Ok(BlobUrl::Local(PathBuf::from(s)));
        };
        if rest.contains(['?', '#']) {
            return Err(BlobUrlError::Query(s.to_string()));
        }
        if scheme.eq_ignore_ascii_case("s3") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(BlobUrlError::NoBucket(s.to_string()));
            }
            let valid_bucket = bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !valid_bucket {
                return Err(BlobUrlError::BadBucket {
                    url: s.to_string(),
                    bucket: bucket.to_string(),
                });
            }
            let prefix = prefix.trim_matches('/');
            blobs_path(prefix).map_err(|reason| BlobUrlError::BadPrefix {
                url: s.to_string(),
                reason,
            })?;
            Ok(BlobUrl::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        } else if scheme.eq_ignore_ascii_case("file") {
            // The path is taken as it is written (no percent-decoding).
            let path = rest.strip_prefix("localhost").unwrap_or(rest);
            if !path.starts_with('/') {
                return Err(BlobUrlError::FileUrl(s.to_string()));
            }
            Ok(BlobUrl::Local(PathBuf::from(path)))
        } else {
            Err(BlobUrlError::Scheme(s.to_string()))
        }
    }
}

/// `scheme` and what follows `scheme://`, when `s` is a URL; `s3:` and `file:` without `//`
/// are URLs too (malformed ones: what follows does not start with `//`).
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = s.split_once(':')?;
    let is_scheme = scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !is_scheme {
        return None;
    }
    match rest.strip_prefix("//") {
        Some(rest) => Some((scheme, rest)),
        // `s3:bucket` and `file:/path` are URLs written wrong; `notes:v2` is a file name.
        None if scheme.eq_ignore_ascii_case("s3") => Some((scheme, "")),
        None if scheme.eq_ignore_ascii_case("file") => Some((scheme, "")),
        None => None,
    }
}

impl fmt::Display for BlobUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobUrl::Local(dir) if dir.is_absolute() => write!(f, "file://{}", dir.display()),
            BlobUrl::Local(dir) => write!(f, "{}", dir.display()),
            BlobUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            BlobUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// `<prefix>/blobs` as an object path, or why `prefix` is not one.
fn blobs_path(prefix: &str) -> Result<ObjectPath, String> {
    if prefix.is_empty() {
        return Ok(ObjectPath::from("blobs"));
    }
    if prefix.starts_with('/') || prefix.ends_with('/') {
        return Err("it starts or ends with `/`".into());
    }
    ObjectPath::parse(prefix)
        .map(|p| p.child("blobs"))
        .map_err(|e| e.to_string())
}

/// Why a [`BlobStore`] could not be opened, or a blob not copied.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BlobStoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Url(#[from] BlobUrlError),
    #[error("cannot set up access to {url}: {source}")]
    S3 {
        url: String,
        #[source]
        source: object_store::Error,
    },
    #[error("the blob is {len} bytes, more than the {max} allowed")]
    TooLarge { len: u64, max: u64 },
    #[error("blob {sha}: {source}")]
    Fetch {
        sha: String,
        #[source]
        source: io::Error,
    },
}

/// Blob storage, local or S3-compatible: cheap to clone (shared clients).
#[derive(Clone)]
pub(crate) struct BlobStore {
    backend: Arc<Backend>,
}

enum Backend {
    Local { dir: PathBuf },
    S3(S3),
}

/// A bucket and the clients that reach it (the same configuration, other timeouts).
struct S3 {
    bucket: String,
    prefix: String,
    /// `<prefix>/blobs`.
    base: ObjectPath,
    endpoint: Option<String>,
    region: String,
    /// Temporary files: received bodies, local copies.
    scratch: PathBuf,
    /// `HEAD`, `DELETE`, ranged `GET`s: whole requests bounded by [`REQUEST_TIMEOUT`].
    meta: AmazonS3,
    /// Streamed `GET`s and `PUT`s: no whole-request timeout (a large blob takes its time);
    /// bounded by [`IDLE_TIMEOUT`] and [`PUT_TIMEOUT`] instead.
    bulk: AmazonS3,
    /// [`BlobStore::check`]: one try within [`PROBE_TIMEOUT`].
    probe: AmazonS3,
}

impl fmt::Debug for BlobStore {
    /// Where, never a credential.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobStore")
            .field("url", &self.describe())
            .field("temp_dir", &self.temp_dir())
            .finish()
    }
}

/// A blob readable at a local path (see [`BlobStore::local_copy`]): the stored file itself, or
/// a temporary copy, deleted when this is dropped (and by
/// [`BlobStore::remove_stale_temp_files`] once older than its `idle`: read it soon).
#[derive(Debug)]
pub(crate) struct LocalBlob {
    path: PathBuf,
    len: u64,
    _copy: Option<tempfile::TempPath>,
}

impl LocalBlob {
    /// Where to read it.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }
}

/// A streamed blob body.
pub(crate) type BlobStream = BoxStream<'static, io::Result<Bytes>>;

/// Whether `name` can be a blob: 64 hex digits (a SHA-256).
fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The environment's `AmazonS3Builder::from_env`, with the endpoint the AWS CLI would take:
/// `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else object_store's `AWS_ENDPOINT` (from_env
/// reads the latter two both, in the environment's order).
fn s3_builder_from_env() -> AmazonS3Builder {
    let builder = AmazonS3Builder::from_env();
    match endpoint_from(|name| std::env::var(name).ok()) {
        Some(endpoint) => builder.with_endpoint(endpoint),
        None => builder,
    }
}

/// The first of `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` and `AWS_ENDPOINT` that `var` gives
/// (an empty one is unset).
fn endpoint_from(var: impl Fn(&str) -> Option<String>) -> Option<String> {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
        .into_iter()
        .find_map(|name| var(name).filter(|v| !v.trim().is_empty()))
}

/// The client options `builder` has (proxy, certificates, …) with our timeouts: `timeout`
/// for a whole request, none without it.
fn client_options(builder: &AmazonS3Builder, timeout: Option<Duration>) -> ClientOptions {
    use ClientConfigKey::*;
    let kept = [
        AllowHttp,
        AllowInvalidCertificates,
        DefaultContentType,
        Http1Only,
        Http2Only,
        Http2KeepAliveInterval,
        Http2KeepAliveTimeout,
        Http2KeepAliveWhileIdle,
        Http2MaxFrameSize,
        PoolIdleTimeout,
        PoolMaxIdlePerHost,
        ProxyUrl,
        ProxyCaCertificate,
        ProxyExcludes,
        RandomizeAddresses,
        UserAgent,
    ];
    let mut options = ClientOptions::new();
    for key in kept {
        if let Some(value) = builder.get_config_value(&AmazonS3ConfigKey::Client(key)) {
            options = options.with_config(key, value);
        }
    }
    let options = options.with_connect_timeout(CONNECT_TIMEOUT);
    match timeout {
        Some(timeout) => options.with_timeout(timeout),
        None => options.with_timeout_disabled(),
    }
}

/// `endpoint` without its user information, if any.
fn redact(endpoint: &str) -> String {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("", endpoint));
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => endpoint.to_string(),
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

/// `request`, failing with [`io::ErrorKind::TimedOut`] after `limit`.
async fn timed<T>(
    limit: Duration,
    request: impl Future<Output = object_store::Result<T>>,
) -> io::Result<T> {
    match tokio::time::timeout(limit, request).await {
        Ok(result) => result.map_err(io::Error::from),
        Err(_) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "no answer from the object store within {} s",
                limit.as_secs()
            ),
        )),
    }
}

/// `Ok(None)` for a missing object, its error otherwise.
fn absent<T>(result: io::Result<T>) -> io::Result<Option<T>> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads up to `n` bytes (fewer only at the end of the file).
async fn read_chunk(file: fs::File, n: usize) -> io::Result<(fs::File, Bytes)> {
    blocking(move || {
        let mut buf = Vec::with_capacity(n);
        (&file).take(n as u64).read_to_end(&mut buf)?;
        Ok((file, Bytes::from(buf)))
    })
    .await
}

/// `body`, failing when no byte comes for [`IDLE_TIMEOUT`].
fn with_idle_timeout(body: BlobStream) -> BlobStream {
    stream::unfold(Some(body), |body| async move {
        let mut body = body?;
        match tokio::time::timeout(IDLE_TIMEOUT, body.next()).await {
            Ok(Some(chunk)) => Some((chunk, Some(body))),
            Ok(None) => None,
            Err(_) => Some((
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the object store sent nothing for {} s",
                        IDLE_TIMEOUT.as_secs()
                    ),
                )),
                None,
            )),
        }
    })
    .boxed()
}

/// The result of the next part upload to finish (none running: `Ok`).
async fn join_part(parts: &mut JoinSet<io::Result<()>>) -> io::Result<()> {
    match parts.join_next().await {
        Some(Ok(result)) => result,
        Some(Err(e)) => Err(io::Error::other(e)),
        None => Ok(()),
    }
}

impl BlobStore {
    /// Opens the store `url` names: a local directory (created), or a bucket reached with the
    /// environment's AWS configuration (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_SESSION_TOKEN`, `AWS_REGION` or `AWS_DEFAULT_REGION`, else `us-east-1`; an endpoint
    /// from `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL` or `AWS_ENDPOINT`), whose temporary files
    /// go to `scratch` (created). Sends no request.
    pub(crate) fn open(url: &BlobUrl, scratch: &Path) -> Result<BlobStore, BlobStoreError> {
        match url {
            BlobUrl::Local(dir) => Self::open_local(dir),
            BlobUrl::S3 { bucket, prefix } => {
                Self::open_s3(bucket, prefix, scratch, s3_builder_from_env())
            }
        }
    }

    fn open_local(dir: &Path) -> Result<BlobStore, BlobStoreError> {
        let io = |source| BlobStoreError::Io {
            path: dir.to_path_buf(),
            source,
        };
        fs::create_dir_all(dir).map_err(io)?;
        let dir = std::path::absolute(dir).map_err(io)?;
        Ok(BlobStore {
            backend: Arc::new(Backend::Local { dir }),
        })
    }

    /// A bucket store configured by `builder` (with an endpoint: path-style requests, and
    /// plain HTTP allowed for an `http://` one).
    fn open_s3(
        bucket: &str,
        prefix: &str,
        scratch: &Path,
        builder: AmazonS3Builder,
    ) -> Result<BlobStore, BlobStoreError> {
        let url = BlobUrl::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        };
        let base = blobs_path(prefix).map_err(|reason| BlobUrlError::BadPrefix {
            url: url.to_string(),
            reason,
        })?;
        let endpoint = builder
            .get_config_value(&AmazonS3ConfigKey::Endpoint)
            .filter(|e| !e.trim().is_empty());
        let mut builder = builder.with_bucket_name(bucket);
        if let Some(endpoint) = &endpoint {
            builder = builder.with_virtual_hosted_style_request(false);
            if endpoint
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
            {
                builder = builder.with_allow_http(true);
            }
        }
        let region = match builder.get_config_value(&AmazonS3ConfigKey::Region) {
            Some(region) if !region.trim().is_empty() => region,
            _ => "us-east-1".to_string(),
        };
        let builder = builder.with_region(&region);
        let build = |builder: AmazonS3Builder| {
            builder.build().map_err(|source| BlobStoreError::S3 {
                url: url.to_string(),
                source,
            })
        };
        let meta = build(
            builder
                .clone()
                .with_client_options(client_options(&builder, Some(REQUEST_TIMEOUT))),
        )?;
        let bulk = build(
            builder
                .clone()
                .with_client_options(client_options(&builder, None)),
        )?;
        let probe = build(
            builder
                .clone()
                .with_client_options(client_options(&builder, Some(PROBE_TIMEOUT)))
                .with_retry(RetryConfig {
                    max_retries: 0,
                    retry_timeout: PROBE_TIMEOUT,
                    ..RetryConfig::default()
                }),
        )?;
        fs::create_dir_all(scratch).map_err(|source| BlobStoreError::Io {
            path: scratch.to_path_buf(),
            source,
        })?;
        Ok(BlobStore {
            backend: Arc::new(Backend::S3(S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
                base,
                endpoint,
                region,
                scratch: scratch.to_path_buf(),
                meta,
                bulk,
                probe,
            })),
        })
    }

    /// Where [`blobs::receive`] writes the temporary file of a body.
    pub(crate) fn temp_dir(&self) -> &Path {
        match &*self.backend {
            Backend::Local { dir } => dir,
            Backend::S3(s3) => &s3.scratch,
        }
    }

    /// Stores a received blob under its SHA-256 (the same content twice is the same blob) and
    /// deletes its temporary file. Local: renamed into place, the directory synced. S3: one
    /// `PUT` up to [`PART_SIZE`], else a multipart upload of such parts read from the file a
    /// few at a time (aborted on error).
    pub(crate) async fn persist(&self, written: blobs::Written) -> io::Result<()> {
        if !is_blob_name(&written.sha256) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{:?} is not a SHA-256", written.sha256),
            ));
        }
        match &*self.backend {
            Backend::Local { dir } => {
                let dir = dir.clone();
                blocking(move || blobs::persist(written, &dir)).await
            }
            // `written` (the temporary file) is dropped, so deleted, at the end either way.
            Backend::S3(s3) => s3.upload(&written).await,
        }
    }

    /// Whether the blob is stored (S3: a `HEAD`).
    pub(crate) async fn exists(&self, sha: &str) -> io::Result<bool> {
        if !is_blob_name(sha) {
            return Ok(false);
        }
        match &*self.backend {
            Backend::Local { dir } => {
                let path = dir.join(sha);
                blocking(move || Ok(absent(fs::metadata(path))?.is_some_and(|m| m.is_file()))).await
            }
            Backend::S3(s3) => {
                Ok(absent(timed(REQUEST_TIMEOUT, s3.meta.head(&s3.key(sha))).await)?.is_some())
            }
        }
    }

    /// The blob's bytes, streamed, and its length; `None` when it is not stored.
    pub(crate) async fn get(&self, sha: &str) -> io::Result<Option<(BlobStream, u64)>> {
        if !is_blob_name(sha) {
            return Ok(None);
        }
        match &*self.backend {
            Backend::Local { dir } => {
                let Some(file) = absent(tokio::fs::File::open(dir.join(sha)).await)? else {
                    return Ok(None);
                };
                let len = file.metadata().await?.len();
                let body = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024);
                Ok(Some((body.boxed(), len)))
            }
            Backend::S3(s3) => {
                let Some(got) = absent(timed(REQUEST_TIMEOUT, s3.bulk.get(&s3.key(sha))).await)?
                else {
                    return Ok(None);
                };
                let len = got.meta.size;
                let body = got
                    .into_stream()
                    .map(|chunk| chunk.map_err(io::Error::from));
                Ok(Some((with_idle_timeout(body.boxed()), len)))
            }
        }
    }

    /// The blob's first `max` bytes (all of a shorter one) and its whole length; `None` when
    /// it is not stored.
    pub(crate) async fn get_head(&self, sha: &str, max: u64) -> io::Result<Option<(Vec<u8>, u64)>> {
        if !is_blob_name(sha) {
            return Ok(None);
        }
        match &*self.backend {
            Backend::Local { dir } => {
                let path = dir.join(sha);
                blocking(move || {
                    let Some(file) = absent(fs::File::open(path))? else {
                        return Ok(None);
                    };
                    let len = file.metadata()?.len();
                    let mut head = Vec::new();
                    file.take(max).read_to_end(&mut head)?;
                    Ok(Some((head, len)))
                })
                .await
            }
            Backend::S3(s3) => {
                let key = s3.key(sha);
                let Some(meta) = absent(timed(REQUEST_TIMEOUT, s3.meta.head(&key)).await)? else {
                    return Ok(None);
                };
                let n = max.min(meta.size);
                if n == 0 {
                    return Ok(Some((Vec::new(), meta.size)));
                }
                let head = absent(timed(REQUEST_TIMEOUT, s3.meta.get_range(&key, 0..n)).await)?;
                Ok(head.map(|bytes| (bytes.to_vec(), meta.size)))
            }
        }
    }

    /// A local file holding the whole blob, of at most `max_len` bytes (else
    /// [`BlobStoreError::TooLarge`]); `None` when it is not stored. Local: the blob's own file.
    /// S3: a copy in the scratch directory, checked against its SHA-256.
    pub(crate) async fn local_copy(
        &self,
        sha: &str,
        max_len: u64,
    ) -> Result<Option<LocalBlob>, BlobStoreError> {
        if !is_blob_name(sha) {
            return Ok(None);
        }
        let fetch = |source| BlobStoreError::Fetch {
            sha: sha.to_string(),
            source,
        };
        match &*self.backend {
            Backend::Local { dir } => {
                let path = dir.join(sha);
                let probe = path.clone();
                let Some(meta) = blocking(move || absent(fs::metadata(probe)))
                    .await
                    .map_err(fetch)?
                else {
                    return Ok(None);
                };
                if meta.len() > max_len {
                    return Err(BlobStoreError::TooLarge {
                        len: meta.len(),
                        max: max_len,
                    });
                }
                Ok(Some(LocalBlob {
                    path,
                    len: meta.len(),
                    _copy: None,
                }))
            }
            Backend::S3(s3) => s3.copy(sha, max_len).await,
        }
    }

    /// Deletes the blob (gone already is fine); a name that is not 64 hex digits is left alone.
    pub(crate) async fn remove(&self, sha: &str) -> io::Result<()> {
        if !is_blob_name(sha) {
            return Ok(());
        }
        match &*self.backend {
            Backend::Local { dir } => {
                let path = dir.join(sha);
                blocking(move || absent(fs::remove_file(path)).map(drop)).await
            }
            Backend::S3(s3) => {
                absent(timed(REQUEST_TIMEOUT, s3.meta.delete(&s3.key(sha))).await).map(drop)
            }
        }
    }

    /// Whether the store can be used now (a readiness probe), or why not. Local: the directory
    /// takes a new file. S3: a `LIST` of at most one blob, one try within 5 s.
    pub(crate) async fn check(&self) -> Result<(), String> {
        let why = |e: &dyn fmt::Display| format!("{}: {e}", self.describe());
        match &*self.backend {
            Backend::Local { dir } => {
                let dir = dir.clone();
                blocking(move || {
                    if !dir.is_dir() {
                        return Err(io::Error::new(io::ErrorKind::NotFound, "not a directory"));
                    }
                    tempfile::Builder::new()
                        .prefix(".tmp-probe")
                        .tempfile_in(&dir)?
                        .close()
                })
                .await
                .map_err(|e| why(&e))
            }
            Backend::S3(s3) => {
                let prefix = format!("{}/", s3.base);
                let options = PaginatedListOptions {
                    max_keys: Some(1),
                    ..PaginatedListOptions::default()
                };
                let list = s3.probe.list_paginated(Some(&prefix), options);
                // Credentials may be fetched first: bound the whole probe too.
                timed(PROBE_TIMEOUT + Duration::from_secs(1), list)
                    .await
                    .map(drop)
                    .map_err(|e| why(&e))
            }
        }
    }

    /// The store for people: `file:///dir` or `s3://bucket/prefix (endpoint …)`, no secret.
    pub(crate) fn describe(&self) -> String {
        match &*self.backend {
            Backend::Local { dir } => BlobUrl::Local(dir.clone()).to_string(),
            Backend::S3(s3) => {
                let url = BlobUrl::S3 {
                    bucket: s3.bucket.clone(),
                    prefix: s3.prefix.clone(),
                };
                match &s3.endpoint {
                    Some(endpoint) => format!("{url} (endpoint {})", redact(endpoint)),
                    None => format!("{url} (region {})", s3.region),
                }
            }
        }
    }

    /// Deletes the temporary files (`.tmp…`) in [`Self::temp_dir`] not modified for `idle`:
    /// those of receives that were abandoned. Blocking.
    pub(crate) fn remove_stale_temp_files(&self, idle: Duration) {
        remove_stale_temp_files(self.temp_dir(), idle);
    }
}

impl S3 {
    fn key(&self, sha: &str) -> ObjectPath {
        self.base.child(sha)
    }

    /// Uploads a received blob from its temporary file.
    async fn upload(&self, written: &blobs::Written) -> io::Result<()> {
        let key = self.key(&written.sha256);
        let path = written.temp.path().to_path_buf();
        let (file, len) = blocking(move || {
            let file = fs::File::open(path)?;
            let len = file.metadata()?.len();
            Ok((file, len))
        })
        .await?;
        if len <= PART_SIZE as u64 {
            let (_, body) = read_chunk(file, PART_SIZE).await?;
            if body.len() as u64 != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the temporary file changed while it was read",
                ));
            }
            timed(PUT_TIMEOUT, self.bulk.put(&key, PutPayload::from(body)))
                .await
                .map(drop)
        } else {
            let mut upload = timed(REQUEST_TIMEOUT, self.bulk.put_multipart(&key)).await?;
            upload_parts(upload.as_mut(), file, len).await
        }
    }

    /// [`BlobStore::local_copy`]: the object streamed into a temporary file.
    async fn copy(&self, sha: &str, max_len: u64) -> Result<Option<LocalBlob>, BlobStoreError> {
        let fetch = |source| BlobStoreError::Fetch {
            sha: sha.to_string(),
            source,
        };
        let key = self.key(sha);
        let Some(meta) =
            absent(timed(REQUEST_TIMEOUT, self.meta.head(&key)).await).map_err(fetch)?
        else {
            return Ok(None);
        };
        if meta.size > max_len {
            return Err(BlobStoreError::TooLarge {
                len: meta.size,
                max: max_len,
            });
        }
        let scratch = self.scratch.clone();
        let temp = blocking(move || {
            tempfile::Builder::new()
                .prefix(".tmp-copy")
                .tempfile_in(scratch)
        })
        .await
        .map_err(fetch)?;
        let file = temp.as_file().try_clone().map_err(fetch)?;
        let written = self
            .download(&key, tokio::fs::File::from_std(file), meta.size)
            .await
            .map_err(fetch)?;
        if !crate::hex(&written).eq_ignore_ascii_case(sha) {
            return Err(fetch(io::Error::new(
                io::ErrorKind::InvalidData,
                "the stored bytes do not hash to the blob's name",
            )));
        }
        Ok(Some(LocalBlob {
            path: temp.path().to_path_buf(),
            len: meta.size,
            _copy: Some(temp.into_temp_path()),
        }))
    }

    /// Streams the object into `file`, `len` bytes exactly; answers their SHA-256.
    async fn download(
        &self,
        key: &ObjectPath,
        mut file: tokio::fs::File,
        len: u64,
    ) -> io::Result<Vec<u8>> {
        let got = timed(REQUEST_TIMEOUT, self.bulk.get(key)).await?;
        let mut body = with_idle_timeout(
            got.into_stream()
                .map(|c| c.map_err(io::Error::from))
                .boxed(),
        );
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            if size > len {
                break;
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await?;
        }
        if size != len {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the object has {size} bytes, its HEAD said {len}"),
            ));
        }
        file.flush().await?;
        Ok(hasher.finalize().to_vec())
    }
}

/// Sends the `len` bytes of `file` as the parts of `upload` and completes it; aborts it on
/// error. (`WriteMultipart::finish` would leave it open when its last part fails.)
async fn upload_parts(
    upload: &mut dyn MultipartUpload,
    file: fs::File,
    len: u64,
) -> io::Result<()> {
    let mut parts = JoinSet::new();
    let mut result = send_parts(upload, &mut parts, file, len).await;
    if result.is_ok() {
        result = timed(PUT_TIMEOUT, upload.complete()).await.map(drop);
    }
    if result.is_err() {
        parts.shutdown().await;
        // The upload's error matters, not the abort's.
        let _ = timed(REQUEST_TIMEOUT, upload.abort()).await;
    }
    result
}

/// Sends the `len` bytes of `file` as the parts of `upload`, [`PARTS_IN_FLIGHT`] at a time
/// (read only when one may start, so memory holds about that many parts).
async fn send_parts(
    upload: &mut dyn MultipartUpload,
    parts: &mut JoinSet<io::Result<()>>,
    mut file: fs::File,
    len: u64,
) -> io::Result<()> {
    let mut sent: u64 = 0;
    while sent < len {
        while parts.len() >= PARTS_IN_FLIGHT {
            join_part(parts).await?;
        }
        let want = (len - sent).min(PART_SIZE as u64) as usize;
        let (rest, part) = read_chunk(file, want).await?;
        file = rest;
        if part.len() != want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the temporary file changed while it was read",
            ));
        }
        sent += want as u64;
        parts.spawn(timed(PUT_TIMEOUT, upload.put_part(PutPayload::from(part))));
    }
    while !parts.is_empty() {
        join_part(parts).await?;
    }
    Ok(())
}

/// Deletes the temporary files (`.tmp…`) in `dir` not modified for `idle`.
pub(crate) fn remove_stale_temp_files(dir: &Path, idle: Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_temp = name.to_str().is_some_and(|n| n.starts_with(".tmp"));
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .map(|t| t.elapsed().unwrap_or(Duration::ZERO))
            .is_some_and(|age| age >= idle);
        if is_temp && stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blobs::Encoding;
    use std::time::Instant;

    /// A store to run the contract against, and the directories it lives in.
    struct Case {
        name: &'static str,
        store: BlobStore,
        _dirs: tempfile::TempDir,
    }

    /// The bucket of the S3 half (`eval "$(bash .ci/s3.sh)"`); `None` (a note) without one, a
    /// failure with `FLAKINESS_REQUIRE_SERVICES=1`.
    fn test_bucket() -> Option<String> {
        match std::env::var("FLAKINESS_TEST_S3_BUCKET") {
            Ok(bucket) if !bucket.is_empty() => Some(bucket),
            _ => {
                let required = std::env::var("FLAKINESS_REQUIRE_SERVICES").as_deref() == Ok("1");
                assert!(
                    !required,
                    "FLAKINESS_REQUIRE_SERVICES=1 but FLAKINESS_TEST_S3_BUCKET is not set: \
                     eval \"$(bash .ci/s3.sh)\" first"
                );
                eprintln!(
                    "note: the S3 half skips: FLAKINESS_TEST_S3_BUCKET is not set \
                     (eval \"$(bash .ci/s3.sh)\")"
                );
                None
            }
        }
    }

    fn unique_prefix() -> String {
        format!("test-{}/server", crate::random_hex(8))
    }

    /// An S3 store of the test bucket under a fresh prefix, configured by `builder`.
    fn s3_case(bucket: &str, builder: AmazonS3Builder) -> Case {
        let dirs = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open_s3(bucket, &unique_prefix(), dirs.path(), builder)
            .expect("open the S3 store");
        Case {
            name: "s3",
            store,
            _dirs: dirs,
        }
    }

    /// The local store, and the S3 one when the test bucket is configured.
    fn cases() -> Vec<Case> {
        let dirs = tempfile::tempdir().expect("tempdir");
        let url = BlobUrl::Local(dirs.path().join("blobs"));
        let store = BlobStore::open(&url, &dirs.path().join("scratch")).expect("open");
        let mut cases = vec![Case {
            name: "local",
            store,
            _dirs: dirs,
        }];
        if let Some(bucket) = test_bucket() {
            cases.push(s3_case(&bucket, s3_builder_from_env()));
        }
        cases
    }

    fn receive(store: &BlobStore, bytes: &[u8]) -> blobs::Written {
        blobs::receive(
            io::Cursor::new(bytes.to_vec()),
            Encoding::Identity,
            1 << 40,
            store.temp_dir(),
        )
        .expect("receive")
    }

    /// Receives and persists `bytes`; answers their SHA-256.
    async fn put(store: &BlobStore, bytes: &[u8]) -> String {
        let written = receive(store, bytes);
        let sha = written.sha256.clone();
        store.persist(written).await.expect("persist");
        sha
    }

    async fn get_all(store: &BlobStore, sha: &str) -> Option<(Vec<u8>, u64)> {
        let (mut body, len) = store.get(sha).await.expect("get")?;
        let mut all = Vec::new();
        while let Some(chunk) = body.next().await {
            all.extend_from_slice(&chunk.expect("a chunk"));
        }
        Some((all, len))
    }

    fn temp_files(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .expect("read_dir")
            .flatten()
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.starts_with(".tmp"))
            .collect()
    }

    fn random_bytes(n: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; n];
        rand::fill(&mut bytes[..]);
        bytes
    }

    /// Every way of reading `sha` gives `bytes`.
    async fn assert_stored(case: &Case, sha: &str, bytes: &[u8]) {
        let (store, name) = (&case.store, case.name);
        assert_eq!(crate::sha256_hex(bytes), sha, "{name}");
        assert!(store.exists(sha).await.expect("exists"), "{name}");
        let (got, len) = get_all(store, sha).await.expect("stored");
        assert_eq!(len, bytes.len() as u64, "{name}");
        assert!(got == bytes, "{name}: get gave other bytes");
        let (head, total) = store
            .get_head(sha, 5)
            .await
            .expect("get_head")
            .expect("stored");
        assert_eq!(head, &bytes[..bytes.len().min(5)], "{name}");
        assert_eq!(total, bytes.len() as u64, "{name}: the whole length");
        let (all, _) = store
            .get_head(sha, u64::MAX)
            .await
            .expect("get_head")
            .expect("stored");
        assert!(all == bytes, "{name}: get_head gave other bytes");
        let copy = store
            .local_copy(sha, bytes.len() as u64)
            .await
            .expect("local_copy")
            .expect("stored");
        assert_eq!(copy.len(), bytes.len() as u64, "{name}");
        if let Backend::Local { dir } = &*store.backend {
            assert_eq!(copy.path(), dir.join(sha), "the blob's own file");
        }
        assert!(
            fs::read(copy.path()).expect("read the copy") == bytes,
            "{name}: the local copy has other bytes"
        );
    }

    #[test]
    fn blob_urls_parse() {
        let s3 = |bucket: &str, prefix: &str| BlobUrl::S3 {
            bucket: bucket.into(),
            prefix: prefix.into(),
        };
        let good = [
            ("s3://bucket", s3("bucket", "")),
            ("s3://bucket/", s3("bucket", "")),
            (
                "S3://my.bucket-1/some/prefix",
                s3("my.bucket-1", "some/prefix"),
            ),
            ("s3://bucket/team/a/", s3("bucket", "team/a")),
            (
                "file:///srv/flakiness/blobs",
                BlobUrl::Local("/srv/flakiness/blobs".into()),
            ),
            ("file://localhost/srv/b", BlobUrl::Local("/srv/b".into())),
            (
                "/srv/flakiness/blobs",
                BlobUrl::Local("/srv/flakiness/blobs".into()),
            ),
            ("data/blobs", BlobUrl::Local("data/blobs".into())),
            ("notes:v2", BlobUrl::Local("notes:v2".into())),
        ];
        for (text, want) in good {
            assert_eq!(text.parse::<BlobUrl>(), Ok(want), "{text}");
        }
        for text in [
            "s3://bucket",
            "s3://bucket/some/prefix",
            "file:///srv/b",
            "data/b",
        ] {
            let url: BlobUrl = text.parse().expect("parses");
            assert_eq!(url.to_string(), text);
        }
    }

    #[test]
    fn bad_blob_urls_are_refused() {
        let kind = |e: &BlobUrlError| match e {
            BlobUrlError::Empty => "empty",
            BlobUrlError::Scheme(_) => "scheme",
            BlobUrlError::NoBucket(_) => "no bucket",
            BlobUrlError::BadBucket { .. } => "bad bucket",
            BlobUrlError::BadPrefix { .. } => "bad prefix",
            BlobUrlError::Query(_) => "query",
            BlobUrlError::FileUrl(_) => "file URL",
        };
        let bad = [
            ("", "empty"),
            ("  ", "empty"),
            ("gs://bucket/x", "scheme"),
            ("https://s3.amazonaws.com/b", "scheme"),
            ("s3://", "no bucket"),
            ("s3:///prefix", "no bucket"),
            ("s3:bucket", "no bucket"),
            ("s3://bucket?region=eu", "query"),
            ("s3://bucket/p#x", "query"),
            ("s3://user@bucket", "bad bucket"),
            ("s3://bucket:9000/p", "bad bucket"),
            ("s3://bucket/a//b", "bad prefix"),
            ("s3://bucket/a/../b", "bad prefix"),
            ("file://host/srv", "file URL"),
            ("file:relative", "file URL"),
            ("file:/abs", "file URL"),
        ];
        for (text, expected) in bad {
            let err = text.parse::<BlobUrl>().expect_err(text);
            assert_eq!(kind(&err), expected, "{text:?}: {err}");
        }
    }

    #[tokio::test]
    async fn blobs_round_trip() {
        for case in cases() {
            let store = &case.store;
            for bytes in [&b"hello, blobs"[..], b"", b"x"] {
                let sha = put(store, bytes).await;
                assert_stored(&case, &sha, bytes).await;
            }
            assert_eq!(
                temp_files(store.temp_dir()),
                Vec::<String>::new(),
                "{}",
                case.name
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_blobs_go_in_parts() {
        let bytes = random_bytes(20 << 20);
        for case in cases() {
            let store = &case.store;
            let written = receive(store, &bytes);
            let temp = written.temp.path().to_path_buf();
            let sha = written.sha256.clone();
            store.persist(written).await.expect("persist");
            assert!(!temp.exists(), "{}: the temporary file is left", case.name);
            assert_stored(&case, &sha, &bytes).await;
            if let Backend::S3(s3) = &*store.backend {
                // A multipart upload's ETag ends with its number of parts: 8 + 8 + 4 MiB.
                let meta = s3.meta.head(&s3.key(&sha)).await.expect("head");
                let e_tag = meta.e_tag.unwrap_or_default();
                assert!(e_tag.trim_matches('"').ends_with("-3"), "ETag {e_tag}");
            }
            assert_eq!(
                temp_files(store.temp_dir()),
                Vec::<String>::new(),
                "{}",
                case.name
            );
        }
    }

    /// A multipart upload that records its parts and may refuse one.
    #[derive(Debug, Default)]
    struct FakeUpload {
        sizes: Vec<usize>,
        refuse_part: Option<usize>,
        completed: bool,
        aborted: bool,
    }

    #[async_trait::async_trait]
    impl MultipartUpload for FakeUpload {
        fn put_part(&mut self, data: PutPayload) -> object_store::UploadPart {
            let refused = self.refuse_part == Some(self.sizes.len());
            self.sizes.push(data.content_length());
            Box::pin(async move {
                match refused {
                    true => Err(object_store::Error::Generic {
                        store: "fake",
                        source: "part refused".into(),
                    }),
                    false => Ok(()),
                }
            })
        }

        async fn complete(&mut self) -> object_store::Result<object_store::PutResult> {
            self.completed = true;
            Ok(object_store::PutResult {
                e_tag: None,
                version: None,
            })
        }

        async fn abort(&mut self) -> object_store::Result<()> {
            self.aborted = true;
            Ok(())
        }
    }

    #[tokio::test]
    async fn multipart_uploads_are_completed_or_aborted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("body");
        let len = 2 * PART_SIZE + 5;
        fs::write(&path, random_bytes(len)).expect("write");
        for refuse_part in [None, Some(0), Some(1), Some(2)] {
            let mut upload = FakeUpload {
                refuse_part,
                ..FakeUpload::default()
            };
            let file = fs::File::open(&path).expect("open");
            let result = upload_parts(&mut upload, file, len as u64).await;
            assert_eq!(result.is_ok(), refuse_part.is_none(), "{refuse_part:?}");
            assert_eq!(upload.completed, refuse_part.is_none(), "{refuse_part:?}");
            assert_eq!(upload.aborted, refuse_part.is_some(), "{refuse_part:?}");
            if refuse_part.is_none() {
                assert_eq!(upload.sizes, [PART_SIZE, PART_SIZE, 5]);
            }
        }
    }

    #[tokio::test]
    async fn failed_uploads_leave_no_temporary_file() {
        let Some(bucket) = test_bucket() else {
            return;
        };
        let wrong_key = s3_builder_from_env().with_secret_access_key("not-the-secret");
        let case = s3_case(&bucket, wrong_key);
        for len in [10, PART_SIZE + 1] {
            let written = receive(&case.store, &random_bytes(len));
            let temp = written.temp.path().to_path_buf();
            let err = case.store.persist(written).await.expect_err("a wrong key");
            assert!(err.to_string().contains("403"), "{err}");
            assert!(!temp.exists(), "{len} bytes: the temporary file is left");
        }
    }

    #[tokio::test]
    async fn the_same_content_twice_is_one_blob() {
        for case in cases() {
            let bytes = b"twice";
            let first = put(&case.store, bytes).await;
            let second = put(&case.store, bytes).await;
            assert_eq!(first, second);
            assert_stored(&case, &first, bytes).await;
        }
    }

    /// Puts something named `name` next to the blobs, not through the store.
    async fn plant(store: &BlobStore, name: &str) {
        match &*store.backend {
            Backend::Local { dir } => fs::write(dir.join(name), b"planted").expect("write"),
            Backend::S3(s3) => {
                s3.meta
                    .put(&s3.key(name), PutPayload::from_static(b"planted"))
                    .await
                    .expect("put");
            }
        }
    }

    async fn planted_exists(store: &BlobStore, name: &str) -> bool {
        match &*store.backend {
            Backend::Local { dir } => dir.join(name).exists(),
            Backend::S3(s3) => s3.meta.head(&s3.key(name)).await.is_ok(),
        }
    }

    #[tokio::test]
    async fn remove_deletes_blobs_and_nothing_else() {
        for case in cases() {
            let (store, name) = (&case.store, case.name);
            let sha = put(store, b"to be removed").await;
            store.remove(&sha).await.expect("remove");
            assert!(!store.exists(&sha).await.expect("exists"), "{name}");
            assert!(get_all(store, &sha).await.is_none(), "{name}");
            store.remove(&sha).await.expect("remove again");
            store
                .remove(&crate::sha256_hex(b"never stored"))
                .await
                .expect("remove a missing blob");
            let short = &sha[..63];
            for other in ["README", short] {
                plant(store, other).await;
                store.remove(other).await.expect("remove a non-blob");
                assert!(
                    planted_exists(store, other).await,
                    "{name}: {other} was removed"
                );
            }
            assert!(!store.exists("README").await.expect("exists"), "{name}");
            assert!(store.get("README").await.expect("get").is_none(), "{name}");
        }
    }

    #[tokio::test]
    async fn local_copy_refuses_large_blobs() {
        for case in cases() {
            let sha = put(&case.store, b"0123456789").await;
            match case.store.local_copy(&sha, 9).await {
                Err(BlobStoreError::TooLarge { len: 10, max: 9 }) => {}
                other => panic!("{}: {other:?}", case.name),
            }
            assert!(
                temp_files(case.store.temp_dir()).is_empty(),
                "{}",
                case.name
            );
        }
    }

    #[tokio::test]
    async fn missing_blobs_are_none() {
        for case in cases() {
            let (store, name) = (&case.store, case.name);
            let sha = crate::sha256_hex(b"never stored");
            assert!(!store.exists(&sha).await.expect("exists"), "{name}");
            assert!(store.get(&sha).await.expect("get").is_none(), "{name}");
            assert!(
                store.get_head(&sha, 10).await.expect("head").is_none(),
                "{name}"
            );
            let copy = store.local_copy(&sha, 10).await.expect("local_copy");
            assert!(copy.is_none(), "{name}");
            assert!(
                store.get("../secret").await.expect("get").is_none(),
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn local_copies_are_temporary() {
        let Some(bucket) = test_bucket() else {
            return;
        };
        let case = s3_case(&bucket, s3_builder_from_env());
        let sha = put(&case.store, b"copied").await;
        let copy = case.store.local_copy(&sha, 100).await.expect("copy");
        let path = copy.expect("stored").path().to_path_buf();
        assert!(!path.exists(), "the copy outlived its LocalBlob");
        assert!(temp_files(case.store.temp_dir()).is_empty());
    }

    #[tokio::test]
    async fn check_passes_on_usable_stores() {
        for case in cases() {
            case.store.check().await.expect(case.name);
        }
    }

    #[tokio::test]
    async fn check_fails_on_a_missing_directory() {
        let dirs = tempfile::tempdir().expect("tempdir");
        let dir = dirs.path().join("blobs");
        let store = BlobStore::open(&BlobUrl::Local(dir.clone()), dirs.path()).expect("open");
        fs::remove_dir(&dir).expect("remove");
        let err = store.check().await.expect_err("no directory");
        assert!(err.contains("blobs"), "{err}");
    }

    /// `check` of an S3 store that `builder` misconfigures fails, within 10 s.
    async fn check_fails(bucket: &str, builder: AmazonS3Builder, what: &str) {
        let case = s3_case(bucket, builder);
        let start = Instant::now();
        let err = case.store.check().await.expect_err(what);
        let took = start.elapsed();
        eprintln!("{what}: {err} ({took:?})");
        assert!(took < Duration::from_secs(10), "{what}: took {took:?}");
        assert!(err.starts_with("s3://"), "{what}: {err}");
    }

    #[tokio::test]
    async fn check_fails_on_bad_s3_settings() {
        let Some(bucket) = test_bucket() else {
            return;
        };
        let missing = format!("flakiness-missing-{}", crate::random_hex(4));
        check_fails(&missing, s3_builder_from_env(), "a missing bucket").await;
        let wrong_key = s3_builder_from_env().with_secret_access_key("not-the-secret");
        check_fails(&bucket, wrong_key, "a wrong secret key").await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let closed = s3_builder_from_env().with_endpoint(format!("http://127.0.0.1:{port}"));
        check_fails(&bucket, closed, "a closed port").await;
    }

    #[test]
    fn descriptions_name_no_secret() {
        let dirs = tempfile::tempdir().expect("tempdir");
        let builder = AmazonS3Builder::new()
            .with_access_key_id("AKIDEXAMPLE")
            .with_secret_access_key("very-secret-key")
            .with_endpoint("http://user:password@127.0.0.1:9/");
        let store = BlobStore::open_s3("bucket", "team/a", dirs.path(), builder).expect("open");
        assert_eq!(
            store.describe(),
            "s3://bucket/team/a (endpoint http://***@127.0.0.1:9/)"
        );
        let debug = format!("{store:?}");
        assert!(
            !debug.contains("very-secret-key") && !debug.contains("password"),
            "{debug}"
        );
        let store =
            BlobStore::open_s3("bucket", "", dirs.path(), AmazonS3Builder::new()).expect("open");
        assert_eq!(store.describe(), "s3://bucket (region us-east-1)");
        let local =
            BlobStore::open(&BlobUrl::Local(dirs.path().join("b")), dirs.path()).expect("open");
        assert_eq!(
            local.describe(),
            format!("file://{}", dirs.path().join("b").display())
        );
    }

    #[test]
    fn endpoints_are_taken_as_the_aws_cli_does() {
        fn vars<'a>(set: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
            move |name| {
                let found = set.iter().find(|(n, _)| *n == name);
                found.map(|(_, v)| v.to_string())
            }
        }
        let all = [
            ("AWS_ENDPOINT", "http://a"),
            ("AWS_ENDPOINT_URL", "http://b"),
            ("AWS_ENDPOINT_URL_S3", "http://c"),
        ];
        assert_eq!(endpoint_from(vars(&all)).as_deref(), Some("http://c"));
        assert_eq!(endpoint_from(vars(&all[..2])).as_deref(), Some("http://b"));
        assert_eq!(endpoint_from(vars(&all[..1])).as_deref(), Some("http://a"));
        let empty_s3 = [
            ("AWS_ENDPOINT_URL", "http://b"),
            ("AWS_ENDPOINT_URL_S3", ""),
        ];
        assert_eq!(endpoint_from(vars(&empty_s3)).as_deref(), Some("http://b"));
        assert_eq!(endpoint_from(vars(&[])), None);
    }

    #[test]
    fn keys_are_under_the_prefix() {
        let dirs = tempfile::tempdir().expect("tempdir");
        let sha = crate::sha256_hex(b"k");
        for (prefix, key) in [
            ("", format!("blobs/{sha}")),
            ("team/a", format!("team/a/blobs/{sha}")),
        ] {
            let store = BlobStore::open_s3("bucket", prefix, dirs.path(), AmazonS3Builder::new())
                .expect("open");
            let Backend::S3(s3) = &*store.backend else {
                unreachable!("an S3 store");
            };
            assert_eq!(s3.key(&sha).as_ref(), key);
        }
    }

    #[test]
    fn stale_temp_files_are_removed() {
        let dirs = tempfile::tempdir().expect("tempdir");
        let store =
            BlobStore::open(&BlobUrl::Local(dirs.path().to_path_buf()), dirs.path()).expect("open");
        fs::write(dirs.path().join(".tmpAbC"), b"abandoned").expect("write");
        fs::write(dirs.path().join(crate::sha256_hex(b"kept")), b"kept").expect("write");
        store.remove_stale_temp_files(Duration::from_secs(3600));
        assert_eq!(temp_files(dirs.path()), [".tmpAbC"]);
        store.remove_stale_temp_files(Duration::ZERO);
        assert!(temp_files(dirs.path()).is_empty());
        assert!(dirs.path().join(crate::sha256_hex(b"kept")).exists());
    }
}
