//! What an action is, and the rules of its fields: types that can only
//! hold valid values, parsed all at once so a form shows every problem.

use jiff::civil::Date;

use crate::error::FieldError;
use crate::shared::Pillar;

/// Where an action stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Planned,
    InProgress,
    Done,
    Dropped,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::Planned, Status::InProgress, Status::Done, Status::Dropped];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Planned => "planned",
            Status::InProgress => "in_progress",
            Status::Done => "done",
            Status::Dropped => "dropped",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Planned => "Planned",
            Status::InProgress => "In progress",
            Status::Done => "Done",
            Status::Dropped => "Dropped",
        }
    }

    pub fn parse(raw: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| "choose Planned, In progress, Done or Dropped".into())
    }

    /// Done or dropped: closing it asks for a note saying how it ended.
    pub fn closes(self) -> bool {
        matches!(self, Status::Done | Status::Dropped)
    }
}

/// Who may read an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// The people of the group it is for (its team and sub-teams).
    Group,
    Org,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Group => "group",
            Visibility::Org => "org",
        }
    }

    pub fn parse(raw: &str) -> Result<Visibility, String> {
        match raw.trim() {
            "group" => Ok(Visibility::Group),
            "org" => Ok(Visibility::Org),
            _ => Err("choose the group's people or the whole organization".into()),
        }
    }
}

/// An action's fields as a form sends them.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ActionForm {
    pub title: String,
    pub description: String,
    pub pillar: String,
    /// "org" or a team's id.
    pub group: String,
    pub owner: String,
    pub due_date: String,
    pub visibility: String,
    /// The cycle whose result it answers, if any.
    pub cycle: String,
}

/// An action's fields, each valid on its own (the rules that need the
/// organization's people and teams are the service's).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionInput {
    pub title: String,
    pub description: String,
    pub pillar: Option<Pillar>,
    /// None: the whole organization.
    pub team_id: Option<i64>,
    pub owner_id: i64,
    pub due_date: Date,
    pub visibility: Visibility,
    pub cycle_id: Option<i64>,
}

impl ActionForm {
    /// Every field's problem at once, or the input.
    pub fn parse(&self) -> Result<ActionInput, Vec<FieldError>> {
        let mut problems = Vec::new();
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 120 {
            problems.push(FieldError::new(
                "title",
                "give the action a title of 1 to 120 characters",
            ));
        }
        let description = self.description.trim();
        if description.chars().count() > 2000 {
            problems.push(FieldError::new("description", "at most 2000 characters"));
        }
        let pillar = match self.pillar.trim() {
            "" => None,
            raw => match Pillar::parse(raw).filter(|p| p.is_belonging()) {
                Some(p) => Some(p),
                None => {
                    problems.push(FieldError::new("pillar", "choose one of the four pillars, or none"));
                    None
                }
            },
        };
        let team_id = match self.group.trim() {
            "org" => None,
            raw => match raw.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(FieldError::new("group", "choose a team, or the whole organization"));
                    None
                }
            },
        };
        let owner_id = self.owner.trim().parse::<i64>().map_err(|_| {
            problems.push(FieldError::new("owner", "choose who owns it from the list"));
        });
        let due_date = self.due_date.trim().parse::<Date>().map_err(|_| {
            problems.push(FieldError::new("due_date", "write the date as YYYY-MM-DD"));
        });
        let visibility =
            Visibility::parse(&self.visibility).map_err(|e| problems.push(FieldError::new("visibility", e)));
        let cycle_id = match self.cycle.trim() {
            "" => None,
            raw => match raw.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    problems.push(FieldError::new(
                        "cycle",
                        "choose a closed pulse of the organization, or none",
                    ));
                    None
                }
            },
        };
        match (owner_id, due_date, visibility) {
            (Ok(owner_id), Ok(due_date), Ok(visibility)) if problems.is_empty() => Ok(ActionInput {
                title: title.to_owned(),
                description: description.to_owned(),
                pillar,
                team_id,
                owner_id,
                due_date,
                visibility,
                cycle_id,
            }),
            _ => Err(problems),
        }
    }
}

/// The product's practices an initiative may use (or the org's own words).
pub const PRACTICES: [(&str, &str); 7] = [
    ("thank_you_board", "Thank-you board"),
    ("feedback_box", "Feedback box"),
    ("stay_interviews", "Stay interviews"),
    ("coffee_pairing", "Coffee pairing"),
    ("mentoring", "Mentoring"),
    ("huddles", "Huddles"),
    ("workshops", "Workshops"),
];

