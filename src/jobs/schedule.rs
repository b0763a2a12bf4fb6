//! Recurring schedules ("every first Monday at 09:00 in Europe/Berlin").
//! When a schedule comes due, one job is queued and the schedule moves to
//! its next occurrence; a server that was down for several occurrences
//! queues one job, not a backlog.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::Job;
use super::store::{self, NewSchedule};
use crate::app::App;

/// When a schedule fires, in local time of its time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    Daily {
        hour: i8,
        minute: i8,
    },
    Weekly {
        weekday: Weekday,
        hour: i8,
        minute: i8,
    },
    /// The nth (1–4, or -1 for the last) weekday of each month.
    MonthlyWeekday {
        nth: i8,
        weekday: Weekday,
        hour: i8,
        minute: i8,
    },
    /// A day of the month, 1–28 so that every month has it.
    MonthlyDay {
        day: i8,
        hour: i8,
        minute: i8,
    },
}

fn parse_time(s: &str) -> Result<(i8, i8), String> {
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not a time like 09:00"))?;
    let hour: i8 = h.parse().map_err(|_| format!("{s:?} is not a time like 09:00"))?;
    let minute: i8 = m.parse().map_err(|_| format!("{s:?} is not a time like 09:00"))?;
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) || m.len() != 2 {
        return Err(format!("{s:?} is not a time like 09:00"));
    }
    Ok((hour, minute))
}

fn parse_weekday(s: &str) -> Result<Weekday, String> {
    Ok(match &s.to_ascii_lowercase()[..] {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        "sunday" | "sun" => Weekday::Sunday,
        _ => return Err(format!("{s:?} is not a day of the week")),
    })
}

impl Rule {
    /// Parses `daily 09:00`, `weekly monday 09:00`,
    /// `monthly first monday 09:00` (first…fourth, last) and
    /// `monthly day 15 09:00`.
    pub fn parse(raw: &str) -> Result<Rule, String> {
        let words: Vec<&str> = raw.split_whitespace().collect();
        match words.as_slice() {
            ["daily", t] => {
                let (hour, minute) = parse_time(t)?;
                Ok(Rule::Daily { hour, minute })
            }
            ["weekly", d, t] => {
                let (hour, minute) = parse_time(t)?;
                Ok(Rule::Weekly {
                    weekday: parse_weekday(d)?,
                    hour,
                    minute,
                })
            }
            ["monthly", "day", n, t] => {
                let (hour, minute) = parse_time(t)?;
                let day: i8 = n.parse().map_err(|_| format!("{n:?} is not a day of the month"))?;
                if !(1..=28).contains(&day) {
                    return Err("the day of the month must be 1 to 28, so that every month has it".into());
                }
                Ok(Rule::MonthlyDay { day, hour, minute })
            }
            ["monthly", nth, d, t] => {
                let (hour, minute) = parse_time(t)?;
                let nth = match *nth {
                    "first" => 1,
                    "second" => 2,
                    "third" => 3,
                    "fourth" => 4,
                    "last" => -1,
                    other => {
                        return Err(format!("{other:?} is not one of first, second, third, fourth, last"));
                    }
                };
                Ok(Rule::MonthlyWeekday {
                    nth,
                    weekday: parse_weekday(d)?,
                    hour,
                    minute,
                })
            }
            _ => Err(format!(
                "{raw:?} is not a schedule such as \"daily 09:00\", \"weekly monday 09:00\" or \"monthly first monday 09:00\""
            )),
        }
    }

    fn time(self) -> (i8, i8) {
        match self {
            Rule::Daily { hour, minute }
            | Rule::Weekly { hour, minute, .. }
            | Rule::MonthlyWeekday { hour, minute, .. }
            | Rule::MonthlyDay { hour, minute, .. } => (hour, minute),
        }
    }

    /// The rule's day in the month of `date`, if the rule is monthly.
    fn day_in_month(self, date: Date) -> Option<Date> {
        match self {
            Rule::MonthlyWeekday { nth, weekday, .. } => date.nth_weekday_of_month(nth, weekday).ok(),
            Rule::MonthlyDay { day, .. } => Date::new(date.year(), date.month(), day).ok(),
            _ => None,
        }
    }

    fn matches(self, date: Date) -> bool {
        match self {
            Rule::Daily { .. } => true,
            Rule::Weekly { weekday, .. } => date.weekday() == weekday,
            _ => self.day_in_month(date) == Some(date),
        }
    }

