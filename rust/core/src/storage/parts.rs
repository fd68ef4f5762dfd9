//! The part size of a multipart upload: S3 allows 5 MiB to 5 GiB per part (the last may be
//! smaller) and at most 10,000 parts.

pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
pub const MAX_PARTS: u64 = 10_000;
/// Preferred part size: large enough for throughput, small enough that a retried part
/// costs little and that parts in flight bound the memory used.
const PREFERRED: u64 = 8 * 1024 * 1024;

/// The part size for an object of `size` bytes: 8 MiB, or larger (in whole MiB) when the
/// object would otherwise need more than 10,000 parts. `None` past S3's 5 TiB object limit.
pub fn part_size(size: u64) -> Option<u64> {
    const MIB: u64 = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let part = needed.max(PREFERRED).max(MIN_PART_SIZE);
    (part <= MAX_PART_SIZE).then_some(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_stay_within_s3_limits() {
        assert_eq!(part_size(0), Some(PREFERRED));
        assert_eq!(part_size(200 * 1024 * 1024), Some(PREFERRED));
        let huge = 1024 * 1024 * 1024 * 1024; // 1 TiB
        let part = part_size(huge).unwrap();
        assert!(huge.div_ceil(part) <= MAX_PARTS && part.is_multiple_of(1024 * 1024));
        assert!(part_size(MAX_PART_SIZE * MAX_PARTS).is_some());
        assert_eq!(part_size(MAX_PART_SIZE * MAX_PARTS + 1), None);
    }
}
