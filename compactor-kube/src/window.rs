//! Safe windows: whether an instant lies inside an [`OptimizationConfig`]'s
//! [`SafeWindow`]s, in their IANA time zones (the time zone database is built in, so the
//! answer does not depend on the machine's or container's zoneinfo).
//!
//! The rules (docs/decisions.md, "Safe windows"):
//! - a window opens at `start` and closes at `end`, local time in `timeZone`; an `end` before
//!   `start` is an overnight window that closes the next day;
//! - `days` names the days a window *opens* on (every day when empty): a Friday 22:00–04:00
//!   window is open until Saturday 04:00;
//! - the window is half-open: open at `start`, closed at `end`;
//! - a local time that does not exist (the hour skipped when clocks go forward) is read as the
//!   time after the gap, and a local time that exists twice (the hour repeated when clocks go
//!   back) as its first occurrence (RFC 5545's rule, jiff's `compatible`). On the night clocks
//!   go forward from 02:00 to 03:00, a 02:00–04:00 window is open one hour (03:00–04:00) and a
//!   02:30–03:30 window not at all (02:30 reads as 03:30); on the night clocks go back from
//!   03:00 to 02:00, a 02:30–03:30 window lasts two hours.
//!
//! [`OptimizationConfig`]: crate::crd::OptimizationConfig

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

use crate::crd::{Day, SafeWindow};
use crate::error::KubeError;

fn field(field: &str, message: String) -> KubeError {
    KubeError::Field {
        object: "safe window".to_owned(),
        field: field.to_owned(),
        message,
    }
}

