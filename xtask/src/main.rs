//! `cargo xtask`: project automation for decouple.
fn main() {}
