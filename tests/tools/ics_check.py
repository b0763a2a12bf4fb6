"""Reads iCalendar files with the `icalendar` package (a parser written by
others) and prints, as JSON, what a calendar app would take from each:
its method, its time zones and its events (UID, SEQUENCE, status, start
and end in UTC and as written, organizer and attendees). Any component
the parser could not read fully is reported in "errors"; the Rust tests
assert on the output. Usage: ics_check.py FILE...
"""
import datetime
import json
import sys

import icalendar


def when(prop):
    value = prop.dt
    tzid = prop.params.get("TZID", "")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise SystemExit("a floating time (no zone) in " + str(prop.to_ical()))
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), tzid
    raise SystemExit("a date where a time was expected")


def read(path):
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    out = {
        "method": str(cal.get("METHOD", "")),
        "version": str(cal.get("VERSION", "")),
        "timezones": [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")],
        "events": [],
        "errors": [],
    }
    for component in cal.walk():
        for error in getattr(component, "errors", []):
            out["errors"].append(str(error))
    for ev in cal.walk("VEVENT"):
        start, start_tz = when(ev["DTSTART"])
        end, _ = when(ev["DTEND"])
        attendees = ev.get("ATTENDEE", [])
        if not isinstance(attendees, list):
            attendees = [attendees]
        out["events"].append(
            {
                "uid": str(ev["UID"]),
                "sequence": int(ev.get("SEQUENCE", 0)),
                "status": str(ev.get("STATUS", "")),
                "summary": str(ev.get("SUMMARY", "")),
                "description": str(ev.get("DESCRIPTION", "")),
                "start_utc": start,
                "start_tzid": start_tz,
                "end_utc": end,
                "organizer": str(ev.get("ORGANIZER", "")),
                "attendees": [str(a) for a in attendees],
            }
        )
    return out


if __name__ == "__main__":
    print(json.dumps([read(p) for p in sys.argv[1:]]))
