//! The three-node etcd cluster the tests run on: the library's own, which
//! `rostrum bench` uses too (see `rostrum::bench::cluster`).

#[allow(unused_imports)]
pub use rostrum::bench::cluster::*;
