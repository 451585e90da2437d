//! Civil time in Nanjing.
//!
//! Every session happens in Asia/Shanghai. That zone has kept UTC+8 without
//! daylight saving since 1991, so a fixed offset is exact for every instant
//! this product handles and keeps the time-zone database out of the WASM.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

/// The Asia/Shanghai offset, UTC+8.
pub const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => unreachable!(),
};

/// Converts a UTC instant to Nanjing local time.
pub fn to_local(instant: DateTime<Utc>) -> DateTime<FixedOffset> {
    instant.with_timezone(&SHANGHAI)
}

/// Returns today's date in Nanjing at `now`.
pub fn local_date(now: DateTime<Utc>) -> NaiveDate {
    to_local(now).date_naive()
}

/// Short weekday names from Monday, as [`format_span`] and
/// [`format_instant`] write them.
const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Formats a session's time span for display, for example
/// `12月5日 周六 09:30—10:30`, or with both dates when it crosses midnight.
pub fn format_span(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    locale: crate::i18n::Locale,
) -> String {
    use chrono::Datelike;

    let start = to_local(start);
    let end = to_local(end);
    let weekday = start.weekday().num_days_from_monday() as usize;
    let same_day = start.date_naive() == end.date_naive();
    match locale {
        crate::i18n::Locale::en => {
            let day = format!("{} {}", WEEKDAYS_EN[weekday], start.format("%-d %b"));
            if same_day {
                format!("{day}, {}–{}", start.format("%H:%M"), end.format("%H:%M"))
            } else {
                format!(
                    "{day}, {} – {}",
                    start.format("%H:%M"),
                    end.format("%-d %b %H:%M")
                )
            }
        }
        _ => {
            let day = format!(
                "{}月{}日 {}",
                start.month(),
                start.day(),
                WEEKDAYS_ZH[weekday]
            );
            if same_day {
                format!("{day} {}—{}", start.format("%H:%M"), end.format("%H:%M"))
            } else {
                format!(
                    "{day} {}—{}月{}日 {}",
                    start.format("%H:%M"),
                    end.month(),
                    end.day(),
                    end.format("%H:%M")
                )
            }
        }
    }
}

/// Formats an instant in Nanjing time the way [`format_span`] writes a
/// session's start: `12月6日 周日 09:00`, or `Sun 6 Dec, 09:00` in English.
pub fn format_instant(instant: DateTime<Utc>, locale: crate::i18n::Locale) -> String {
    use chrono::Datelike;

    let local = to_local(instant);
    let weekday = local.weekday().num_days_from_monday() as usize;
    match locale {
        crate::i18n::Locale::en => {
            format!("{} {}", WEEKDAYS_EN[weekday], local.format("%-d %b, %H:%M"))
        }
        _ => {
            format!(
                "{}月{}日 {} {}",
                local.month(),
                local.day(),
                WEEKDAYS_ZH[weekday],
                local.format("%H:%M")
            )
        }
    }
}

/// Formats a date for display: `2026年11月1日`, or `1 Nov 2026` in English.
pub fn format_date(date: NaiveDate, locale: crate::i18n::Locale) -> String {
    use chrono::Datelike;

    match locale {
        crate::i18n::Locale::en => date.format("%-d %b %Y").to_string(),
        _ => format!("{}年{}月{}日", date.year(), date.month(), date.day()),
    }
}

/// How long ago something changed, coarsened for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ago {
    /// Less than a minute ago, or a moment in the future from clock skew.
    JustNow,
    Minutes(i64),
    Hours(i64),
    Days(i64),
}

/// Returns how long before `now` the instant `then` lies, in whole units
/// rounded down.
pub fn ago(then: DateTime<Utc>, now: DateTime<Utc>) -> Ago {
    let minutes = now.signed_duration_since(then).num_minutes();
    match minutes {
        ..=0 => Ago::JustNow,
        1..60 => Ago::Minutes(minutes),
        60..1440 => Ago::Hours(minutes / 60),
        _ => Ago::Days(minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::i18n::Locale;

    #[test]
    fn instants_read_like_session_starts() {
        let closes = Utc
            .with_ymd_and_hms(2026, 12, 6, 1, 0, 0)
            .single()
            .expect("instant");
        assert_eq!(format_instant(closes, Locale::zh_CN), "12月6日 周日 09:00");
        assert_eq!(format_instant(closes, Locale::en), "Sun 6 Dec, 09:00");
    }

    #[test]
    fn local_date_rolls_over_at_utc_sixteen() {
        let before = Utc.with_ymd_and_hms(2026, 12, 4, 15, 59, 59).single();
        let after = Utc.with_ymd_and_hms(2026, 12, 4, 16, 0, 0).single();
        assert_eq!(before.map(local_date), NaiveDate::from_ymd_opt(2026, 12, 4));
        assert_eq!(after.map(local_date), NaiveDate::from_ymd_opt(2026, 12, 5));
    }

    #[test]
    fn span_crossing_midnight_shows_both_dates() {
        // 23:00 to 01:00 in Nanjing is 15:00 to 17:00 UTC.
        let start = Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).single();
        let end = Utc.with_ymd_and_hms(2026, 12, 5, 17, 0, 0).single();
        let (Some(start), Some(end)) = (start, end) else {
            panic!("test instants are valid");
        };
        assert_eq!(
            format_span(start, end, Locale::zh_CN),
            "12月5日 周六 23:00—12月6日 01:00"
        );
        assert_eq!(
            format_span(start, end, Locale::en),
            "Sat 5 Dec, 23:00 – 6 Dec 01:00"
        );
    }

    #[test]
    fn ago_coarsens_to_the_largest_unit() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 12, 0, 0).single();
        let Some(now) = now else {
            panic!("test instant is valid");
        };
        let cases = [
            (chrono::Duration::seconds(-30), Ago::JustNow),
            (chrono::Duration::seconds(59), Ago::JustNow),
            (chrono::Duration::minutes(3), Ago::Minutes(3)),
            (chrono::Duration::minutes(59), Ago::Minutes(59)),
            (chrono::Duration::minutes(60), Ago::Hours(1)),
            (chrono::Duration::hours(23), Ago::Hours(23)),
            (chrono::Duration::hours(49), Ago::Days(2)),
        ];
        for (before, expected) in cases {
            assert_eq!(ago(now - before, now), expected, "{before}");
        }
    }

    #[test]
    fn dates_format_per_locale() {
        let Some(date) = NaiveDate::from_ymd_opt(2026, 11, 1) else {
            panic!("test date is valid");
        };
        assert_eq!(format_date(date, Locale::zh_CN), "2026年11月1日");
        assert_eq!(format_date(date, Locale::en), "1 Nov 2026");
    }

    #[test]
    fn span_within_one_day() {
        let start = Utc.with_ymd_and_hms(2026, 12, 5, 1, 30, 0).single();
        let end = Utc.with_ymd_and_hms(2026, 12, 5, 2, 30, 0).single();
        let (Some(start), Some(end)) = (start, end) else {
            panic!("test instants are valid");
        };
        assert_eq!(
            format_span(start, end, Locale::zh_CN),
            "12月5日 周六 09:30—10:30"
        );
    }
}
