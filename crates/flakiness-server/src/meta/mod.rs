//! The server's own state (projects, hashed tokens, uploads and their blobs, refresh jobs):
//! SQLite `<data>/server.db` by default ([`sqlite::SqliteMeta`]), or PostgreSQL
//! ([`postgres::PgMeta`]) shared by every replica. Both run the same versioned migrations and
//! answer the same calls; one contract suite (`tests/meta.rs` through the server) runs against
//! both.
//!
//! Calls block (file or network I/O): from async code, call them in `spawn_blocking`.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use std::collections::HashMap;

/// An upload as the metadata store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadRow {
    pub(crate) id: String,
    pub(crate) org: String,
    pub(crate) project: String,
    pub(crate) finished: bool,
    pub(crate) report_blob: Option<String>,
}

/// An attachment of an upload: its blob (none before its `PUT`) and content type.
pub(crate) type AttachmentRow = (Option<String>, Option<String>);

/// A stored access token: its SHA-256 (hex), project id, org and project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenRow {
    pub(crate) hash: String,
    pub(crate) project_id: i64,
    pub(crate) org: String,
    pub(crate) project: String,
    pub(crate) created_ms: i64,
}

/// What [`Meta::record_blob`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Recorded {
    /// Recorded; the blob it replaced (a retried `PUT` with other content), if any.
    Done { replaced: Option<String> },
    /// No such upload.
    NoUpload,
    /// The upload is finished: nothing changes any more.
    Finished,
    /// The blob is not in storage any more (collected by a concurrent cleanup between its
    /// write and this record): the `PUT` must be sent again.
    BlobGone,
}

/// Which blob of an upload a `PUT` wrote.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BlobSlot<'a> {
    Report,
    Attachment { id: &'a str, content_type: &'a str },
}

/// A claimed refresh of a project's pages (see [`Meta::claim_refresh`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    pub(crate) org: String,
    pub(crate) project: String,
    /// The change count the refresh covers once done.
    pub(crate) upto: i64,
}

/// A refresh as the job table counts it, for health pages and tests.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshState {
    pub org: String,
    pub project: String,
    /// Changes (finished uploads) so far.
    pub wanted: i64,
    /// Changes the last completed refresh covered.
    pub done: i64,
    /// Refreshes completed, by any replica.
    pub refreshes: i64,
}

/// Errors of the metadata store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetaError {
    #[error("{target}: {source}")]
    Sqlite {
        target: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{target}: {source}")]
    Postgres {
        target: String,
        #[source]
        source: ::postgres::Error,
    },
    #[error("{target}: no connection: {source}")]
    Pool {
        target: String,
        #[source]
        source: r2d2::Error,
    },
    #[error("{target}: {what}")]
    Schema { target: String, what: String },
    #[error("checking the blob store: {0}")]
    Blob(String),
}

/// The calls the server makes of its state. Implementations keep each call's statements in
/// one transaction; calls that name a blob take that blob's lock (an advisory lock in
/// PostgreSQL, the connection's mutex in SQLite), so that a blob is never collected while a
/// `PUT` records it.
pub(crate) trait Meta: Send + Sync {
    /// Where it is, for messages (a PostgreSQL URL without its password).
    fn describe(&self) -> String;
    /// Whether the store answers (readiness).
    fn ping(&self) -> Result<(), MetaError>;
    /// The HMAC key of presigned URLs when the store keeps it (PostgreSQL: every replica must
    /// sign alike): the stored one, or `fresh` stored first. `None`: the server keeps it in
    /// `<data>/secret`.
    fn shared_secret(&self, fresh: [u8; 32]) -> Result<Option<[u8; 32]>, MetaError>;

    /// Stores a token's hash for `org/project` (the project is created when missing).
    fn create_token(&self, org: &str, project: &str, hash: &str, now: i64)
        -> Result<(), MetaError>;
    /// Every token, by project then age.
    fn tokens(&self) -> Result<Vec<TokenRow>, MetaError>;
    /// Moves the tokens whose hash starts with `id` to the revoked ones.
    fn revoke_token(&self, id: &str, now: i64) -> Result<(), MetaError>;
    /// The token of this hash.
    fn token(&self, hash: &str) -> Result<Option<TokenRow>, MetaError>;
    /// The revoked token of this hash (its hash).
    fn revoked(&self, hash: &str) -> Result<Option<String>, MetaError>;