    /// The first occurrence strictly after `after`, in `tz`. A local time
    /// that a daylight-saving change skips is moved forward, as people do.
    pub fn next_after(self, tz: &TimeZone, after: Timestamp) -> Timestamp {
        let (hour, minute) = self.time();
        let mut date = after.to_zoned(tz.clone()).date();
        // Monthly rules jump month by month; the others walk day by day.
        for _ in 0..800 {
            if self.matches(date) {
                let local = date.at(hour, minute, 0, 0);
                if let Ok(z) = tz.to_ambiguous_zoned(local).compatible()
                    && z.timestamp() > after
                {
                    return z.timestamp();
                }
            }
            date = match self.day_in_month(date) {
                Some(d) if d > date => d,
                Some(_) => self
                    .day_in_month(date.first_of_month().checked_add(1.month()).expect("date in range"))
                    .expect("every month has the rule's day"),
                None => date.tomorrow().expect("date in range"),
            };
        }
        unreachable!("every rule recurs within 800 steps")
    }
}

/// Creates the named schedule of `job` unless it exists already.
pub async fn ensure<J: Job>(
    app: &App,
    org_id: Option<i64>,
    name: &str,
    job: &J,
    rule: &str,
    time_zone: &str,
) -> Result<(), String> {
    let payload = serde_json::to_string(job).expect("a job serializes");
    upsert(app, org_id, name, J::KIND, &payload, rule, time_zone, "DO NOTHING").await
}

/// Changes a named schedule's rule (creating the schedule if needed); the
/// next run follows the new rule from now.
pub async fn reschedule<J: Job>(
    app: &App,
    org_id: Option<i64>,
    name: &str,
    job: &J,
    rule: &str,
    time_zone: &str,
) -> Result<(), String> {
    let payload = serde_json::to_string(job).expect("a job serializes");
    let replace =
        "DO UPDATE SET rule = excluded.rule, time_zone = excluded.time_zone, next_run_at = excluded.next_run_at";
    upsert(app, org_id, name, J::KIND, &payload, rule, time_zone, replace).await
}

/// Inserts the named schedule; `on_conflict` says what happens to one
/// that exists already.
#[allow(clippy::too_many_arguments)]
async fn upsert(
    app: &App,
    org_id: Option<i64>,
    name: &str,
    kind: &str,
    payload: &str,
    rule: &str,
    time_zone: &str,
    on_conflict: &'static str,
) -> Result<(), String> {
    let parsed = Rule::parse(rule)?;
    let tz = TimeZone::get(time_zone).map_err(|_| format!("{time_zone:?} is not a time zone"))?;
    let now = app.now();
    let schedule = NewSchedule {
        org_id,
        name,
        kind,
        payload,
        rule,
        time_zone,
        next_run_at: parsed.next_after(&tz, now),
    };
    store::upsert_schedule(&app.db, schedule, on_conflict, now)
        .await
        .map_err(|e| e.to_string())
}

/// The rule of a named schedule, if it exists.
pub async fn rule_of(app: &App, name: &str) -> Result<Option<String>, sqlx::Error> {
    store::rule_of(&app.db, name).await
}

