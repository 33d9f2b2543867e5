//! Working days: the deadlines of a sharing review are counted in working days
//! (工作日) of the platform's own time zone, Monday to Friday, less public holidays,
//! plus the weekend days that are worked in their place (调休).

use crate::time::{Date, Timestamp};
use serde::Serialize;
use std::collections::BTreeSet;

const MS_PER_DAY: i64 = 86_400_000;

/// Which days are working days, and in which time zone a day begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
    utc_offset_minutes: i32,
}

impl Default for WorkingCalendar {
    fn default() -> Self {
        WorkingCalendar::new()
    }
}

impl WorkingCalendar {
    /// Monday to Friday, no holidays, China Standard Time (UTC+8).
    pub fn new() -> Self {
        WorkingCalendar {
            holidays: BTreeSet::new(),
            workdays: BTreeSet::new(),
            utc_offset_minutes: 8 * 60,
        }
    }

    /// Adds public holidays: weekdays that are not worked.
    pub fn with_holidays(mut self, days: impl IntoIterator<Item = Date>) -> Self {
        self.holidays.extend(days);
        self
    }

    /// Adds weekend days that are worked (调休).
    pub fn with_workdays(mut self, days: impl IntoIterator<Item = Date>) -> Self {
        self.workdays.extend(days);
        self
    }

    /// Sets the time zone, as minutes east of UTC.
    pub fn with_utc_offset_minutes(mut self, minutes: i32) -> Self {
        self.utc_offset_minutes = minutes;
        self
    }

    /// The time zone, as minutes east of UTC.
    pub fn utc_offset_minutes(&self) -> i32 {
        self.utc_offset_minutes
    }

    /// The local calendar date of an instant.
    pub fn local_date(&self, t: Timestamp) -> Date {
        Timestamp::from_unix_millis(t.unix_millis() + i64::from(self.utc_offset_minutes) * 60_000)
            .date()
    }

    /// Whether `day` is a working day.
    pub fn is_working_day(&self, day: Date) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        // 1970-01-01 was a Thursday: 0 = Sunday … 6 = Saturday.
        let weekday = (day.start().unix_millis().div_euclid(MS_PER_DAY) + 4).rem_euclid(7);
        (1..=5).contains(&weekday)
    }

    /// The `n`th working day after `from` (`from` itself is not counted; `n = 0` is
    /// `from`).
    pub fn add_working_days(&self, from: Date, n: u32) -> Date {
        let mut day = from;
        let mut left = n;
        // A calendar without a working day in a year is a configuration error; stop
        // rather than loop for ever.
        let mut guard = 0u32;
        while left > 0 && guard < 366 * 10 {
            day = next_day(day);
            guard += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

fn next_day(d: Date) -> Date {
    Timestamp::from_unix_millis(d.start().unix_millis() + MS_PER_DAY).date()
}

/// How many working days each review may take (the national rule's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewDays {
    /// The platform's conformity check of a request: 2.
    pub conformity_check: u32,
    /// The providing department's reply after the check: 5.
    pub provider_reply: u32,
    /// The reply when the data is not yet on the platform: 10.
    pub provider_reply_off_platform: u32,
}

impl Default for ReviewDays {
    fn default() -> Self {
        ReviewDays {
            conformity_check: 2,
            provider_reply: 5,
            provider_reply_off_platform: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        Date::parse(s).unwrap()
    }

    #[test]
    fn counts_weekdays_and_skips_holidays() {
        let cal = WorkingCalendar::new();
        // 2025-01-03 is a Friday.
        assert_eq!(cal.add_working_days(d("2025-01-03"), 1), d("2025-01-06"));
        assert_eq!(cal.add_working_days(d("2025-01-03"), 5), d("2025-01-10"));
        assert_eq!(cal.add_working_days(d("2025-01-04"), 2), d("2025-01-07"));
        let cal = cal
            .with_holidays([d("2025-01-06")])
            .with_workdays([d("2025-01-04")]);
        assert_eq!(cal.add_working_days(d("2025-01-03"), 1), d("2025-01-04"));
        assert_eq!(cal.add_working_days(d("2025-01-03"), 2), d("2025-01-07"));
    }

    #[test]
    fn days_begin_in_the_local_time_zone() {
        let cal = WorkingCalendar::new();
        let t = Timestamp::parse("2025-01-05T17:00:00Z").unwrap();
        assert_eq!(cal.local_date(t), d("2025-01-06"));
        let utc = WorkingCalendar::new().with_utc_offset_minutes(0);
        assert_eq!(utc.local_date(t), d("2025-01-05"));
    }
}
