//! Times `flakiness_analyze::shard::plan` alone: 100,000 tests (1% new) over 8 shards, the
//! best of 5. `cargo run --release -p flakiness-analyze --example shard_plan [TESTS] [SHARDS]`.

use flakiness_analyze::shard::{plan, PlanInput};

fn main() {
    let mut args = std::env::args().skip(1);
    let tests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let shards: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let mut x: u64 = 18;
    let input: Vec<PlanInput> = (0..tests)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            PlanInput {
                id: format!(
                    "tests/pkg_{:02}/test_mod_{:02}.py::TestC{}::test_{i}",
                    i % 100,
                    i / 100 % 40,
                    i % 9
                ),
                expected_ms: (!i.is_multiple_of(100)).then_some((x >> 33) % 5_000),
            }
        })
        .collect();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let copy = input.clone();
        let started = std::time::Instant::now();
        let p = plan(copy, shards).expect("plan");
        best = best.min(started.elapsed().as_secs_f64());
        std::hint::black_box(p);
    }
    println!(
        "{tests} tests over {shards} shards planned in {:.1} ms (best of 5)",
        best * 1e3
    );
}
