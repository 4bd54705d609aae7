//! The one integration-test binary: a module per area, one harness (`common`) for all of them.
//! Tests that touch the engine use the real daemon, each in its own project (`common::TestProject`),
//! and Docker-in-Docker nodes for swarms (`common::dind`); the rest need no daemon at all.

mod common;

mod attached;
mod bridge;
mod build;
mod check;
mod cli;
mod compat;
mod corpus;
mod dashboard;
mod differential;
mod dropin;
mod endpoints;
mod engine;
mod everyday;
mod faults;
mod hostile;
mod layers;
mod lock;
mod logs;
mod manifest_errors;
mod mounts;
mod preview;
mod providers;
mod refusals;
mod rolling;
mod stack;
mod swarm;
mod swarm_cluster;
mod watch;
