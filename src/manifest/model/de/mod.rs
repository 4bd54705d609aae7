//! Decoders for every union form the Compose format allows, named in the model's
//! `deserialize_with` attributes. Errors say what was found and what was expected.

mod mounts;
mod ports;
mod scalars;
mod service;

pub use mounts::parse_mount_short;
pub(crate) use mounts::*;
pub use ports::parse_port_short;
pub(crate) use ports::*;
pub(crate) use scalars::*;
pub(crate) use service::*;
