//! iCalendar (RFC 5545) for invites sent by email (RFC 5546: `REQUEST`,
//! `CANCEL`) and for the feeds calendar apps subscribe to. Times are given
//! in the organizer's time zone with its `VTIMEZONE` (its transitions
//! around the events, from the bundled tz database), or in UTC.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// What a calendar message asks of its reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// A new or changed event (an invite).
    Request,
    /// The event is called off.
    Cancel,
    /// A feed: events as they stand.
    Publish,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
            Method::Publish => "PUBLISH",
        }
    }
}

/// Someone taking part: a name and an address.
#[derive(Clone, Debug)]
pub struct Who {
    pub name: String,
    pub email: String,
}

/// One event.
#[derive(Clone, Debug)]
pub struct Event {
    /// Stable across every change of the event.
    pub uid: String,
    /// Raised on every change (a reschedule, a cancellation).
    pub sequence: i64,
    pub start: Timestamp,
    pub minutes: i64,
    /// The organizer's zone; its times are written in it.
    pub zone: TimeZone,
    pub summary: String,
    pub description: String,
    pub url: Option<String>,
    pub organizer: Who,
    pub attendees: Vec<Who>,
    pub cancelled: bool,
}

/// A calendar of one method holding `events`, stamped `now`.
pub fn calendar(method: Method, name: Option<&str>, events: &[Event], now: Timestamp) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line("PRODID:-//belong//conversations//EN");
    out.line("CALSCALE:GREGORIAN");
    out.line(&format!("METHOD:{}", method.as_str()));
    if let Some(name) = name {
        out.line(&format!("X-WR-CALNAME:{}", text(name)));
    }
    let mut zones: Vec<(&str, &TimeZone, Timestamp, Timestamp)> = Vec::new();
    for e in events {
        let Some(name) = zone_name(&e.zone) else { continue };
        let end = end_of(e);
        match zones.iter_mut().find(|z| z.0 == name) {
            Some(z) => {
                z.2 = z.2.min(e.start);
                z.3 = z.3.max(end);
            }
            None => zones.push((name, &e.zone, e.start, end)),
        }
    }
    for (name, zone, from, to) in zones {
        timezone(&mut out, name, zone, from, to);
    }
    for e in events {
        event(&mut out, method, e, now);
    }
    out.line("END:VCALENDAR");
    out.0
}

fn end_of(e: &Event) -> Timestamp {
    e.start
        .saturating_add(jiff::SignedDuration::from_mins(e.minutes))
        .unwrap_or(e.start)
}

/// The zone's IANA name, or None for UTC (written with `Z`).
fn zone_name(zone: &TimeZone) -> Option<&str> {
    zone.iana_name()
        .filter(|n| !matches!(*n, "UTC" | "Etc/UTC" | "Etc/UCT" | "UCT" | "Zulu"))
}

fn event(out: &mut Lines, method: Method, e: &Event, now: Timestamp) {
    out.line("BEGIN:VEVENT");
    out.line(&format!("UID:{}", text(&e.uid)));
    out.line(&format!("DTSTAMP:{}", utc(now)));
    out.line(&format!("SEQUENCE:{}", e.sequence));
    out.line(&time("DTSTART", &e.zone, e.start));
    out.line(&time("DTEND", &e.zone, end_of(e)));
    out.line(&format!("SUMMARY:{}", text(&e.summary)));
    if !e.description.is_empty() {
        out.line(&format!("DESCRIPTION:{}", text(&e.description)));
    }
    if let Some(url) = &e.url {
        out.line(&format!("URL:{}", text(url)));
    }
    out.line(&format!(
        "ORGANIZER;CN={}:mailto:{}",
        parameter(&e.organizer.name),
        e.organizer.email
    ));
    for a in &e.attendees {
        let reply = if method == Method::Request {
            ";PARTSTAT=NEEDS-ACTION;RSVP=TRUE"
        } else {
            ""
        };
        out.line(&format!(
            "ATTENDEE;CN={};ROLE=REQ-PARTICIPANT{reply}:mailto:{}",
            parameter(&a.name),
            a.email
        ));
    }
    let status = if e.cancelled || method == Method::Cancel {
        "CANCELLED"
    } else {
        "CONFIRMED"
    };
    out.line(&format!("STATUS:{status}"));
    out.line("TRANSP:OPAQUE");
    out.line("END:VEVENT");
}

/// The observances of `zone` that cover `from`..`to`: the one in force at
/// `from`, then each transition up to `to`.
fn timezone(out: &mut Lines, name: &str, zone: &TimeZone, from: Timestamp, to: Timestamp) {
    out.line("BEGIN:VTIMEZONE");
    out.line(&format!("TZID:{name}"));
    let info = zone.to_offset_info(from);
    let first = info.offset();
    observance(
        out,
        info.dst().is_dst(),
        first.to_datetime(from),
        first,
        first,
        info.abbreviation(),
    );
    let mut before = first;
    for t in zone.following(from) {
        if t.timestamp() > to {
            break;
        }
        observance(
            out,
            t.dst().is_dst(),
            before.to_datetime(t.timestamp()),
            before,
            t.offset(),
            t.abbreviation(),
        );
        before = t.offset();
    }
    out.line("END:VTIMEZONE");
}

