//! A completeness check of an ELF library before it is handed to the loader.
//!
//! The loader maps segments without checking the file is long enough: a
//! truncated library can load, and the first access to a missing page then
//! kills the process with SIGBUS. Checking that every loadable segment and the
//! section table lie within the bytes turns that into a refusal.

const PT_LOAD: u32 = 1;

/// `Ok` when `bytes` is a whole 64-bit little-endian ELF file (other ELF
/// flavours are passed on to the loader unchecked); an error saying what is
/// missing otherwise.
pub(super) fn check_complete(bytes: &[u8]) -> Result<(), String> {
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF shared library (no ELF header)".into());
    }
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Ok(());
    }
    let len = bytes.len() as u64;
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as u64)
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    };
    let u64_at = |at: usize| {
        bytes
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    };
    let truncated = |what: &str, end: u64| {
        format!("the library file is truncated: {what} ends at byte {end}, the file has {len}")
    };
    let header = || "the library file is truncated inside its ELF header".to_owned();
    let (phoff, shoff) = (
        u64_at(0x20).ok_or_else(header)?,
        u64_at(0x28).ok_or_else(header)?,
    );
    let (phentsize, phnum) = (
        u16_at(0x36).ok_or_else(header)?,
        u16_at(0x38).ok_or_else(header)?,
    );
    let (shentsize, shnum) = (
        u16_at(0x3a).ok_or_else(header)?,
        u16_at(0x3c).ok_or_else(header)?,
    );
    let sections_end = shoff.saturating_add(shentsize * shnum);
    if sections_end > len {
        return Err(truncated("the section table", sections_end));
    }
    for k in 0..phnum {
        let at = phoff.saturating_add(k * phentsize);
        let at = usize::try_from(at).map_err(|_| truncated("a program header", at))?;
        let (Some(kind), Some(offset), Some(size)) = (u32_at(at), u64_at(at + 8), u64_at(at + 32))
        else {
            return Err(truncated("the program headers", at as u64 + phentsize));
        };
        let end = offset.saturating_add(size);
        if kind == PT_LOAD && end > len {
            return Err(truncated("a loadable segment", end));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_binary_is_complete_and_its_halves_are_not() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(check_complete(&me), Ok(()));
        let half = check_complete(&me[..me.len() / 2]).unwrap_err();
        assert!(half.contains("truncated"), "{half}");
        assert!(
            check_complete(&me[..10])
                .unwrap_err()
                .contains("ELF header")
        );
        assert!(
            check_complete(b"#!/bin/sh\n")
                .unwrap_err()
                .contains("not an ELF")
        );
    }
}
