//! The time zones a person can choose from: the bundled IANA database's
//! places ("Europe/Berlin"), without its legacy aliases ("US/Pacific",
//! "Etc/GMT+3"), and UTC.

use std::sync::OnceLock;

/// The areas of the IANA names offered; the rest are aliases.
const AREAS: &[&str] = &[
    "Africa",
    "America",
    "Antarctica",
    "Arctic",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

/// Every offered name, sorted, computed once.
pub fn time_zones() -> &'static [String] {
    static ZONES: OnceLock<Vec<String>> = OnceLock::new();
    ZONES.get_or_init(|| {
        let mut zones: Vec<String> = jiff::tz::db()
            .available()
            .map(|name| name.as_str().to_owned())
            .filter(|name| name.split_once('/').is_some_and(|(area, _)| AREAS.contains(&area)))
            .collect();
        zones.push("UTC".to_owned());
        zones.sort();
        zones.dedup();
        zones
    })
}

/// The server's own time zone when it is one offered, else UTC: a first
/// guess for a new organization.
pub fn server_zone() -> String {
    let system = jiff::tz::TimeZone::system();
    let name = system.iana_name().filter(|n| time_zones().iter().any(|z| z == n));
    name.unwrap_or("UTC").to_owned()
}

/// The choices for a time zone field: the ones `used` first (those of the
/// organization's people, most likely again), then every other, with
/// `current` among them even when it is not offered (an alias imported).
pub fn choices(used: &[String], current: &str) -> (Vec<String>, Vec<String>) {
    let mut first: Vec<String> = used.to_vec();
    if !current.is_empty() && !first.iter().any(|z| z == current) {
        first.push(current.to_owned());
    }
    first.sort();
    first.dedup();
    let rest = time_zones().iter().filter(|z| !first.contains(z)).cloned().collect();
    (first, rest)
}

/// The day (YYYY-MM-DD) a moment (Unix seconds) falls on in `zone`; empty
/// for a moment out of range.
pub fn day_in(at: i64, zone: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_second(at)
        .map(|t| t.to_zoned(zone.clone()).date().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_places_and_utc_but_no_aliases() {
        let zones = time_zones();
        assert!(zones.len() > 300, "{}", zones.len());
        for z in ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"] {
            assert!(zones.iter().any(|x| x == z), "{z} is missing");
        }
        for z in ["US/Pacific", "Etc/GMT+3", "GMT"] {
            assert!(!zones.iter().any(|x| x == z), "{z} is offered");
        }
        let (first, rest) = choices(&["Europe/Lisbon".to_owned()], "Etc/GMT+3");
        assert_eq!(first, ["Etc/GMT+3", "Europe/Lisbon"]);
        assert!(!rest.iter().any(|z| z == "Europe/Lisbon"));
        assert_eq!(first.len() + rest.len(), zones.len() + 1);
    }
}
