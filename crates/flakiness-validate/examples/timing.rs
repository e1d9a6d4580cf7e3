//! Times reading and validating one report file separately: `cargo run --release --example
//! timing -- FILE`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: timing FILE");
        std::process::exit(2);
    };
    let t = std::time::Instant::now();
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(3);
        }
    };
    let read = t.elapsed();
    let v = flakiness_validate::Validator::new(flakiness_validate::Options::default())
        .expect("schema compiles");
    let t = std::time::Instant::now();
    let o = v.validate_bytes(&data);
    println!(
        "read {read:?}, validate {:?}, valid {}",
        t.elapsed(),
        o.valid()
    );
}
