//! End-to-end HTTP load benchmark (being written).

fn main() {}