fn observance(
    out: &mut Lines,
    dst: bool,
    start: jiff::civil::DateTime,
    from: jiff::tz::Offset,
    to: jiff::tz::Offset,
    abbreviation: &str,
) {
    let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
    out.line(&format!("BEGIN:{kind}"));
    out.line(&format!("DTSTART:{}", start.strftime("%Y%m%dT%H%M%S")));
    out.line(&format!("TZOFFSETFROM:{}", offset(from)));
    out.line(&format!("TZOFFSETTO:{}", offset(to)));
    if !abbreviation.is_empty() {
        out.line(&format!("TZNAME:{}", text(abbreviation)));
    }
    out.line(&format!("END:{kind}"));
}

fn offset(o: jiff::tz::Offset) -> String {
    let s = o.seconds();
    let sign = if s < 0 { '-' } else { '+' };
    let s = s.unsigned_abs();
    format!("{sign}{:02}{:02}", s / 3600, s / 60 % 60)
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// `NAME;TZID=zone:local` in the zone, or `NAME:utcZ`.
fn time(name: &str, zone: &TimeZone, t: Timestamp) -> String {
    match zone_name(zone) {
        Some(id) => format!(
            "{name};TZID={id}:{}",
            t.to_zoned(zone.clone()).datetime().strftime("%Y%m%dT%H%M%S")
        ),
        None => format!("{name}:{}", utc(t)),
    }
}

/// A TEXT value, escaped (RFC 5545 3.3.11).
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A parameter value, quoted (a name may hold `,` `;` `:`); a quote
/// cannot be written inside one, so it is left out.
fn parameter(s: &str) -> String {
    let clean: String = s.chars().filter(|c| *c != '"' && !c.is_control()).collect();
    format!("\"{clean}\"")
}

/// Content lines ending in CRLF, folded at 75 octets (RFC 5545 3.1).
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn line(&mut self, line: &str) {
        let mut width = 0;
        for c in line.chars() {
            let n = c.len_utf8();
            if width + n > 75 {
                self.0.push_str("\r\n ");
                width = 1;
            }
            self.0.push(c);
            width += n;
        }
        self.0.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn talk(zone: &str) -> Event {
        Event {
            uid: "talk-1@belong".into(),
            sequence: 2,
            start: "2026-03-28T09:30:00Z".parse().unwrap(),
            minutes: 45,
            zone: TimeZone::get(zone).unwrap(),
            summary: "Stay interview: Ana, Rui".into(),
            description: "Line one\nline two; with, commas".into(),
            url: None,
            organizer: Who {
                name: "Rui \"R\" Almeida".into(),
                email: "rui@x.example".into(),
            },
            attendees: vec![Who {
                name: "Ana".into(),
                email: "ana@x.example".into(),
            }],
            cancelled: false,
        }
    }

    #[test]
    fn times_are_local_with_the_zone_and_its_change_to_summer_time() {
        let ics = calendar(Method::Request, None, &[talk("Europe/Lisbon")], Timestamp::UNIX_EPOCH);
        assert!(ics.contains("DTSTART;TZID=Europe/Lisbon:20260328T093000\r\n"), "{ics}");
        assert!(ics.contains("DTEND;TZID=Europe/Lisbon:20260328T101500\r\n"));
        assert!(ics.contains("TZID:Europe/Lisbon\r\n"));
        // The event ends before Lisbon moves its clocks on 29 March, so
        // the zone has one observance: winter time.
        assert!(ics.contains("TZOFFSETTO:+0000\r\n"));
        assert!(!ics.contains("DAYLIGHT"));
        assert!(ics.contains("SUMMARY:Stay interview: Ana\\, Rui\r\n"));
        assert!(ics.contains("DESCRIPTION:Line one\\nline two\\; with\\, commas\r\n"));
        assert!(ics.contains("ORGANIZER;CN=\"Rui R Almeida\":mailto:rui@x.example\r\n"));
        assert!(ics.contains("METHOD:REQUEST\r\n") && ics.contains("SEQUENCE:2\r\n"));
    }

    #[test]
    fn an_event_across_a_change_names_both_observances() {
        let mut long = talk("Europe/Berlin");
        long.minutes = 60 * 24 * 2;
        let ics = calendar(Method::Cancel, None, &[long], Timestamp::UNIX_EPOCH);
        assert!(
            ics.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"),
            "{ics}"
        );
        assert!(ics.contains("STATUS:CANCELLED\r\n"));
        assert!(!ics.contains("RSVP"));
    }

    #[test]
    fn utc_is_written_with_z_and_no_zone() {
        let ics = calendar(Method::Publish, Some("Talks"), &[talk("UTC")], Timestamp::UNIX_EPOCH);
        assert!(ics.contains("DTSTART:20260328T093000Z\r\n"));
        assert!(!ics.contains("VTIMEZONE"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let mut e = talk("UTC");
        e.description = "é".repeat(100);
        let ics = calendar(Method::Request, None, &[e], Timestamp::UNIX_EPOCH);
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("DESCRIPTION:{}", "é".repeat(100))));
    }
}
