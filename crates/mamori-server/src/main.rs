//! The `mamori` command.

fn main() {}
