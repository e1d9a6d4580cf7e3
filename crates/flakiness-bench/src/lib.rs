//! # flakiness-bench
//!
//! Benchmark helpers of the `flakiness` toolkit (not published):
//!
//! * [`gen`]: a deterministic generator of large, realistic Flakiness report directories;
//! * the `flakiness-bench ignored-any FILE` baseline, a bare `serde_json` pass over a file;
//! * [`junit`]: a deterministic generator of large, Surefire-style JUnit XML files, and the
//!   `flakiness-bench xml-loop FILE` baseline, a bare quick-xml event loop over a file;
//! * [`load`]: `flakiness-bench upload-load`, many distinct uploads of one report spread
//!   round-robin over one or more `flakiness serve` endpoints.
//!
//! See `bench/run.sh`, `bench/junit.sh` and `bench/replicas.sh` at the root of the repository.

pub mod gen;
pub mod junit;
pub mod load;
pub mod rng;

pub use gen::{generate, GenOptions, GenSummary, MB};
pub use junit::{
    generate_junit, xml_loop_file, JunitGenOptions, JunitGenSummary, XmlLoopCounts,
    DEFAULT_OUTPUT_PER_MILLE,
};

/// Parses `bytes` as JSON without building anything: the cost of a bare `serde_json` pass.
pub fn parse_ignored_any(bytes: &[u8]) -> Result<(), serde_json::Error> {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map(|_| ())
}
