//! Parsers of outside bytes that live in private modules, reachable for the fuzz targets in
//! tests/fuzz, and what those targets and the replay of their findings share. Not an API.

pub use crate::commands::cp::{local_target, unpack};
pub use crate::engine::build::progress::Steps;

/// Recomputes the checksum of each tar header, walking the archive as `tar` does (header, then
/// the entry's data rounded up to 512 bytes), so that a mutated name or type is read, not refused
/// as a damaged header.
pub fn fix_tar_checksums(bytes: &mut [u8]) {
    let mut pos = 0usize;
    while bytes.len().checked_sub(512).is_some_and(|last| pos <= last) {
        let block = &mut bytes[pos..pos + 512];
        if block.iter().all(|b| *b == 0) {
            return;
        }
        let mut header = tar::Header::new_old();
        header.as_mut_bytes().copy_from_slice(block);
        header.set_cksum();
        block.copy_from_slice(header.as_bytes());
        let Some(next) = header
            .entry_size()
            .ok()
            .and_then(|size| size.checked_add(511))
            .and_then(|padded| usize::try_from(padded / 512 * 512).ok())
            .and_then(|padded| (pos + 512).checked_add(padded))
        else {
            return;
        };
        pos = next;
    }
}
