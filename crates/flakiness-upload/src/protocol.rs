//! The messages of the upload protocol, as the official clients speak it (spec/upload.md).
//!
//! 1. `POST {endpoint}/api/upload/start`, `Authorization: Bearer <access token>`, body
//!    [`StartRequest`] → [`StartResponse`].
//! 2. `POST {endpoint}/api/upload/attachments`, `Bearer <uploadToken>`, body
//!    [`AttachmentsRequest`] → a list of [`PresignedAttachment`], one per id.
//! 3. `PUT` the report to `presignedReportUrl` (brotli, or zstd when the server accepts it) and
//!    each attachment to its URL, with no `Authorization` header.
//! 4. `POST {endpoint}/api/upload/finish`, `Bearer <uploadToken>` → a JSON body.

use serde::{Deserialize, Serialize};

/// Path of step 1.
pub const START_PATH: &str = "/api/upload/start";
/// Path of step 2.
pub const ATTACHMENTS_PATH: &str = "/api/upload/attachments";
/// Path of step 4.
pub const FINISH_PATH: &str = "/api/upload/finish";

/// Body of `upload/start`: the project, from the report's `flakinessProject` ("org/project").
/// The official Python client sends no body at all; both fields are optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_slug: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_slug: Option<String>,
}

/// Answer of `upload/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartResponse {
    /// Bearer token of the next steps.
    pub upload_token: String,
    /// Where to `PUT` the report.
    pub presigned_report_url: String,
    /// The report's page, root-relative: resolved against the endpoint.
    pub web_url: String,
    /// Content encodings the server takes for the report and text attachments besides `br`
    /// (our server says `["zstd", "br"]`; Flakiness.io says nothing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept_encodings: Vec<String>,
}

/// Answer of `upload/finish`, as our server gives it (Flakiness.io's answer may hold none of
/// these: every field is optional). The same report uploaded again is the same run: `webUrl`
/// is then the page of the run as first uploaded, not the one `upload/start` announced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishResponse {
    /// The run's page, root-relative: resolved against the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_url: Option<String>,
    /// The run's id in the server's history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// The same report had been uploaded before: nothing new was stored.
    #[serde(default)]
    pub already_uploaded: bool,
}

/// Body of `upload/attachments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentsRequest {
    pub attachment_ids: Vec<String>,
}

/// One element of the answer of `upload/attachments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresignedAttachment {
    pub attachment_id: String,
    pub presigned_url: String,
}

/// Whether an attachment of this content type is sent compressed: `text/*`, `*+json`,
/// `*+xml`, `*+text` (case and surrounding space ignored), as the official clients decide.
pub fn is_text_like(content_type: &str) -> bool {
    let t = content_type.trim().to_ascii_lowercase();
    let essence = t.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || essence.ends_with("+text")
}

/// Whether an attachment id can name a file under `attachments/` (the format's rule:
/// [`flakiness_report::check_attachment_id`]): never empty, `.`, a path, `..` or control
/// characters.
pub fn is_safe_attachment_id(id: &str) -> bool {
    flakiness_report::check_attachment_id(id).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_official_field_names() {
        let start: StartResponse = serde_json::from_str(
            r#"{"uploadToken":"u","presignedReportUrl":"https://s/r","webUrl":"/o/p/run/1"}"#,
        )
        .expect("start");
        assert_eq!(start.upload_token, "u");
        assert!(start.accept_encodings.is_empty());
        let req = StartRequest {
            org_slug: Some("o".into()),
            project_slug: Some("p".into()),
        };
        assert_eq!(
            serde_json::to_string(&req).expect("json"),
            r#"{"orgSlug":"o","projectSlug":"p"}"#
        );
        assert_eq!(
            serde_json::to_string(&AttachmentsRequest {
                attachment_ids: vec!["a".into()]
            })
            .expect("json"),
            r#"{"attachmentIds":["a"]}"#
        );
        let list: Vec<PresignedAttachment> =
            serde_json::from_str(r#"[{"attachmentId":"a","presignedUrl":"https://s/a"}]"#)
                .expect("list");
        assert_eq!(list[0].attachment_id, "a");
    }

    #[test]
    fn text_like_types_and_safe_ids() {
        for t in [
            "text/plain",
            "TEXT/HTML; charset=utf-8",
            "application/vnd.x+json",
            " image/svg+xml",
            "application/x+text",
        ] {
            assert!(is_text_like(t), "{t}");
        }
        for t in ["image/png", "application/json", "application/zip", ""] {
            assert!(!is_text_like(t), "{t}");
        }
        for id in ["0123abcdef", "a.b-c_d", "trace.zip"] {
            assert!(is_safe_attachment_id(id), "{id}");
        }
        for id in ["", ".", "..", "../x", "a/b", "a\\b", "a\nb"] {
            assert!(!is_safe_attachment_id(id), "{id}");
        }
        assert!(!is_safe_attachment_id(&"a".repeat(5000)));
    }
}
