//! Parsers of outside bytes that live in private modules, reachable for the fuzz targets in
//! tests/fuzz. Not an API.

pub use crate::commands::cp::{fix_tar_checksums, local_target, unpack};
pub use crate::engine::build::progress::Steps;
