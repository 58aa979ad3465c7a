//! The analysis schedule of an [`OptimizationConfig`](crate::crd::OptimizationConfig): a
//! five-field cron expression (minute, hour, day of month, month, day of week), read as
//! Vixie cron reads it, in UTC.
//!
//! The parsing and the search for the next time are jiff-cron's; this module gives it the
//! five-field dialect people write in Kubernetes (CronJob's):
//! - day of week 0–7 with 0 and 7 both Sunday, or names (`sun`…`sat`), ranges and steps
//!   (`1/2`: from Monday through Saturday, every second day);
//! - when both day of month and day of week are restricted (neither starts with `*`; `*/2`
//!   counts as unrestricted, as in Vixie cron, so both must then match), a day
//!   matches when **either** matches (`0 4 1 * mon` runs on the 1st and on every Monday), as
//!   in Vixie cron and Kubernetes CronJobs;
//! - the shortest interval is one minute (there is no seconds field).
//!
//! # Examples
//! ```
//! use compactor_kube::schedule::Schedule;
//! use jiff::Timestamp;
//! let s = Schedule::parse("*/15 * * * 1-5").unwrap();
//! let friday_evening: Timestamp = "2026-12-04T23:50:00Z".parse().unwrap();
//! // The next run after Friday 23:50 is Monday 00:00.
//! assert_eq!(s.next_after(friday_evening).unwrap().to_string(), "2026-12-07T00:00:00Z");
//! assert!(Schedule::parse("0 * * *").is_err());
//! ```

use std::str::FromStr;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::KubeError;

/// A parsed five-field cron schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    source: String,
    /// One schedule, or two whose union is the schedule (day of month OR day of week).
    parts: Vec<jiff_cron::Schedule>,
}

const DAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

impl Schedule {
    /// Parses `expr` (five fields separated by spaces).
    ///
    /// # Errors
    /// [`KubeError::Field`] naming `spec.schedule` and what is wrong: not five fields, a day
    /// of week out of 0–7 or unknown, or a field jiff-cron refuses (its message is kept).
    ///
    /// # Complexity
    /// O(length of `expr`).
    pub fn parse(expr: &str) -> Result<Self, KubeError> {
        let bad = |why: String| KubeError::Field {
            object: "optimizationconfig".to_owned(),
            field: "spec.schedule".to_owned(),
            message: format!("{expr:?}: {why}"),
        };
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let [minute, hour, dom, month, dow] = fields[..] else {
            return Err(bad(format!(
                "a cron schedule has five fields (minute hour day-of-month month day-of-week), not {}",
                fields.len()
            )));
        };
        let days = days_of_week(dow).map_err(bad)?;
        let dow_named = if dow.starts_with('*') && days.len() == 7 {
            "*".to_owned()
        } else {
            days.iter()
                .map(|&d| DAY_NAMES[d])
                .collect::<Vec<_>>()
                .join(",")
        };
        let texts = if !dom.starts_with('*') && !dow.starts_with('*') {
            vec![
                format!("0 {minute} {hour} {dom} {month} * *"),
                format!("0 {minute} {hour} * {month} {dow_named} *"),
            ]
        } else {
            vec![format!("0 {minute} {hour} {dom} {month} {dow_named} *")]
        };
        let parts = texts
            .iter()
            .map(|t| jiff_cron::Schedule::from_str(t).map_err(|e| bad(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            source: expr.to_owned(),
            parts,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The first time strictly after `after` (UTC) that the schedule names; `None` when it
    /// names no time at all (such as the 30th of February).
    ///
    /// # Complexity
    /// jiff-cron's search: bounded by the years it scans.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let start = after.to_zoned(TimeZone::UTC);
        self.parts
            .iter()
            .filter_map(|p| p.after(start.clone()).next())
            .map(|z| z.timestamp())
            .min()
    }
}

/// The days (0 = Sunday … 6 = Saturday) a day-of-week field names, sorted.
fn days_of_week(field: &str) -> Result<Vec<usize>, String> {
    let mut on = [false; 7];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: usize =
                    s.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                        format!("day-of-week step {s:?} is not a positive number")
                    })?;
                (r, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (day(a)?, day(b)?)
        } else {
            let d = day(range)?;
            // `1/2` means from 1 through Saturday.
            (d, if item.contains('/') { 6.max(d) } else { d })
        };
        if lo > hi {
            return Err(format!("day-of-week range {range:?} runs backwards"));
        }
        for d in (lo..=hi).step_by(step) {
            on[d % 7] = true;
        }
    }
    Ok((0..7).filter(|&d| on[d]).collect())
}

