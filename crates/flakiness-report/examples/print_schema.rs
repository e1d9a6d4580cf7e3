//! Prints the generated JSON Schema (the same text as `flakiness schema`).
fn main() {
    print!("{}", flakiness_report::report_schema_pretty());
}
