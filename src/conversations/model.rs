//! What a conversation is made of: templates and their questions, talks,
//! the cadences of a pair, and the forms' fields checked one by one (the
//! rules that need the organization are the service's).

use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::shared::Pillar;

/// The longest note, in characters.
pub const NOTE_MAX: usize = 10_000;
/// The longest action item, in characters.
pub const ACTION_MAX: usize = 300;
/// The most questions a template holds.
pub const QUESTIONS_MAX: usize = 12;
/// The longest question, in characters.
pub const QUESTION_MAX: usize = 300;
/// A stay interview counts as recent for this many days (HR's counts).
pub const RECENT_STAY_DAYS: i64 = 183;

/// The kind of a template: the three built in, or the organization's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Stay,
    Career,
    OneOnOne,
    Custom,
}

impl Kind {
    pub const BUILT_IN: [Kind; 3] = [Kind::Stay, Kind::Career, Kind::OneOnOne];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Stay => "stay",
            Kind::Career => "career",
            Kind::OneOnOne => "one_on_one",
            Kind::Custom => "custom",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        [Kind::Stay, Kind::Career, Kind::OneOnOne, Kind::Custom]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    /// Its built-in name, questions and usual minutes.
    pub fn built_in(self) -> (&'static str, Vec<Question>, i64) {
        let q = |text: &str, pillar: Option<Pillar>| Question {
            text: text.to_owned(),
            pillar,
        };
        match self {
            Kind::Stay => (
                "Stay interview",
                vec![
                    q(
                        "How connected do you feel to the people you work with? Who do you go to, and who do you miss?",
                        Some(Pillar::Integration),
                    ),
                    q(
                        "What about your work gives you a sense of purpose? When did you last feel it?",
                        Some(Pillar::Value),
                    ),
                    q(
                        "Are you growing here? What would you like to learn next?",
                        Some(Pillar::Support),
                    ),
                    q(
                        "Do you feel your work is seen and recognised? By whom, and how would you like it to be?",
                        Some(Pillar::Value),
                    ),
                    q(
                        "How is your balance between work and the rest of your life? What would make it better?",
                        Some(Pillar::Support),
                    ),
                    q(
                        "What makes you feel you belong here, and what could make you leave?",
                        Some(Pillar::Acceptance),
                    ),
                ],
                45,
            ),
            Kind::Career => (
                "Career path talk",
                vec![
                    q("Where do you want to be in two or three years?", Some(Pillar::Support)),
                    q("Which skills do you want to build to get there?", Some(Pillar::Support)),
                    q("What is the next step, and by when?", None),
                    q(
                        "What support do you need, from me or from others?",
                        Some(Pillar::Support),
                    ),
                ],
                45,
            ),
            Kind::OneOnOne => (
                "1:1",
                vec![
                    q("Wins since we last talked", Some(Pillar::Value)),
                    q("Blockers: what is in your way?", Some(Pillar::Support)),
                    q("Feedback both ways", Some(Pillar::Acceptance)),
                    q("Priorities until next time", None),
                ],
                30,
            ),
            Kind::Custom => ("Talk", Vec::new(), 30),
        }
    }
}

/// One question of a template, tagged with the pillar it speaks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    pub pillar: Option<Pillar>,
}

/// How often a pair holds a talk of a template.
pub const CADENCES: &[(i64, &str)] = &[
    (7, "Every week"),
    (14, "Every 2 weeks"),
    (30, "Every month"),
    (91, "Every 3 months"),
    (182, "Every 6 months"),
    (365, "Every year"),
];

pub fn cadence_label(days: i64) -> String {
    CADENCES
        .iter()
        .find(|(d, _)| *d == days)
        .map_or_else(|| format!("Every {days} days"), |(_, l)| (*l).to_owned())
}

/// A talk's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// One asked the other; no time yet.
    Requested,
    Scheduled,
    Held,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "requested",
            Status::Scheduled => "scheduled",
            Status::Held => "held",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Status {
        match raw {
            "requested" => Status::Requested,
            "held" => Status::Held,
            "cancelled" => Status::Cancelled,
            _ => Status::Scheduled,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Requested => "Asked for",
            Status::Scheduled => "Scheduled",
            Status::Held => "Held",
            Status::Cancelled => "Cancelled",
        }
    }
}

/// An action item's status.
pub const ACTION_STATUSES: &[(&str, &str)] = &[("open", "Open"), ("done", "Done"), ("dropped", "Dropped")];

pub fn action_status_label(raw: &str) -> &'static str {
    ACTION_STATUSES
        .iter()
        .find(|(v, _)| *v == raw)
        .map_or("Open", |(_, l)| l)
}

