//! Uploads of Flakiness reports: the messages of the Flakiness.io upload protocol
//! ([`protocol`]), shared with `flakiness serve`, and (feature `client`, on by default) a client
//! that uploads report directories to Flakiness.io or to a server of our own, and
//! [`download`]s runs' reports from a server of our own into report directories.

pub mod protocol;

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
pub mod download;

#[cfg(feature = "client")]
pub use client::{
    retry_after, upload, upload_blocking, Encoding, GithubOidc, Progress, Secret, UploadError,
    UploadOptions, Uploaded, DEFAULT_ENDPOINT, ERROR_BODY_MAX, MESSAGE_MAX, RETRY_AFTER_MAX,
};
