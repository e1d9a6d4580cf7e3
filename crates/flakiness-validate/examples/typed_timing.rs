//! Times the typed walk of a report's root suites (`Incremental::suite_value`, as `flakiness
//! convert` checks what it writes): `cargo run --release --example typed_timing -- FILE [RUNS]`
//! (FILE a report.json, say the output of `flakiness convert`).
fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: typed_timing FILE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(3);
        }
    };
    let mut report: flakiness_report::Report =
        serde_json::from_slice(&data).expect("a report the model reads");
    let suites = report.suites.take().unwrap_or_default();
    let mut rest = serde_json::to_value(&report).expect("report as JSON");
    if let Some(o) = rest.as_object_mut() {
        o.remove("suites");
    }
    let rest = rest.to_string();
    let v = flakiness_validate::Validator::new(flakiness_validate::Options::default())
        .expect("schema compiles");
    let mut times = Vec::new();
    let mut clean = None;
    for _ in 0..runs {
        let mut inc = v.incremental();
        let mut time = std::time::Duration::ZERO;
        for s in &suites {
            // A fresh copy, as the converter hands over a suite it has just built: its data
            // is in the cache, as it would be there.
            let s = s.clone();
            let t = std::time::Instant::now();
            inc.suite_value(&s);
            time += t.elapsed();
        }
        times.push(time);
        clean = Some(inc.finish(&rest, None));
    }
    times.sort();
    println!(
        "{} suites: typed walk min {:?}, median {:?} ({runs} runs), clean {clean:?}",
        suites.len(),
        times[0],
        times[times.len() / 2]
    );
}
