//! People, teams and organizations: the types and the rules on their
//! values. Parsing returns a type that can only hold a valid value.

use jiff::civil::Date;

pub use crate::auth::Role;

pub use crate::error::FieldError;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

pub use crate::shared::Email;

/// A person's display name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<PersonName, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > 200 {
            return Err("is longer than 200 characters".into());
        }
        if has_control(s) {
            return Err("contains control characters".into());
        }
        Ok(PersonName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A team's name, unique in its organization (case-insensitively).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamName(String);

impl TeamName {
    pub fn parse(raw: &str) -> Result<TeamName, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > 100 {
            return Err("is longer than 100 characters".into());
        }
        if s.contains('/') {
            return Err("may not contain '/' (it separates a parent team from its sub-team in imports)".into());
        }
        if has_control(s) {
            return Err("contains control characters".into());
        }
        Ok(TeamName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// An organization's name; its slug is derived from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(raw: &str) -> Result<OrgName, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.chars().count() > 120 {
            return Err("is longer than 120 characters".into());
        }
        if has_control(s) {
            return Err("contains control characters".into());
        }
        if slug_base(s).is_empty() {
            return Err("needs at least one letter or digit".into());
        }
        Ok(OrgName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// "Bars Co" → "bars-co"; accents are dropped ("Café Noël" → "cafe-noel").
    pub fn slug(&self) -> String {
        slug_base(&self.0)
    }
}

fn slug_base(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(fold_accent) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    trimmed
        .chars()
        .take(48)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

fn fold_accent(c: char) -> Vec<char> {
    let plain = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        'ß' => return vec!['s', 's'],
        '&' => return vec![' ', 'a', 'n', 'd', ' '],
        other => other,
    };
    vec![plain]
}

/// An IANA time zone name known to the bundled time zone database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> Result<TimeZoneName, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.len() > 64 || jiff::tz::TimeZone::get(s).is_err() {
            return Err(format!(
                "{s:?} is not an IANA time zone such as Europe/Berlin or America/New_York"
            ));
        }
        Ok(TimeZoneName(s.to_owned()))
    }

    pub fn utc() -> TimeZoneName {
        TimeZoneName("UTC".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A calendar date written as YYYY-MM-DD.
pub fn parse_date(raw: &str) -> Result<Date, String> {
    let s = raw.trim();
    let shape_ok = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shape_ok {
        return Err(format!("{s:?} is not a date in the form YYYY-MM-DD"));
    }
    let date: Date = s.parse().map_err(|_| format!("{s:?} is not a real date"))?;
    if date.year() < 1900 || date.year() > 2200 {
        return Err(format!("{s:?} is out of range"));
    }
    Ok(date)
}

/// Why someone left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaveReason {
    Voluntary,
    Involuntary,
    Other,
}

impl LeaveReason {
    pub const ALL: [LeaveReason; 3] = [LeaveReason::Voluntary, LeaveReason::Involuntary, LeaveReason::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            LeaveReason::Voluntary => "voluntary",
            LeaveReason::Involuntary => "involuntary",
            LeaveReason::Other => "other",
        }
    }

    /// The reason in words, as the person form offers it.
    pub fn label(self) -> &'static str {
        match self {
            LeaveReason::Voluntary => "They chose to leave",
            LeaveReason::Involuntary => "The organization ended it",
            LeaveReason::Other => "Other",
        }
    }

    pub fn parse(raw: &str) -> Result<LeaveReason, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "voluntary" => Ok(LeaveReason::Voluntary),
            "involuntary" => Ok(LeaveReason::Involuntary),
            "other" => Ok(LeaveReason::Other),
            other => Err(format!("{other:?} is not a reason offered: choose one from the list")),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Organization {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
}

#[derive(Clone, Debug)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub parent_id: Option<i64>,
    pub active: bool,
}

#[derive(Clone, Debug)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub team_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub leave_reason: Option<LeaveReason>,
    pub time_zone: String,
    pub active: bool,
}

/// The validated fields of a person to add or to change.
#[derive(Clone, Debug)]
pub struct PersonInput {
    pub name: PersonName,
    pub email: Email,
    pub role: Role,
    pub team_id: Option<i64>,
    pub manager_id: Option<i64>,
    pub start_date: Option<Date>,
    pub time_zone: TimeZoneName,
}

/// Returns true when following `parent` links from `start` reaches `target`
/// (or loops). Used to refuse cycles in team nesting and reporting lines.
pub fn reaches(start: Option<i64>, target: i64, parent: impl Fn(i64) -> Option<i64>) -> bool {
    let mut walk = crate::shared::tree::up(start, parent);
    walk.by_ref().any(|id| id == target) || walk.looped()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_keyed_in_lower_case() {
        let e = Email::parse("  Ana.Silva@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Ana.Silva@Example.COM");
        assert_eq!(e.key(), "ana.silva@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@@example.com",
            "a@example..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn slugs_come_from_names() {
        assert_eq!(OrgName::parse("Bars Co").unwrap().slug(), "bars-co");
        assert_eq!(
            OrgName::parse("  Café Noël & Sons!! ").unwrap().slug(),
            "cafe-noel-and-sons"
        );
        assert!(OrgName::parse("!!!").is_err());
    }

    #[test]
    fn dates_must_be_iso_and_real() {
        assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
        for bad in ["2023-02-29", "12/03/2024", "2024-1-05", "", "2024-13-01", "0001-01-01"] {
            assert!(parse_date(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn time_zones_come_from_the_iana_database() {
        assert!(TimeZoneName::parse("Europe/Berlin").is_ok());
        assert!(TimeZoneName::parse("America/Argentina/Buenos_Aires").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert!(TimeZoneName::parse("").is_err());
    }

    #[test]
    fn team_names_cannot_hold_the_path_separator() {
        assert!(TeamName::parse("Sales / EMEA").is_err());
        assert_eq!(TeamName::parse(" Platform ").unwrap().key(), "platform");
    }

    #[test]
    fn cycles_are_detected() {
        let parents = std::collections::HashMap::from([(2, 1), (3, 2)]);
        let parent = |id: i64| parents.get(&id).copied();
        assert!(reaches(Some(3), 1, parent));
        assert!(!reaches(Some(1), 3, parent));
        assert!(reaches(Some(3), 3, parent));
    }
}
