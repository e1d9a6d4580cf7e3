//! Second test binary (integration tests).

use cargo_sample::{add, mul};

#[test]
fn integration_passes() {
    assert_eq!(add(mul(2, 3), 1), 7);
}

#[test]
fn integration_fails() {
    let v: Vec<i32> = (1..=3).collect();
    assert_eq!(v, vec![1, 2, 4], "vectors differ");
}

#[test]
fn integration_result_err() -> Result<(), String> {
    Err("returned Err from test".to_string())
}