/// Queues one job for each schedule that has come due and moves it on.
/// The move is conditional on the old time, so two servers sharing the
/// database queue it once.
pub async fn queue_due(app: &App) -> Result<(), sqlx::Error> {
    let now = app.now();
    for due in store::due_schedules(&app.db, now).await? {
        let (Ok(rule), Ok(tz)) = (Rule::parse(&due.rule), TimeZone::get(&due.time_zone)) else {
            tracing::error!(schedule = due.id, "schedule has an unreadable rule or time zone");
            continue;
        };
        let next = rule.next_after(&tz, now);
        let mut tx = app.db.begin().await?;
        if store::move_schedule(&mut tx, due.id, due.next_run_at, next).await? {
            super::enqueue_raw(&mut tx, due.org_id, &due.kind, &due.payload, now, now).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str, tz: &str) -> Timestamp {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        dt.to_zoned(TimeZone::get(tz).unwrap()).unwrap().timestamp()
    }

    #[test]
    fn first_monday_at_nine_in_berlin() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let rule = Rule::parse("monthly first monday 09:00").unwrap();
        // 2026-11-02 is the first Monday of November 2026.
        assert_eq!(
            rule.next_after(&tz, ts("2026-10-20T12:00", "Europe/Berlin")),
            ts("2026-11-02T09:00", "Europe/Berlin")
        );
        // Just after it fires, the next one is in December (the 7th).
        assert_eq!(
            rule.next_after(&tz, ts("2026-11-02T09:00", "Europe/Berlin")),
            ts("2026-12-07T09:00", "Europe/Berlin")
        );
    }

    #[test]
    fn last_friday_and_day_of_month() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let last_friday = Rule::parse("monthly last friday 16:30").unwrap();
        assert_eq!(
            last_friday.next_after(&tz, ts("2026-02-01T00:00", "America/New_York")),
            ts("2026-02-27T16:30", "America/New_York")
        );
        let fifteenth = Rule::parse("monthly day 15 08:00").unwrap();
        assert_eq!(
            fifteenth.next_after(&tz, ts("2026-01-15T08:00", "America/New_York")),
            ts("2026-02-15T08:00", "America/New_York")
        );
    }

    #[test]
    fn weekly_and_daily_follow_local_time_across_dst() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let weekly = Rule::parse("weekly sunday 02:30").unwrap();
        // 2026-03-29 02:30 does not exist in Berlin (clocks jump 02:00→03:00).
        let got = weekly.next_after(&tz, ts("2026-03-28T12:00", "Europe/Berlin"));
        assert_eq!(got, ts("2026-03-29T03:30", "Europe/Berlin"));
        let daily = Rule::parse("daily 09:00").unwrap();
        assert_eq!(
            daily.next_after(&tz, ts("2026-03-28T10:00", "Europe/Berlin")),
            ts("2026-03-29T09:00", "Europe/Berlin")
        );
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        assert!(Rule::parse("monthly fifth monday 09:00").unwrap_err().contains("fifth"));
        assert!(Rule::parse("daily 25:00").is_err());
        assert!(Rule::parse("weekly caturday 09:00").is_err());
        assert!(Rule::parse("monthly day 31 09:00").unwrap_err().contains("1 to 28"));
        assert!(Rule::parse("sometimes").is_err());
    }

    fn weekday(i: usize) -> (&'static str, Weekday) {
        [
            ("monday", Weekday::Monday),
            ("tue", Weekday::Tuesday),
            ("Wednesday", Weekday::Wednesday),
            ("thu", Weekday::Thursday),
            ("friday", Weekday::Friday),
            ("SAT", Weekday::Saturday),
            ("sunday", Weekday::Sunday),
        ][i]
    }

    proptest::proptest! {
        /// Every rule a person can write reads as what it says, and its
        /// next occurrence is later, within a month and a bit, at the hour
        /// and minute it names in local time (unless a clock change skips
        /// that hour).
        #[test]
        fn written_rules_read_as_they_say(
            kind in 0..4usize,
            hour in 0..24i8,
            minute in 0..60i8,
            day in 1..=28i8,
            nth in 0..5usize,
            wd in 0..7usize,
            after in 1_700_000_000i64..1_900_000_000,
        ) {
            let t = format!("{hour:02}:{minute:02}");
            let (name, weekday) = weekday(wd);
            let ordinal = ["first", "second", "third", "fourth", "last"][nth];
            let (text, want) = match kind {
                0 => (format!("daily {t}"), Rule::Daily { hour, minute }),
                1 => (format!("weekly {name} {t}"), Rule::Weekly { weekday, hour, minute }),
                2 => (
                    format!("monthly {ordinal} {name} {t}"),
                    Rule::MonthlyWeekday { nth: if nth == 4 { -1 } else { nth as i8 + 1 }, weekday, hour, minute },
                ),
                _ => (format!("monthly day {day} {t}"), Rule::MonthlyDay { day, hour, minute }),
            };
            let rule = Rule::parse(&text).unwrap();
            proptest::prop_assert_eq!(rule, want);
            let tz = TimeZone::get("Europe/Berlin").unwrap();
            let after = Timestamp::from_second(after).unwrap();
            let next = rule.next_after(&tz, after);
            proptest::prop_assert!(next > after);
            proptest::prop_assert!(next.as_second() - after.as_second() <= 40 * 86_400);
            let local = next.to_zoned(tz);
            if local.hour() != hour {
                // Only a spring-forward gap moves the time, by its hour.
                proptest::prop_assert_eq!(local.hour(), hour + 1, "{} at {}", text, local);
            } else {
                proptest::prop_assert_eq!(local.minute(), minute);
            }
        }

        /// Any text is a rule or refused with a message, never a panic.
        #[test]
        fn any_text_is_a_rule_or_refused(raw in "(daily|weekly|monthly|day|first|last|monday|[0-9:]{1,6}| ){0,6}") {
            if let Err(why) = Rule::parse(&raw) {
                proptest::prop_assert!(!why.is_empty());
            }
        }
    }
}
