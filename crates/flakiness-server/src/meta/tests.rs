//! The contract of [`Meta`], run against SQLite always and PostgreSQL when
//! `FLAKINESS_TEST_DATABASE_URL` names a server (`.ci/run` starts one; with
//! `FLAKINESS_REQUIRE_SERVICES=1`, a missing server fails the run).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::postgres::PgMeta;
use super::sqlite::SqliteMeta;
use super::*;

/// A PostgreSQL database of its own, dropped with it.
struct PgDb {
    admin: String,
    name: String,
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = ::postgres::Client::connect(&self.admin, ::postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The stores to run against, each with what keeps it alive.
fn stores() -> Vec<(Box<dyn Meta>, Box<dyn std::any::Any>)> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite = SqliteMeta::open(&dir.path().join("server.db")).expect("sqlite");
    let mut out: Vec<(Box<dyn Meta>, Box<dyn std::any::Any>)> =
        vec![(Box::new(sqlite), Box::new(dir))];
    match std::env::var("FLAKINESS_TEST_DATABASE_URL") {
        Ok(admin) => {
            let name = format!(
                "flakiness_meta_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            );
            let mut c = ::postgres::Client::connect(&admin, ::postgres::NoTls).expect("pg");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let meta = PgMeta::connect(&format!("{base}/{name}")).expect("connect");
            out.push((Box::new(meta), Box::new(PgDb { admin, name })));
        }
        Err(_) if std::env::var("FLAKINESS_REQUIRE_SERVICES").as_deref() == Ok("1") => {
            panic!("FLAKINESS_REQUIRE_SERVICES=1 but FLAKINESS_TEST_DATABASE_URL is not set")
        }
        Err(_) => eprintln!("PostgreSQL half skipped: FLAKINESS_TEST_DATABASE_URL is not set"),
    }
    out
}

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn yes() -> Result<bool, String> {
    Ok(true)
}

/// Makes acme/web with a token; answers the project id.
fn project(m: &dyn Meta) -> i64 {
    m.create_token("acme", "web", "tokenhash1", 1)
        .expect("token");
    m.token("tokenhash1")
        .expect("token")
        .expect("found")
        .project_id
}

#[test]
fn tokens_are_stored_listed_and_revoked() {
    for (m, _keep) in stores() {
        let m = m.as_ref();
        m.create_token("acme", "web", "ab12cd", 10).expect("token");
        m.create_token("acme", "api", "ef34gh", 20).expect("token");
        m.create_token("acme", "web", "ab99zz", 30).expect("token");
        let all = m.tokens().expect("tokens");
        let listed: Vec<(&str, &str)> = all
            .iter()
            .map(|t| (t.project.as_str(), t.hash.as_str()))
            .collect();
        assert_eq!(
            listed,
            [("api", "ef34gh"), ("web", "ab12cd"), ("web", "ab99zz")]
        );
        assert_eq!(
            m.projects().expect("projects"),
            [
                ("acme".to_string(), "api".to_string()),
                ("acme".into(), "web".into())
            ]
        );
        let t = m.token("ab12cd").expect("token").expect("found");
        assert_eq!(
            (t.org.as_str(), t.project.as_str(), t.created_ms),
            ("acme", "web", 10)
        );
        assert!(m.token("nope").expect("token").is_none());
        m.revoke_token("ab12", 40).expect("revoke");
        assert!(m.token("ab12cd").expect("token").is_none());
        assert_eq!(
            m.revoked("ab12cd").expect("revoked").as_deref(),
            Some("ab12cd")
        );
        assert!(m.token("ab99zz").expect("token").is_some());
        assert!(m.revoked("ab99zz").expect("revoked").is_none());
        m.ping().expect("ping");
        assert!(
            !m.describe().contains(":flakiness@"),
            "no password: {}",
            m.describe()
        );
    }
}

#[test]
fn an_upload_records_blobs_finishes_once_and_expires() {
    for (m, _keep) in stores() {
        let m = m.as_ref();
        let p = project(m);
        m.create_upload("u1", p, "uploadhash1", 100)
            .expect("upload");
        let (stored, row) = m
            .upload_by_token("uploadhash1")
            .expect("by token")
            .expect("found");
        assert_eq!(stored, "uploadhash1");
        assert_eq!(
            row,
            UploadRow {
                id: "u1".into(),
                org: "acme".into(),
                project: "web".into(),
                finished: false,
                report_blob: None,
            }
        );
        let ids: Vec<String> = (0..3).map(|i| format!("a{i}")).collect();
        assert!(m.declare_attachments("u1", &ids, 3).expect("declare"));
        assert!(!m
            .declare_attachments("u1", &["a9".to_string()], 3)
            .expect("declare"));
        assert_eq!(m.attachment("u1", "a0").expect("att"), Some((None, None)));
        assert_eq!(m.attachment("u1", "a9").expect("att"), None);

        // A report, then a retried PUT with other content: the first is replaced.
        assert_eq!(
            m.record_blob("u1", BlobSlot::Report, SHA_A, &yes)
                .expect("record"),
            Recorded::Done { replaced: None }
        );
        assert_eq!(
            m.record_blob("u1", BlobSlot::Report, SHA_B, &yes)
                .expect("record"),
            Recorded::Done {
                replaced: Some(SHA_A.into())
            }
        );
        let att = BlobSlot::Attachment {
            id: "a0",
            content_type: "image/png",
        };
        assert_eq!(
            m.record_blob("u1", att, SHA_A, &yes).expect("record"),
            Recorded::Done { replaced: None }
        );
        assert_eq!(
            m.attachment("u1", "a0").expect("att"),
            Some((Some(SHA_A.into()), Some("image/png".into())))
        );
        // A blob gone from storage is not recorded.
        let gone = || Ok(false);
        assert_eq!(
            m.record_blob("u1", BlobSlot::Report, SHA_A, &gone)
                .expect("record"),
            Recorded::BlobGone
        );
        assert_eq!(
            m.record_blob("nope", BlobSlot::Report, SHA_A, &yes)
                .expect("record"),
            Recorded::NoUpload
        );
        // Referenced blobs are not collected.
        let removed = Mutex::new(Vec::new());
        let remove = |sha: &str| {
            removed.lock().expect("lock").push(sha.to_string());
            Ok(())
        };
        assert!(!m.collect_blob(SHA_A, &|| remove(SHA_A)).expect("collect"));
        assert!(!m.collect_blob(SHA_B, &|| remove(SHA_B)).expect("collect"));
        assert!(removed.lock().expect("lock").is_empty());

        assert!(m.run_page_of("u1").expect("page").is_none());
        assert!(m.finish("u1", 7, "hash7", 200).expect("finish"));
        assert!(
            !m.finish("u1", 7, "hash7", 201).expect("again"),
            "finished once"
        );
        assert_eq!(
            m.record_blob("u1", BlobSlot::Report, SHA_A, &yes)
                .expect("record"),
            Recorded::Finished
        );
        assert_eq!(m.run_page_of("u1").expect("page"), Some((7, "u1".into())));
        assert_eq!(m.report_blob("u1").expect("report"), Some(SHA_B.into()));
        assert_eq!(
            m.run_blob("acme", "web", "u1", None).expect("blob"),
            Some(SHA_B.into())
        );
        assert_eq!(
            m.run_blob("acme", "web", "u1", Some("a0")).expect("blob"),
            Some(SHA_A.into())
        );
        assert_eq!(m.run_blob("acme", "api", "u1", None).expect("blob"), None);

        // A second upload of the same run: the page stays the first upload's.
        m.create_upload("u2", p, "uploadhash2", 300)
            .expect("upload");
        m.record_blob("u2", BlobSlot::Report, SHA_B, &yes)
            .expect("record");
        assert!(m.finish("u2", 7, "hash7", 400).expect("finish"));
        assert_eq!(m.run_page_of("u2").expect("page"), Some((7, "u1".into())));
        let runs = m
            .project_runs("acme", "web")
            .expect("runs")
            .expect("project");
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[&7], "u1");
        assert!(m.project_runs("acme", "nope").expect("runs").is_none());

        // A pending upload expires with its rows; its blobs are listed for collection.
        m.create_upload("u3", p, "uploadhash3", 500)
            .expect("upload");
        m.record_blob("u3", BlobSlot::Report, SHA_A, &yes)
            .expect("record");
        let c = "c".repeat(64);
        let att = BlobSlot::Attachment {
            id: "log",
            content_type: "text/plain",
        };
        m.record_blob("u3", att, &c, &yes).expect("record");
        assert_eq!(m.expire_pending(499).expect("expire"), (0, vec![]));
        assert_eq!(
            m.expire_pending(500).expect("expire"),
            (1, vec![SHA_A.to_string(), c.clone()])
        );
        assert!(m.upload("u3").expect("upload").is_none());
        assert!(m.attachment("u3", "log").expect("att").is_none());
        // Finished uploads never expire.
        assert!(m.upload("u1").expect("upload").is_some());
        assert!(m.collect_blob(&c, &|| remove(&c)).expect("collect"));
        assert!(!m
            .collect_blob(SHA_A, &|| remove(SHA_A))
            .expect("still u1's"));
        assert_eq!(*removed.lock().expect("lock"), [c]);
    }
}

#[test]
fn a_refresh_is_claimed_once_per_change_and_taken_over_when_its_lease_lapses() {
    for (m, _keep) in stores() {
        let m = m.as_ref();
        let p = project(m);
        assert!(m
            .claim_refresh(None, "r1", 0, 1000)
            .expect("claim")
            .is_none());
        for (i, id) in ["u1", "u2"].iter().enumerate() {
            m.create_upload(id, p, &format!("h{id}"), 0)
                .expect("upload");
            m.record_blob(id, BlobSlot::Report, SHA_A, &yes)
                .expect("record");
            m.finish(id, i as i64 + 1, "x", 0).expect("finish");
        }
        let claim = m
            .claim_refresh(Some(("acme", "web")), "r1", 1000, 5000)
            .expect("claim")
            .expect("due");
        assert_eq!(
            claim,
            Claim {
                org: "acme".into(),
                project: "web".into(),
                upto: 2
            }
        );
        // Claimed: nobody else takes it while the lease runs.
        assert!(m
            .claim_refresh(None, "r2", 2000, 5000)
            .expect("claim")
            .is_none());
        // A change meanwhile is not covered by the claim.
        m.create_upload("u3", p, "hu3", 0).expect("upload");
        m.record_blob("u3", BlobSlot::Report, SHA_A, &yes)
            .expect("record");
        m.finish("u3", 3, "x", 0).expect("finish");
        // The lease lapses (r1 died): r2 takes it over, up to the newest change.
        let taken = m
            .claim_refresh(None, "r2", 7000, 5000)
            .expect("claim")
            .expect("lapsed");
        assert_eq!(taken.upto, 3);
        // r1 coming back late changes nothing.
        m.complete_refresh(&claim, "r1").expect("complete");
        let state = &m.refresh_states().expect("states")[0];
        assert_eq!((state.wanted, state.done, state.refreshes), (3, 0, 0));
        m.complete_refresh(&taken, "r2").expect("complete");
        let state = &m.refresh_states().expect("states")[0];
        assert_eq!((state.wanted, state.done, state.refreshes), (3, 3, 1));
        assert!(m
            .claim_refresh(None, "r1", 8000, 5000)
            .expect("claim")
            .is_none());
    }
}

/// A blob collected while `PUT`s of the same content record it: whatever the interleaving,
/// every recorded blob is still in storage at the end (the record checks storage under the
/// blob's lock, and the collection checks references under it).
#[test]
fn a_blob_is_never_collected_from_under_a_record() {
    for (m, _keep) in stores() {
        let m: Arc<dyn Meta> = Arc::from(m);
        let p = project(m.as_ref());
        // Up to 5 races, until one has records to check.
        let mut checked = false;
        for attempt in 0..5 {
            let storage: Arc<Mutex<HashSet<String>>> = Arc::default();
            let rounds = 60;
            for i in 0..rounds {
                m.create_upload(&format!("u{attempt}-{i}"), p, &format!("h{attempt}-{i}"), 0)
                    .expect("upload");
            }
            let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let collector = {
                let (m, storage, done) = (m.clone(), storage.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut removed = 0;
                    while !done.load(std::sync::atomic::Ordering::SeqCst) {
                        let removed_now = m
                            .collect_blob(SHA_A, &|| {
                                storage.lock().expect("lock").remove(SHA_A);
                                Ok(())
                            })
                            .expect("collect");
                        removed += usize::from(removed_now);
                        // Expire and re-create: the blob is unreferenced again now and then.
                        let (_, blobs) = m.expire_pending(0).expect("expire");
                        for b in blobs {
                            m.collect_blob(&b, &|| {
                                storage.lock().expect("lock").remove(&b);
                                Ok(())
                            })
                            .expect("collect");
                        }
                    }
                    removed
                })
            };
            let mut recorded = 0;
            for i in 0..rounds {
                let id = format!("u{attempt}-{i}");
                loop {
                    storage.lock().expect("lock").insert(SHA_A.to_string());
                    let present = || Ok(storage.lock().expect("lock").contains(SHA_A));
                    match m
                        .record_blob(&id, BlobSlot::Report, SHA_A, &present)
                        .expect("record")
                    {
                        Recorded::Done { .. } => {
                            recorded += 1;
                            break;
                        }
                        Recorded::BlobGone => continue,
                        Recorded::NoUpload | Recorded::Finished => break,
                    }
                }
                // Finished, it holds the blob for good.
                m.finish(&id, i, "x", 0).expect("finish");
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            let removed = collector.join().expect("join");
            if recorded == 0 {
                // The collector expired every upload before one recorded: race again.
                continue;
            }
            let runs = m
                .project_runs("acme", "web")
                .expect("runs")
                .expect("project");
            if !runs.is_empty() {
                assert!(
                    storage.lock().expect("lock").contains(SHA_A),
                    "a finished upload's blob was collected ({removed} collections, {recorded} records)"
                );
            }
            checked = true;
            break;
        }
        assert!(checked, "no race recorded a blob in 5 tries");
    }
}
