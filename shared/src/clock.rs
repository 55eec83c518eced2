//! The service's notion of "now", injectable so tests move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A point in time as the table stores it: unix milliseconds, serialized as the bare number,
/// so the type changes nothing in the items. Keeps milliseconds apart from the unix seconds
/// of TTLs and token claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMs(i64);

impl UnixMs {
    pub const fn from_ms(ms: i64) -> Self {
        UnixMs(ms)
    }

    pub const fn as_ms(self) -> i64 {
        self.0
    }

    /// `by` later, in whole milliseconds.
    pub fn plus(self, by: Duration) -> Self {
        UnixMs(self.0 + by.as_millis() as i64)
    }

    /// `by` earlier, in whole milliseconds.
    pub fn minus(self, by: Duration) -> Self {
        UnixMs(self.0 - by.as_millis() as i64)
    }

    /// How many milliseconds `self` is after `earlier`; negative when it is before.
    pub fn millis_after(self, earlier: UnixMs) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// Unix seconds, rounded down: what DynamoDB's TTL attribute wants.
    pub fn to_unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Milliseconds added to the system time; only tests ever move it.
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn system() -> Self {
        Clock::default()
    }

    pub fn now(&self) -> UnixMs {
        let system = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        UnixMs(system as i64 + self.offset_ms.load(Ordering::Relaxed))
    }

    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.now().as_ms()
    }

    /// Unix seconds.
    pub fn now_secs(&self) -> i64 {
        self.now().to_unix_secs()
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

/// RFC 3339 UTC with millisecond precision and a `Z`, as the contract's times are written.
pub fn rfc3339(at: UnixMs) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.as_ms()) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.format(&format).unwrap_or_default()
}

/// An RFC 3339 time (any offset), to the millisecond.
pub fn parse_rfc3339(raw: &str) -> Option<UnixMs> {
    let at = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok()?;
    Some(UnixMs::from_ms((at.unix_timestamp_nanos() / 1_000_000) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_with_z() {
        assert_eq!(rfc3339(UnixMs::from_ms(1_795_000_000_123)), "2026-11-18T11:06:40.123Z");
        assert_eq!(parse_rfc3339("2026-11-18T12:06:40.123+01:00"), Some(UnixMs::from_ms(1_795_000_000_123)));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn unix_ms_is_stored_as_the_bare_number() {
        let at = UnixMs::from_ms(1_795_000_000_123);
        assert_eq!(serde_json::to_string(&at).ok().as_deref(), Some("1795000000123"));
        assert_eq!(serde_json::from_str::<UnixMs>("1795000000123").ok(), Some(at));
    }

    #[test]
    fn unix_ms_arithmetic() {
        let at = UnixMs::from_ms(10_999);
        assert_eq!(at.plus(Duration::from_millis(1_500)), UnixMs::from_ms(12_499));
        assert_eq!(at.minus(Duration::from_secs(10)), UnixMs::from_ms(999));
        assert_eq!(at.millis_after(UnixMs::from_ms(11_000)), -1);
        assert_eq!(UnixMs::from_ms(i64::MIN).millis_after(at), i64::MIN);
        assert_eq!(at.to_unix_secs(), 10);
        assert_eq!(UnixMs::from_ms(-1).to_unix_secs(), -1);
        assert!(at < at.plus(Duration::from_millis(1)));
    }

    #[test]
    fn advancing_a_clock_moves_its_clones() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now_ms();
        clock.advance(Duration::from_secs(60));
        assert!(copy.now_ms() - before >= 60_000);
    }
}