    /// Creates a pending upload.
    fn create_upload(
        &self,
        id: &str,
        project_id: i64,
        token_hash: &str,
        now: i64,
    ) -> Result<(), MetaError>;
    /// The upload whose token has this hash, and the stored hash.
    fn upload_by_token(&self, hash: &str) -> Result<Option<(String, UploadRow)>, MetaError>;
    /// An upload by id.
    fn upload(&self, id: &str) -> Result<Option<UploadRow>, MetaError>;
    /// Declares attachments of a pending upload; false (nothing changed) when that would make
    /// more than `max`.
    fn declare_attachments(
        &self,
        upload_id: &str,
        ids: &[String],
        max: usize,
    ) -> Result<bool, MetaError>;
    /// Records a written blob as the upload's report or one of its attachments, under the
    /// blob's lock, once `present()` says it is still in storage.
    fn record_blob(
        &self,
        upload_id: &str,
        slot: BlobSlot<'_>,
        sha: &str,
        present: &dyn Fn() -> Result<bool, String>,
    ) -> Result<Recorded, MetaError>;
    /// Under the blob's lock: when no upload refers to it, `remove()` it; answers whether it
    /// was removed.
    fn collect_blob(
        &self,
        sha: &str,
        remove: &dyn Fn() -> Result<(), String>,
    ) -> Result<bool, MetaError>;
    /// Marks a pending upload finished with its run; counts a change of its project for the
    /// refresh jobs. False when it was not pending (finished by another request already).
    fn finish(
        &self,
        upload_id: &str,
        run_id: i64,
        content_hash: &str,
        now: i64,
    ) -> Result<bool, MetaError>;
    /// The run a finished upload made or found, and the project's first finished upload of
    /// that run.
    fn run_page_of(&self, upload_id: &str) -> Result<Option<(i64, String)>, MetaError>;
    /// Deletes the pending uploads created at or before `cutoff` and their attachment rows;
    /// answers how many, and the blobs they referred to (to collect).
    fn expire_pending(&self, cutoff: i64) -> Result<(usize, Vec<String>), MetaError>;

    /// Projects, by org then name.
    fn projects(&self) -> Result<Vec<(String, String)>, MetaError>;
    /// A project's finished runs: run id → its oldest upload; `None` for no such project.
    fn project_runs(
        &self,
        org: &str,
        project: &str,
    ) -> Result<Option<HashMap<i64, String>>, MetaError>;
    /// The report blob of a finished upload.
    fn report_blob(&self, upload_id: &str) -> Result<Option<String>, MetaError>;
    /// An attachment of an upload: its blob (none before its `PUT`) and content type.
    fn attachment(
        &self,
        upload_id: &str,
        attachment_id: &str,
    ) -> Result<Option<AttachmentRow>, MetaError>;
    /// The blob of a finished upload of `org/project`: its report, or an attachment.
    fn run_blob(
        &self,
        org: &str,
        project: &str,
        upload_id: &str,
        attachment: Option<&str>,
    ) -> Result<Option<String>, MetaError>;

    /// Claims the refresh of one project with changes no refresh covered, whose last claim
    /// (if any) lapsed: `owner` holds it until `now + lease_ms`. `project` narrows it to one.
    fn claim_refresh(
        &self,
        project: Option<(&str, &str)>,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<Claim>, MetaError>;
    /// Ends a claim: the changes up to `claim.upto` are covered.
    fn complete_refresh(&self, claim: &Claim, owner: &str) -> Result<(), MetaError>;
    /// The refresh counts of every project.
    fn refresh_states(&self) -> Result<Vec<RefreshState>, MetaError>;
}

#[cfg(test)]
mod tests;