fn id_of(field: &'static str, raw: &str, what: &str, problems: &mut Vec<FieldError>) -> Option<i64> {
    match raw.trim().parse::<i64>() {
        Ok(id) if id > 0 => Some(id),
        _ => {
            problems.push(FieldError::new(field, format!("choose {what}")));
            None
        }
    }
}

/// A date and a time as a form sends them.
pub fn when(date: &str, time: &str, problems: &mut Vec<FieldError>) -> Option<DateTime> {
    let day = date.trim().parse::<Date>().ok();
    if day.is_none() {
        problems.push(FieldError::new("date", "write a date as YYYY-MM-DD"));
    }
    let at = time.trim().parse::<Time>().ok();
    if at.is_none() {
        problems.push(FieldError::new("time", "write a time as HH:MM, e.g. 14:30"));
    }
    Some(day?.to_datetime(at?))
}

fn minutes(raw: &str, problems: &mut Vec<FieldError>) -> i64 {
    match raw.trim().parse::<i64>() {
        Ok(m) if (10..=240).contains(&m) => m,
        _ => {
            problems.push(FieldError::new("minutes", "write a length from 10 to 240 minutes"));
            30
        }
    }
}

/// A talk to schedule, as the form sends it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TalkForm {
    /// The other person's id.
    pub with: String,
    pub template: String,
    pub date: String,
    pub time: String,
    pub minutes: String,
    /// Days between talks of this kind for the pair; empty for none.
    pub cadence: String,
}

/// A talk to schedule, each field valid on its own.
#[derive(Clone, Debug)]
pub struct TalkInput {
    pub with: i64,
    pub template: i64,
    /// In the organizer's time zone.
    pub at: DateTime,
    pub minutes: i64,
    pub cadence: Option<i64>,
}

pub fn cadence(raw: &str, problems: &mut Vec<FieldError>) -> Option<i64> {
    match raw.trim() {
        "" | "none" => None,
        raw => match raw.parse::<i64>() {
            Ok(d) if (7..=730).contains(&d) => Some(d),
            _ => {
                problems.push(FieldError::new("cadence", "choose how often, or none"));
                None
            }
        },
    }
}

impl TalkForm {
    pub fn parse(&self) -> Result<TalkInput, Vec<FieldError>> {
        let mut problems = Vec::new();
        let with = id_of("with", &self.with, "the person to talk with", &mut problems);
        let template = id_of("template", &self.template, "a template", &mut problems);
        let at = when(&self.date, &self.time, &mut problems);
        let minutes = minutes(&self.minutes, &mut problems);
        let cadence = cadence(&self.cadence, &mut problems);
        match (with, template, at) {
            (Some(with), Some(template), Some(at)) if problems.is_empty() => Ok(TalkInput {
                with,
                template,
                at,
                minutes,
                cadence,
            }),
            _ => Err(problems),
        }
    }
}

/// A new time for a talk (a reschedule, or accepting a request).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TimeForm {
    pub date: String,
    pub time: String,
    pub minutes: String,
}

impl TimeForm {
    pub fn parse(&self) -> Result<(DateTime, i64), Vec<FieldError>> {
        let mut problems = Vec::new();
        let at = when(&self.date, &self.time, &mut problems);
        let minutes = minutes(&self.minutes, &mut problems);
        match at {
            Some(at) if problems.is_empty() => Ok((at, minutes)),
            _ => Err(problems),
        }
    }
}

/// Asking someone (one's manager, by default) for a talk.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RequestForm {
    pub with: String,
    pub template: String,
}

impl RequestForm {
    pub fn parse(&self) -> Result<(i64, i64), Vec<FieldError>> {
        let mut problems = Vec::new();
        let with = id_of("with", &self.with, "who to ask", &mut problems);
        let template = id_of("template", &self.template, "a template", &mut problems);
        match (with, template) {
            (Some(w), Some(t)) if problems.is_empty() => Ok((w, t)),
            _ => Err(problems),
        }
    }
}

/// A note's text, checked for length.
pub fn note_text(field: &'static str, raw: &str, problems: &mut Vec<FieldError>) -> String {
    let text = raw.replace("\r\n", "\n");
    let text = text.trim_end();
    if text.chars().count() > NOTE_MAX {
        problems.push(FieldError::new(
            field,
            format!(
                "keep a note to {NOTE_MAX} characters (this one has {})",
                text.chars().count()
            ),
        ));
    }
    text.to_owned()
}

/// An action item agreed in a talk.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    pub text: String,
    pub owner: String,
    pub due_date: String,
}

#[derive(Clone, Debug)]
pub struct ActionInput {
    pub text: String,
    pub owner: i64,
    pub due_date: Date,
}