/// A stored practice in words: a known one's label, or the org's words.
pub fn practice_label(stored: &str) -> &str {
    PRACTICES
        .iter()
        .find(|(key, _)| *key == stored)
        .map_or(stored, |(_, label)| label)
}

/// A practice (a key of [`PRACTICES`], or the org's own words) as the
/// form's two fields: (practice, practice_other).
pub fn practice_fields(practice: String) -> (String, String) {
    match PRACTICES.iter().any(|(k, _)| *k == practice) {
        true => (practice, String::new()),
        false => ("other".into(), practice),
    }
}

/// Whether an initiative is in force or waits for HR (a manager's
/// proposal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    Proposed,
    Active,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Proposed => "proposed",
            Standing::Active => "active",
        }
    }

    pub fn parse(raw: &str) -> Standing {
        match raw {
            "proposed" => Standing::Proposed,
            _ => Standing::Active,
        }
    }
}

/// An initiative's fields as the form sends them (teams repeat, each with
/// its own optional start in `start_<team id>`).
#[derive(Clone, Debug, Default)]
pub struct InitiativeForm {
    pub name: String,
    pub description: String,
    pub practice: String,
    pub practice_other: String,
    pub pillar: String,
    pub pulse: String,
    pub starts_on: String,
    pub ends_on: String,
    pub sub_teams: bool,
    pub teams: Vec<String>,
    /// (team id, its own start) as typed.
    pub team_starts: Vec<(String, String)>,
}

/// An initiative's fields, each valid on its own.
#[derive(Clone, Debug, PartialEq)]
pub struct InitiativeInput {
    pub name: String,
    pub description: String,
    /// A key of [`PRACTICES`], or the org's own words.
    pub practice: String,
    pub pillar: Pillar,
    pub pulse_id: i64,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub sub_teams: bool,
    /// Each team taking part, with its own start when it differs.
    pub teams: Vec<(i64, Option<Date>)>,
}

