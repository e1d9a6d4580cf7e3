//! Test keys numbered once for a whole ingest ([`TestKeys`]), and runs whose results name
//! their tests by those numbers ([`KeyedRun`]).
//!
//! The threads that read reports number each result's key (file, title path, environment)
//! while its strings are in their caches, and drop the strings there; the store then finds a
//! key's test by its number, without hashing or comparing the strings again (one look-up per
//! result, a million for 2,000 runs of 500 tests), and reads a key's strings only for the tests
//! it does not know yet.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use hashbrown::{DefaultHashBuilder, HashTable};

use crate::{RunMeta, RunRecord, TestKeyOwned, TestResult};

/// The number of a key in a [`TestKeys`].
pub type KeyId = u32;

/// Numbers test keys (file, title path, environment) for many runs; shared by the threads that
/// read reports (it locks once per run). Each table is told apart from the others (see
/// [`serial`](Self::serial)): numbers of one mean nothing to a store fed by another.
#[derive(Debug)]
pub struct TestKeys {
    /// Hashes keys outside the lock; the table's own hasher.
    hasher: DefaultHashBuilder,
    inner: Mutex<Numbered>,
    serial: u64,
}

/// The keys numbered so far, encoded ([`encode`]) one after the other in one buffer: key `i`
/// is `bytes[ends[i - 1]..ends[i]]`. One buffer, written only when a key is new: the threads
/// comparing keys with it never share a cache line with memory another thread keeps writing
/// (small strings of their own would sit beside the blocks their thread allocates and frees).
#[derive(Debug, Default)]
struct Numbered {
    table: HashTable<KeyId>,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Numbered {
    fn key(&self, id: KeyId) -> Option<&[u8]> {
        let i = id as usize;
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.bytes.get(start..end)
    }
}

/// A key as bytes: its strings in order (the file, the titles, the environment), each as its
/// length (4 bytes, little-endian) then its UTF-8.
fn encode<'a>(
    out: &mut Vec<u8>,
    file: &str,
    path: impl IntoIterator<Item = &'a str>,
    environment: &str,
) {
    let mut put = |s: &str| {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    put(file);
    for title in path {
        put(title);
    }
    put(environment);
}

/// The keys of one run's results, in order, gathered (encoded) as a reader finds them, without
/// a string of their own; [`TestKeys::number`] numbers them.
#[derive(Debug, Default)]
pub struct RunKeys {
    encoded: Vec<u8>,
    /// Where each key ends in `encoded`.
    ends: Vec<usize>,
}

impl RunKeys {
    /// Room for about `n` keys.
    pub fn with_capacity(n: usize) -> Self {
        RunKeys {
            encoded: Vec::with_capacity(n * 64),
            ends: Vec::with_capacity(n),
        }
    }

    /// Adds the key (`file`, the titles of `path`, `environment`).
    pub fn push<'a>(
        &mut self,
        file: &str,
        path: impl IntoIterator<Item = &'a str>,
        environment: &str,
    ) {
        encode(&mut self.encoded, file, path, environment);
        self.ends.push(self.encoded.len());
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// The key [`encode`] wrote into `bytes`.
fn decode(bytes: &[u8]) -> TestKeyOwned {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = bytes;
    while rest.len() >= 4 {
        let (len, tail) = rest.split_at(4);
        let len = u32::from_le_bytes(len.try_into().unwrap_or([0; 4])) as usize;
        let (s, tail) = tail.split_at(len.min(tail.len()));
        parts.push(String::from_utf8_lossy(s).into_owned());
        rest = tail;
    }
    let environment = parts.pop().unwrap_or_default();
    let file = if parts.is_empty() {
        String::new()
    } else {
        parts.remove(0)
    };
    (file, parts, environment)
}

/// A run whose results name their tests by the numbers of a [`TestKeys`]: `keys[i]` is the
/// number of the key of `results[i]`, whose own `file`, `title_path` and `environment` are
/// empty. What [`HistoryStore::ingest_keyed`](crate::HistoryStore::ingest_keyed) stores.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyedRun {
    pub meta: RunMeta,
    pub keys: Vec<KeyId>,
    pub results: Vec<TestResult>,
}

impl Default for TestKeys {
    fn default() -> Self {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        TestKeys {
            hasher: DefaultHashBuilder::default(),
            inner: Mutex::new(Numbered::default()),
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl TestKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Tells this table from every other one of the process.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// How many keys are numbered.
    pub fn len(&self) -> usize {
        self.lock().ends.len()
    }

    /// Whether no key is numbered yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Numbered> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The run with its results' keys numbered ([`number`](Self::number)) and taken out of
    /// the results (their strings are dropped here, on the caller's thread).
    pub fn key_run(&self, run: RunRecord) -> KeyedRun {
        let RunRecord { meta, mut results } = run;
        let mut run_keys = RunKeys::with_capacity(results.len());
        for r in &mut results {
            run_keys.push(
                &r.file,
                r.title_path.iter().map(String::as_str),
                &r.environment,
            );
            r.file = String::new();
            r.title_path = Vec::new();
            r.environment = String::new();
        }
        KeyedRun {
            meta,
            keys: self.number(&run_keys),
            results,
        }
    }

    /// The number of each key, in order: a key seen before keeps its number, a new one gets
    /// the next. Hashes the keys first, then locks the table once.
    pub fn number(&self, run_keys: &RunKeys) -> Vec<KeyId> {
        let RunKeys { encoded, ends } = run_keys;
        let mut start = 0;
        let spans: Vec<(usize, usize, u64)> = ends
            .iter()
            .map(|&end| {
                let span = (start, end, self.hasher.hash_one(&encoded[start..end]));
                start = end;
                span
            })
            .collect();
        let mut ids = Vec::with_capacity(spans.len());
        let mut numbered = self.lock();
        for (start, end, hash) in spans {
            let key = &encoded[start..end];
            let n = &*numbered;
            if let Some(&id) = n.table.find(hash, |&id| n.key(id) == Some(key)) {
                ids.push(id);
                continue;
            }
            let Numbered { table, bytes, ends } = &mut *numbered;
            let id = KeyId::try_from(ends.len()).unwrap_or(KeyId::MAX);
            bytes.extend_from_slice(key);
            ends.push(bytes.len());
            let hasher = &self.hasher;
            table.insert_unique(hash, id, |&i| {
                let i = i as usize;
                let start = if i == 0 { 0 } else { ends[i - 1] };
                hasher.hash_one(&bytes[start..ends[i]])
            });
            ids.push(id);
        }
        ids
    }

    /// Key `id`; `None` for a number this table never gave.
    pub fn key(&self, id: KeyId) -> Option<TestKeyOwned> {
        self.lock().key(id).map(decode)
    }

    /// The run as a [`RunRecord`], its results' keys put back.
    pub fn record(&self, run: &KeyedRun) -> RunRecord {
        let numbered = self.lock();
        let results = run
            .results
            .iter()
            .zip(&run.keys)
            .map(|(r, &id)| {
                let (file, title_path, environment) =
                    numbered.key(id).map(decode).unwrap_or_default();
                TestResult {
                    file,
                    title_path,
                    environment,
                    ..r.clone()
                }
            })
            .collect();
        RunRecord {
            meta: run.meta.clone(),
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(file: &str, path: &[&str], env: &str) -> TestResult {
        TestResult {
            file: file.into(),
            title_path: path.iter().map(|s| s.to_string()).collect(),
            environment: env.into(),
            attempts: 1,
            ..TestResult::default()
        }
    }

    #[test]
    fn equal_keys_get_one_number_and_come_back_whole() {
        let keys = TestKeys::new();
        let run = RunRecord {
            meta: RunMeta {
                content_hash: "h".into(),
                ..RunMeta::default()
            },
            results: vec![
                result("a.py", &["t"], "linux"),
                result("", &["a.py", "t"], "linux"),
                result("a.py", &["t"], "linux"),
                result("a.py", &["t"], "mac"),
            ],
        };
        let keyed = keys.key_run(run.clone());
        assert_eq!(keyed.keys, vec![0, 1, 0, 2]);
        assert!(keyed
            .results
            .iter()
            .all(|r| r.file.is_empty() && r.title_path.is_empty() && r.environment.is_empty()));
        assert_eq!(keys.len(), 3);
        assert_eq!(keys.record(&keyed), run);
        let again = keys.key_run(run.clone());
        assert_eq!(again.keys, vec![0, 1, 0, 2]);
        assert_eq!(
            keys.key(1),
            Some(("".into(), vec!["a.py".into(), "t".into()], "linux".into()))
        );
        assert_eq!(keys.key(3), None);
        assert_ne!(TestKeys::new().serial(), keys.serial());
    }

    #[test]
    fn keys_come_back_as_they_were() {
        for (file, path, env) in [
            ("", vec![], ""),
            ("a", vec![""], ""),
            ("", vec!["", ""], "e"),
            ("f.js", vec!["s", "t \u{203A} x"], "linux"),
        ] {
            let path: Vec<String> = path.into_iter().map(String::from).collect();
            let mut bytes = Vec::new();
            encode(&mut bytes, file, path.iter().map(String::as_str), env);
            assert_eq!(decode(&bytes), (file.to_string(), path, env.to_string()));
        }
    }
}
