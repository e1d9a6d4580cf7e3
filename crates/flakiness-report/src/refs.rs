//! What an uploader needs of a report without reading all of it into the model: its
//! `flakinessProject` and the attachments it references (id and content type). The fields are
//! the model's (see [`crate::Attachment`]); everything else is skipped as it is parsed, so a
//! 200 MB report is scanned without building its tests in memory.

use serde::Deserialize;

/// The project and the attachment references of a report (see [`attachment_refs`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttachmentRefs {
    /// `flakinessProject`.
    pub flakiness_project: Option<String>,
    /// `(id, contentType)` of every attachment of every attempt and step, in document order,
    /// each id once (its first reference).
    pub attachments: Vec<(String, String)>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiteReport {
    flakiness_project: Option<String>,
    #[serde(default)]
    suites: Option<Vec<LiteSuite>>,
    #[serde(default)]
    tests: Option<Vec<LiteTest>>,
}

#[derive(Deserialize)]
struct LiteSuite {
    #[serde(default)]
    suites: Option<Vec<LiteSuite>>,
    #[serde(default)]
    tests: Option<Vec<LiteTest>>,
}

#[derive(Deserialize)]
struct LiteTest {
    #[serde(default)]
    attempts: Vec<LiteHolder>,
}

/// An attempt or a step: both hold attachments and steps.
#[derive(Deserialize)]
struct LiteHolder {
    #[serde(default)]
    attachments: Option<Vec<LiteAttachment>>,
    #[serde(default)]
    steps: Option<Vec<LiteHolder>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LiteAttachment {
    id: String,
    content_type: String,
}

/// Reads the project and the attachment references of `report.json` bytes.
pub fn attachment_refs(json: &[u8]) -> Result<AttachmentRefs, serde_json::Error> {
    let lite: LiteReport = crate::json_text::from_slice(json)?;
    let mut out = AttachmentRefs {
        flakiness_project: lite.flakiness_project,
        attachments: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    let mut add = |a: LiteAttachment| {
        if seen.insert(a.id.clone()) {
            out.attachments.push((a.id, a.content_type));
        }
    };
    fn holders(list: Vec<LiteHolder>, add: &mut dyn FnMut(LiteAttachment)) {
        for h in list {
            h.attachments.into_iter().flatten().for_each(&mut *add);
            holders(h.steps.unwrap_or_default(), add);
        }
    }
    fn tests(list: Vec<LiteTest>, add: &mut dyn FnMut(LiteAttachment)) {
        for t in list {
            holders(t.attempts, add);
        }
    }
    fn suites(list: Vec<LiteSuite>, add: &mut dyn FnMut(LiteAttachment)) {
        for s in list {
            tests(s.tests.unwrap_or_default(), add);
            suites(s.suites.unwrap_or_default(), add);
        }
    }
    tests(lite.tests.unwrap_or_default(), &mut add);
    suites(lite.suites.unwrap_or_default(), &mut add);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The light reading finds what the model finds, on every valid fixture.
    #[test]
    fn the_same_references_as_the_model() {
        let mut checked = 0;
        for (file, bytes) in crate::valid_fixtures() {
            let report: crate::Report = serde_json::from_slice(&bytes).expect("model");
            let mut expected: Vec<(String, String)> = Vec::new();
            fn steps(s: &[crate::TestStep], out: &mut Vec<(String, String)>) {
                for st in s {
                    for a in st.attachments.iter().flatten() {
                        out.push((a.id.clone(), a.content_type.clone()));
                    }
                    steps(st.steps.as_deref().unwrap_or_default(), out);
                }
            }
            for t in report.all_tests() {
                for a in &t.test.attempts {
                    for at in a.attachments.iter().flatten() {
                        expected.push((at.id.clone(), at.content_type.clone()));
                    }
                    steps(a.steps.as_deref().unwrap_or_default(), &mut expected);
                }
            }
            let mut seen = std::collections::HashSet::new();
            expected.retain(|(id, _)| seen.insert(id.clone()));
            let refs = attachment_refs(&bytes).expect("refs");
            let mut got = refs.attachments.clone();
            got.sort();
            expected.sort();
            assert_eq!(got, expected, "{}", file.display());
            assert_eq!(
                refs.flakiness_project,
                report.flakiness_project,
                "{}",
                file.display()
            );
            checked += 1;
        }
        assert!(checked >= 10, "{checked}");
    }
}
