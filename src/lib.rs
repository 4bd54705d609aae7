//! stackctl as a library: the manifest model and loader, the planner, and the engine backends.
//! The binary in `main.rs` is a thin shell over `commands`.

pub mod cli;
pub mod commands;
pub mod exit;
pub mod manifest;