fn hh_mm(name: &str, text: &str) -> Result<Time, KubeError> {
    let bad = || field(name, format!("{text:?} is not HH:MM (00:00 to 23:59)"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

fn weekday(day: Day) -> Weekday {
    match day {
        Day::Monday => Weekday::Monday,
        Day::Tuesday => Weekday::Tuesday,
        Day::Wednesday => Weekday::Wednesday,
        Day::Thursday => Weekday::Thursday,
        Day::Friday => Weekday::Friday,
        Day::Saturday => Weekday::Saturday,
        Day::Sunday => Weekday::Sunday,
    }
}

/// Whether `now` lies inside `window` (see the [module documentation](self) for the rules).
///
/// # Examples
/// ```
/// use compactor_kube::crd::{Day, SafeWindow};
/// use compactor_kube::window::is_open;
/// let w: SafeWindow = serde_json::from_value(serde_json::json!(
///     {"start": "22:00", "end": "04:00", "days": ["Friday"], "timeZone": "Europe/Paris"})).unwrap();
/// // Saturday 2026-12-05 02:30 in Paris is 01:30 UTC: inside Friday's overnight window.
/// assert!(is_open(&w, "2026-12-05T01:30:00Z".parse().unwrap()).unwrap());
/// assert!(!is_open(&w, "2026-12-05T03:00:00Z".parse().unwrap()).unwrap());
/// ```
///
/// # Errors
/// [`KubeError::Field`] (object `safe window`) when `start` or `end` is not `HH:MM`, they are
/// equal, or `timeZone` is not in the time zone database.
///
/// # Complexity
/// O(1) (two candidate days).
pub fn is_open(window: &SafeWindow, now: Timestamp) -> Result<bool, KubeError> {
    let start = hh_mm("start", &window.start)?;
    let end = hh_mm("end", &window.end)?;
    if start == end {
        return Err(field(
            "end",
            format!(
                "{} equals start: a window needs start and end to differ",
                window.end
            ),
        ));
    }
    let tz = TimeZone::get(&window.time_zone).map_err(|e| {
        field(
            "timeZone",
            format!("{:?} is not a known IANA time zone: {e}", window.time_zone),
        )
    })?;
    let today = now.to_zoned(tz.clone()).date();
    // A window open now opened today or, overnight, yesterday.
    for opened in [today.yesterday(), Ok(today)] {
        let Ok(opened) = opened else { continue };
        if !window.days.is_empty() && !window.days.iter().any(|d| weekday(*d) == opened.weekday()) {
            continue;
        }
        let closes_on: Date = if end < start {
            match opened.tomorrow() {
                Ok(d) => d,
                Err(_) => continue,
            }
        } else {
            opened
        };
        let at = |date: Date, time: Time| {
            tz.to_ambiguous_zoned(date.to_datetime(time))
                .compatible()
                .map(|z| z.timestamp())
                .map_err(|e| field("timeZone", format!("{e}")))
        };
        let (from, to) = (at(opened, start)?, at(closes_on, end)?);
        if from <= now && now < to {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `now` lies inside any of `windows` (none: never).
///
/// # Errors
/// As [`is_open`], for the first invalid window.
///
/// # Complexity
/// O(windows).
pub fn any_open(windows: &[SafeWindow], now: Timestamp) -> Result<bool, KubeError> {
    for w in windows {
        if is_open(w, now)? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start: &str, end: &str, days: &[&str], zone: &str) -> SafeWindow {
        serde_json::from_value(serde_json::json!(
            {"start": start, "end": end, "days": days, "timeZone": zone}))
        .unwrap()
    }

    fn at(utc: &str) -> Timestamp {
        utc.parse().unwrap()
    }

    /// A table: window, instant (UTC), open?
    #[test]
    fn windows_hand_checked() {
        let cases: &[(SafeWindow, &str, bool, &str)] = &[
            // Same-day window, UTC, every day; half-open.
            (
                window("01:00", "05:00", &[], "UTC"),
                "2026-12-05T01:00:00Z",
                true,
                "opens at start",
            ),
            (
                window("01:00", "05:00", &[], "UTC"),
                "2026-12-05T04:59:59Z",
                true,
                "just before end",
            ),
            (
                window("01:00", "05:00", &[], "UTC"),
                "2026-12-05T05:00:00Z",
                false,
                "closed at end",
            ),
            (
                window("01:00", "05:00", &[], "UTC"),
                "2026-12-05T00:59:59Z",
                false,
                "before start",
            ),
            // Day names: 2026-12-05 is a Saturday.
            (
                window("01:00", "05:00", &["Saturday"], "UTC"),
                "2026-12-05T02:00:00Z",
                true,
                "its day",
            ),
            (
                window("01:00", "05:00", &["Friday", "Sunday"], "UTC"),
                "2026-12-05T02:00:00Z",
                false,
                "other days",
            ),
            // Overnight: Friday 22:00 – Saturday 04:00; `days` names the opening day.
            (
                window("22:00", "04:00", &["Friday"], "UTC"),
                "2026-12-04T23:00:00Z",
                true,
                "Friday night",
            ),
            (
                window("22:00", "04:00", &["Friday"], "UTC"),
                "2026-12-05T03:59:00Z",
                true,
                "Saturday morning",
            ),
            (
                window("22:00", "04:00", &["Friday"], "UTC"),
                "2026-12-05T04:00:00Z",
                false,
                "closed",
            ),
            (
                window("22:00", "04:00", &["Friday"], "UTC"),
                "2026-12-05T23:00:00Z",
                false,
                "Saturday night",
            ),
            (
                window("22:00", "04:00", &["Saturday"], "UTC"),
                "2026-12-05T03:00:00Z",
                false,
                "Saturday's opens at 22:00",
            ),
            // A zone 13 hours ahead of UTC (Tonga, no DST): Saturday 02:00 there is Friday
            // 13:00 UTC.
            (
                window("01:00", "03:00", &["Saturday"], "Pacific/Tongatapu"),
                "2026-12-04T13:00:00Z",
                true,
                "UTC+13",
            ),
            (
                window("01:00", "03:00", &["Saturday"], "Pacific/Tongatapu"),
                "2026-12-05T13:00:00Z",
                false,
                "UTC+13, Sunday there",
            ),
            // Clocks forward in Paris, Sunday 2026-03-29 02:00 → 03:00: 02:30 does not exist
            // and reads as 03:30 (01:30 UTC); the 02:00–04:00 window lasts one hour.
            (
                window("02:00", "04:00", &[], "Europe/Paris"),
                "2026-03-29T00:59:00Z",
                false,
                "before the gap",
            ),
            (
                window("02:00", "04:00", &[], "Europe/Paris"),
                "2026-03-29T01:00:00Z",
                true,
                "03:00 CEST, opened by the gap",
            ),
            (
                window("02:00", "04:00", &[], "Europe/Paris"),
                "2026-03-29T01:59:00Z",
                true,
                "03:59 CEST",
            ),
            (
                window("02:00", "04:00", &[], "Europe/Paris"),
                "2026-03-29T02:00:00Z",
                false,
                "04:00 CEST",
            ),
            (
                window("02:30", "03:30", &[], "Europe/Paris"),
                "2026-03-29T01:15:00Z",
                false,
                "03:15: 02:30 reads as 03:30",
            ),
            (
                window("02:30", "03:30", &[], "Europe/Paris"),
                "2026-03-29T01:30:00Z",
                false,
                "start and end meet after the gap",
            ),
            // Clocks back in Paris, Sunday 2026-10-25 03:00 → 02:00: 02:30 happens twice; the
            // window opens at the first (00:30 UTC) and 03:30 comes once (02:30 UTC).
            (
                window("02:30", "03:30", &[], "Europe/Paris"),
                "2026-10-25T00:30:00Z",
                true,
                "first 02:30",
            ),
            (
                window("02:30", "03:30", &[], "Europe/Paris"),
                "2026-10-25T01:45:00Z",
                true,
                "second 02:45",
            ),
            (
                window("02:30", "03:30", &[], "Europe/Paris"),
                "2026-10-25T02:30:00Z",
                false,
                "03:30 CET",
            ),
            // Overnight across the New York change (Sunday 2026-03-08 02:00 → 03:00 EDT).
            (
                window("23:00", "06:00", &["Saturday"], "America/New_York"),
                "2026-03-08T09:59:00Z",
                true,
                "05:59 EDT",
            ),
            (
                window("23:00", "06:00", &["Saturday"], "America/New_York"),
                "2026-03-08T10:00:00Z",
                false,
                "06:00 EDT",
            ),
        ];
        for (w, utc, want, why) in cases {
            assert_eq!(is_open(w, at(utc)).unwrap(), *want, "{why}: {w:?} at {utc}");
        }
    }

    #[test]
    fn invalid_windows_name_the_field() {
        let err = |w: SafeWindow| {
            is_open(&w, at("2026-12-05T00:00:00Z"))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(window("24:00", "04:00", &[], "UTC")),
            r#"safe window: start: "24:00" is not HH:MM (00:00 to 23:59)"#
        );
        assert_eq!(
            err(window("4:00", "05:00", &[], "UTC")),
            r#"safe window: start: "4:00" is not HH:MM (00:00 to 23:59)"#
        );
        assert!(
            err(window("04:00", "04:00", &[], "UTC"))
                .starts_with("safe window: end: 04:00 equals start")
        );
        assert!(
            err(window("01:00", "02:00", &[], "Mars/Olympus")).starts_with(
                r#"safe window: timeZone: "Mars/Olympus" is not a known IANA time zone"#
            )
        );
        assert!(!any_open(&[], at("2026-12-05T00:00:00Z")).unwrap());
        let ws = [
            window("01:00", "02:00", &[], "UTC"),
            window("10:00", "11:00", &[], "UTC"),
        ];
        assert!(any_open(&ws, at("2026-12-05T10:30:00Z")).unwrap());
    }
}