impl ActionForm {
    pub fn parse(&self) -> Result<ActionInput, Vec<FieldError>> {
        let mut problems = Vec::new();
        let text = self.text.trim();
        if text.is_empty() {
            problems.push(FieldError::new("text", "say what will be done"));
        } else if text.chars().count() > ACTION_MAX {
            problems.push(FieldError::new("text", format!("keep it to {ACTION_MAX} characters")));
        }
        let owner = id_of("owner", &self.owner, "who will do it", &mut problems);
        let due = self.due_date.trim().parse::<Date>().ok();
        if due.is_none() {
            problems.push(FieldError::new("due_date", "write a date as YYYY-MM-DD"));
        }
        match (owner, due) {
            (Some(owner), Some(due_date)) if problems.is_empty() => Ok(ActionInput {
                text: text.to_owned(),
                owner,
                due_date,
            }),
            _ => Err(problems),
        }
    }
}

/// A template as its form sends it: a name and up to twelve questions,
/// each `qN` with its pillar `pN` (blank rows are skipped).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct TemplateForm {
    pub name: String,
    #[serde(flatten)]
    pub rows: std::collections::HashMap<String, String>,
}

impl TemplateForm {
    pub fn of(name: &str, questions: &[Question]) -> TemplateForm {
        let mut rows = std::collections::HashMap::new();
        for (i, q) in questions.iter().enumerate() {
            rows.insert(format!("q{i}"), q.text.clone());
            rows.insert(
                format!("p{i}"),
                q.pillar.map(|p| p.as_str().to_owned()).unwrap_or_default(),
            );
        }
        TemplateForm {
            name: name.to_owned(),
            rows,
        }
    }

    pub fn question(&self, i: usize) -> &str {
        self.rows.get(&format!("q{i}")).map_or("", String::as_str)
    }

    pub fn pillar(&self, i: usize) -> &str {
        self.rows.get(&format!("p{i}")).map_or("", String::as_str)
    }

    pub fn parse(&self) -> Result<(String, Vec<Question>), Vec<FieldError>> {
        let mut problems = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            problems.push(FieldError::new("name", "write a name of 1 to 80 characters"));
        }
        let mut questions = Vec::new();
        for i in 0..QUESTIONS_MAX {
            let text = self.question(i).trim();
            if text.is_empty() {
                continue;
            }
            if text.chars().count() > QUESTION_MAX {
                problems.push(FieldError::new(
                    QUESTION_FIELDS[i],
                    format!("keep a question to {QUESTION_MAX} characters"),
                ));
            }
            let pillar = match self.pillar(i).trim() {
                "" => None,
                raw => match Pillar::parse(raw) {
                    Some(p) if Pillar::BELONGING.contains(&p) => Some(p),
                    _ => {
                        problems.push(FieldError::new(PILLAR_FIELDS[i], "choose a pillar, or none"));
                        None
                    }
                },
            };
            questions.push(Question {
                text: text.to_owned(),
                pillar,
            });
        }
        if questions.is_empty() {
            problems.push(FieldError::new("q0", "write at least one question"));
        }
        if problems.is_empty() {
            Ok((name.to_owned(), questions))
        } else {
            Err(problems)
        }
    }
}

/// The question rows' field names.
pub const QUESTION_FIELDS: [&str; QUESTIONS_MAX] =
    ["q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9", "q10", "q11"];
pub const PILLAR_FIELDS: [&str; QUESTIONS_MAX] =
    ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "p11"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stay_interview_asks_six_questions_each_with_a_pillar() {
        let (_, questions, _) = Kind::Stay.built_in();
        assert_eq!(questions.len(), 6);
        assert!(questions.iter().all(|q| q.pillar.is_some()));
    }

    #[test]
    fn a_talk_form_names_every_bad_field() {
        let form = TalkForm {
            with: "x".into(),
            template: "".into(),
            date: "2026-13-01".into(),
            time: "25:00".into(),
            minutes: "5".into(),
            cadence: "3".into(),
        };
        let fields: Vec<_> = form.parse().unwrap_err().iter().map(|p| p.field).collect();
        assert_eq!(fields, ["with", "template", "date", "time", "minutes", "cadence"]);
    }

    #[test]
    fn a_template_keeps_its_filled_rows_in_order() {
        let mut form = TemplateForm {
            name: "Quarterly".into(),
            ..TemplateForm::default()
        };
        form.rows.insert("q0".into(), "First".into());
        form.rows.insert("q3".into(), "Second".into());
        form.rows.insert("p3".into(), "support".into());
        let (name, qs) = form.parse().unwrap();
        assert_eq!(name, "Quarterly");
        assert_eq!(qs.len(), 2);
        assert_eq!(qs[1].pillar, Some(Pillar::Support));
        form.rows.insert("p0".into(), "nonsense".into());
        assert_eq!(form.parse().unwrap_err()[0].field, "p0");
    }
}
