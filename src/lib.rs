//! stackctl as a library: the manifest model and loader, the planner, and the engine backends.
//! The binary in `main.rs` is a thin shell over `commands`.

pub mod check;
pub mod cli;
pub mod commands;
pub mod engine;
pub mod exit;
pub mod logs;
pub mod manifest;
pub mod plan;
pub mod ui;

#[doc(hidden)]
pub mod fuzzing;
