//! Rostrum: run live hybrid sessions of intergovernmental meetings from a terminal.
//!
//! Data flows one way: session file ([`config`]) → rules ([`domain`]) → [`hub`] →
//! wire ([`protocol`]) → clients; the [`journal`] records what the domain decided.

pub mod bench;
pub mod client;
pub mod config;
pub mod domain;
pub mod etcd;
pub mod fairness;
pub mod forum;
pub mod hub;
pub mod journal;
pub mod protocol;
pub mod replay;
pub mod report;
pub mod tls;
pub mod tui;
pub mod web;
