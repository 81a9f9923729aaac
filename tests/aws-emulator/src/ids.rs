//! Identifiers, ETags, request ids and timestamps in the shapes AWS uses, and
//! the small deterministic PRNG (SplitMix64) behind them and behind seeded
//! fault fractions.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

/// Locks a mutex, carrying on with the data if a panicking thread poisoned
/// it (the emulator's state stays usable; a test sees the panic anyway).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// SplitMix64: tiny, fast, and the same sequence for the same seed.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Source of the random-looking names AWS hands out.
pub(crate) struct Ids {
    rng: Mutex<SplitMix64>,
}

impl Ids {
    /// Seeded from the clock and the process id: unique enough per run.
    pub(crate) fn from_clock() -> Ids {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Ids {
            rng: Mutex::new(SplitMix64::new(nanos ^ u64::from(std::process::id()) << 32)),
        }
    }

    fn upper_alnum(&self, len: usize) -> String {
        let mut rng = lock(&self.rng);
        (0..len)
            .map(|_| char::from(UPPER_ALNUM[(rng.next_u64() % UPPER_ALNUM.len() as u64) as usize]))
            .collect()
    }

    /// A CloudFront id (distribution or origin access control): `E` and 13
    /// upper-case letters or digits, like `E2QWRUHAPOMQZL`.
    pub(crate) fn cloudfront_id(&self) -> String {
        format!("E{}", self.upper_alnum(13))
    }

    /// A CloudFront invalidation id: `I` and 13 upper-case letters or
    /// digits, like `I2J0I21PCUYOIK`.
    pub(crate) fn invalidation_id(&self) -> String {
        format!("I{}", self.upper_alnum(13))
    }

    /// A CloudFront ETag: the same shape as an id.
    pub(crate) fn etag(&self) -> String {
        format!("E{}", self.upper_alnum(13))
    }

    /// A request id shaped like a UUID.
    pub(crate) fn request_id(&self) -> String {
        let (a, b) = {
            let mut rng = lock(&self.rng);
            (rng.next_u64(), rng.next_u64())
        };
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// `2024-05-01T12:34:56.789Z`, the timestamp form CloudFront's XML uses.
pub(crate) fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let millis = since.subsec_millis();
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(dt) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            millis
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn cloudfront_ids_have_the_aws_shape() {
        let ids = Ids::from_clock();
        let id = ids.cloudfront_id();
        assert_eq!(id.len(), 14);
        assert!(id.starts_with('E'));
        assert!(
            id.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_ne!(ids.cloudfront_id(), id);
        assert_eq!(ids.request_id().len(), 36);
    }

    #[test]
    fn timestamps_are_utc_with_milliseconds() {
        let t = UNIX_EPOCH + Duration::from_millis(1_714_566_896_789);
        assert_eq!(iso8601(t), "2024-05-01T12:34:56.789Z");
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        let f = a.next_f64();
        assert!((0.0..1.0).contains(&f));
    }
}
