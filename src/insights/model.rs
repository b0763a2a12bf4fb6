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
            raw => raw.parse::<i64>().ok(),
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

    #[test]
    fn statuses_round_trip_and_closing_ones_are_known() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Ok(s));
        }
        assert!(Status::Done.closes() && Status::Dropped.closes() && !Status::InProgress.closes());
        assert!(Status::parse("finished").is_err());
    }
}