/// One day of week: 0–7 (0 and 7 are Sunday) or a three-letter English name.
fn day(text: &str) -> Result<usize, String> {
    if let Ok(n) = text.parse::<usize>() {
        return if n <= 7 {
            Ok(n)
        } else {
            Err(format!("day of week {n} is not in 0-7"))
        };
    }
    DAY_NAMES
        .iter()
        .position(|d| d.eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("{text:?} is not a day of week (0-7 or sun..sat)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(expr: &str, after: &str) -> String {
        let t: Timestamp = after.parse().unwrap();
        Schedule::parse(expr)
            .unwrap()
            .next_after(t)
            .map_or("never".to_owned(), |t| t.to_string())
    }

    /// Hand-checked against a calendar (2026-12-05 is a Saturday).
    #[test]
    fn next_times() {
        let now = "2026-12-05T10:07:30Z";
        for (expr, want) in [
            ("* * * * *", "2026-12-05T10:08:00Z"),
            ("0 * * * *", "2026-12-05T11:00:00Z"),
            ("*/15 * * * *", "2026-12-05T10:15:00Z"),
            ("7 10 * * *", "2026-12-06T10:07:00Z"),
            ("30 2 * * 0", "2026-12-06T02:30:00Z"),
            ("30 2 * * 7", "2026-12-06T02:30:00Z"),
            ("30 2 * * sun", "2026-12-06T02:30:00Z"),
            ("0 9 * * 1-5", "2026-12-07T09:00:00Z"),
            ("0 9 * * mon-fri", "2026-12-07T09:00:00Z"),
            ("0 9 * * 5-7", "2026-12-06T09:00:00Z"),
            ("0 9 * * 6", "2026-12-12T09:00:00Z"),
            ("0 0 1 * *", "2027-01-01T00:00:00Z"),
            // Day of month OR day of week: the 1st, or any Monday.
            ("0 4 1 * mon", "2026-12-07T04:00:00Z"),
            ("0 4 1 * 3", "2026-12-09T04:00:00Z"),
            ("0 0 29 2 *", "2028-02-29T00:00:00Z"),
            // `*/2` starts with `*`: both day fields must match (Sun, Tue, Thu, Sat in
            // January; the 1st of 2027 is a Friday).
            ("0 12 * 1 */2", "2027-01-02T12:00:00Z"),
        ] {
            assert_eq!(next(expr, now), want, "{expr}");
        }
    }

    #[test]
    fn steps_and_lists_of_days() {
        assert_eq!(days_of_week("*/2").unwrap(), [0, 2, 4, 6]);
        assert_eq!(days_of_week("1/2").unwrap(), [1, 3, 5]);
        assert_eq!(days_of_week("sat,sun").unwrap(), [0, 6]);
        assert_eq!(days_of_week("0,7").unwrap(), [0]);
        assert_eq!(days_of_week("6-7").unwrap(), [0, 6]);
    }

    #[test]
    fn bad_schedules_name_the_field() {
        for (expr, needle) in [
            ("", "five fields"),
            ("0 * * *", "not 4"),
            ("0 0 * * * *", "not 6"),
            ("0 0 * * 8", "not in 0-7"),
            ("0 0 * * funday", "not a day of week"),
            ("0 0 * * 5-1", "runs backwards"),
            ("0 0 * * */0", "positive"),
            ("61 * * * *", "spec.schedule"),
            ("* 25 * * *", "spec.schedule"),
        ] {
            let e = Schedule::parse(expr).unwrap_err().to_string();
            assert!(e.contains(needle), "{expr}: {e}");
            assert!(e.contains("spec.schedule"), "{expr}: {e}");
        }
    }
}