impl InitiativeForm {
    /// Reads the form's fields, repeated ones included.
    pub fn from_fields(fields: &[(String, String)]) -> InitiativeForm {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        InitiativeForm {
            name: get("name"),
            description: get("description"),
            practice: get("practice"),
            practice_other: get("practice_other"),
            pillar: get("pillar"),
            pulse: get("pulse"),
            starts_on: get("starts_on"),
            ends_on: get("ends_on"),
            sub_teams: get("sub_teams") == "on",
            teams: fields
                .iter()
                .filter(|(k, _)| k == "team")
                .map(|(_, v)| v.clone())
                .collect(),
            team_starts: fields
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("start_")?.to_owned(), v.clone())))
                .filter(|(_, v)| !v.trim().is_empty())
                .collect(),
        }
    }

    /// The start typed for a team, for showing the form again.
    pub fn start_of(&self, team: &i64) -> &str {
        let team = team.to_string();
        self.team_starts
            .iter()
            .find(|(t, _)| *t == team)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn is_practice(&self, key: &str) -> bool {
        self.practice == key
    }

    pub fn chose(&self, team: &i64) -> bool {
        self.teams.contains(&team.to_string())
    }

    /// Every field's problem at once, or the input.
    pub fn parse(&self) -> Result<InitiativeInput, Vec<FieldError>> {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            problems.push(FieldError::new("name", "give it a name of 1 to 120 characters"));
        }
        let description = self.description.trim();
        if description.chars().count() > 2000 {
            problems.push(FieldError::new("description", "at most 2000 characters"));
        }
        let practice = match self.practice.trim() {
            "other" => {
                let own = self.practice_other.trim();
                if own.is_empty() || own.chars().count() > 80 {
                    problems.push(FieldError::new(
                        "practice_other",
                        "say in 1 to 80 characters what the practice is",
                    ));
                }
                own.to_owned()
            }
            key if PRACTICES.iter().any(|(k, _)| *k == key) => key.to_owned(),
            _ => {
                problems.push(FieldError::new("practice", "choose a practice, or Something else"));
                String::new()
            }
        };
        let pillar = Pillar::parse(self.pillar.trim()).filter(|p| p.is_belonging());
        if pillar.is_none() {
            problems.push(FieldError::new("pillar", "choose the pillar it should move"));
        }
        let pulse_id = self.pulse.trim().parse::<i64>().ok();
        if pulse_id.is_none() {
            problems.push(FieldError::new("pulse", "choose the pulse that measures it"));
        }
        let date = |raw: &str| raw.trim().parse::<Date>().ok();
        let starts_on = date(&self.starts_on);
        if starts_on.is_none() {
            problems.push(FieldError::new("starts_on", "write the date as YYYY-MM-DD"));
        }
        let ends_on = match self.ends_on.trim() {
            "" => None,
            raw => match date(raw) {
                Some(end) if starts_on.is_some_and(|s| end <= s) => {
                    problems.push(FieldError::new("ends_on", "choose a day after the start"));
                    None
                }
                Some(end) => Some(end),
                None => {
                    problems.push(FieldError::new(
                        "ends_on",
                        "write the date as YYYY-MM-DD, or leave it empty",
                    ));
                    None
                }
            },
        };
        let mut teams = Vec::new();
        for raw in &self.teams {
            match raw.trim().parse::<i64>() {
                Ok(id) if !teams.iter().any(|(t, _)| *t == id) => teams.push((id, None)),
                Ok(_) => {}
                Err(_) => problems.push(FieldError::new("team", "choose teams from the list")),
            }
        }
        if teams.is_empty() && self.teams.is_empty() {
            problems.push(FieldError::new("team", "choose at least one team taking part"));
        }
        for (team, raw) in &self.team_starts {
            let own = date(raw);
            if own.is_none() {
                problems.push(FieldError::new(
                    "team",
                    "write each team's own start as YYYY-MM-DD, or leave it empty",
                ));
            }
            if let Some(slot) = teams.iter_mut().find(|(t, _)| t.to_string() == *team) {
                slot.1 = own.filter(|d| Some(*d) != starts_on);
            }
        }
        match (pillar, pulse_id, starts_on) {
            (Some(pillar), Some(pulse_id), Some(starts_on)) if problems.is_empty() => Ok(InitiativeInput {
                name: name.to_owned(),
                description: description.to_owned(),
                practice,
                pillar,
                pulse_id,
                starts_on,
                ends_on,
                sub_teams: self.sub_teams,
                teams,
            }),
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ActionForm {
        ActionForm {
            title: " Weekly huddle ".into(),
            description: "Fifteen minutes on Mondays.".into(),
            pillar: "integration".into(),
            group: "42".into(),
            owner: "7".into(),
            due_date: "2027-01-31".into(),
            visibility: "group".into(),
            cycle: String::new(),
        }
    }

    #[test]
    fn a_whole_form_parses_trimmed() {
        let input = form().parse().unwrap();
        assert_eq!(input.title, "Weekly huddle");
        assert_eq!(input.team_id, Some(42));
        assert_eq!(input.pillar, Some(Pillar::Integration));
        assert_eq!(input.due_date.to_string(), "2027-01-31");
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let bad = ActionForm {
            title: " ".into(),
            pillar: "enps".into(),
            group: "kitchen".into(),
            owner: "".into(),
            due_date: "31/01/2027".into(),
            visibility: "everyone".into(),
            ..form()
        };
        let fields: Vec<&str> = bad.parse().unwrap_err().iter().map(|e| e.field).collect();
        assert_eq!(fields, ["title", "pillar", "group", "owner", "due_date", "visibility"]);
    }

    fn initiative(fields: &[(&str, &str)]) -> InitiativeForm {
        let owned: Vec<(String, String)> = fields.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        InitiativeForm::from_fields(&owned)
    }

    #[test]
    fn an_initiative_reads_its_teams_and_their_own_starts() {
        let input = initiative(&[
            ("name", "Weekly huddles"),
            ("practice", "huddles"),
            ("pillar", "integration"),
            ("pulse", "9"),
            ("starts_on", "2026-03-01"),
            ("team", "4"),
            ("team", "5"),
            ("start_5", "2026-05-01"),
            ("start_4", ""),
            ("sub_teams", "on"),
        ])
        .parse()
        .unwrap();
        let may = "2026-05-01".parse().ok();
        assert_eq!(input.teams, vec![(4, None), (5, may)]);
        assert!(input.sub_teams && input.ends_on.is_none());
        assert_eq!(practice_label(&input.practice), "Huddles");
    }

    #[test]
    fn an_initiative_with_no_teams_and_a_backwards_end_names_each_field() {
        let fields: Vec<&str> = initiative(&[
            ("name", "x"),
            ("practice", "other"),
            ("pillar", "stay"),
            ("pulse", "9"),
            ("starts_on", "2026-03-01"),
            ("ends_on", "2026-02-01"),
        ])
        .parse()
        .unwrap_err()
        .iter()
        .map(|e| e.field)
        .collect();
        assert_eq!(fields, ["practice_other", "pillar", "ends_on", "team"]);
    }

    #[test]
    fn statuses_round_trip_and_closing_ones_are_known() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(s));
        }
        assert!(Status::Done.closes() && Status::Dropped.closes() && !Status::InProgress.closes());
        assert!(Status::parse("finished").is_err());
    }
}
