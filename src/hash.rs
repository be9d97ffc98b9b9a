//! Stable hashes with no dependencies: a leaf module every layer may use.
//!
//! FNV-1a digests configs, files and names; its offset basis also seeds the trace
//! fingerprint. Both are part of saved formats (schedule-file checksums, config digests,
//! fingerprints), so they must never change.

/// The FNV-1a 64-bit offset basis (also the fingerprint's starting value).
pub(crate) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a over bytes, for digests of configs and files.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(FNV_OFFSET, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(super::fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(super::fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
