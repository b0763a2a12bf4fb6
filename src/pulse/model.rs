//! Questions, pillars, schedules, tenure bands and the rules on answers.
//! No I/O.

use std::collections::BTreeMap;

use jiff::civil::Date;

use crate::error::{AppError, FieldError};

pub use crate::shared::Pillar;

/// A question as asked (one version of it).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Question {
    pub id: i64,
    pub family: i64,
    pub version: i64,
    pub pillar: Pillar,
    pub text: String,
    pub builtin: bool,
    pub retired: bool,
}

#[cfg(test)]
impl Question {
    /// A first-version built-in question "Q{id}", for unit tests.
    pub fn sample(id: i64, pillar: Pillar) -> Question {
        Question {
            id,
            family: id,
            version: 1,
            pillar,
            text: format!("Q{id}"),
            builtin: true,
            retired: false,
        }
    }
}

/// The question bank every organization starts with.
pub const BUILTIN: &[(Pillar, &str)] = &[
    (Pillar::Acceptance, "I feel welcome here, whoever I am."),
    (
        Pillar::Acceptance,
        "I can be myself at work without worrying how I will be seen.",
    ),
    (
        Pillar::Acceptance,
        "People here treat me with respect, whatever my background.",
    ),
    (
        Pillar::Acceptance,
        "My ideas are heard, even when they differ from most people's.",
    ),
    (Pillar::Value, "My contributions are recognised."),
    (Pillar::Value, "My skills are put to good use in my work."),
    (Pillar::Value, "When I do good work, someone notices."),
    (Pillar::Value, "I understand how my work matters to the organisation."),
    (Pillar::Support, "I can get help when I need it."),
    (Pillar::Support, "My manager supports me when things are hard."),
    (Pillar::Support, "I have what I need to do my job well."),
    (Pillar::Support, "I can talk openly about my workload without fear."),
    (Pillar::Integration, "I feel part of my team."),
    (Pillar::Integration, "I am involved in decisions that affect my work."),
    (Pillar::Integration, "I know what is going on in the organisation."),
    (Pillar::Integration, "I have people at work I can count on."),
    (Pillar::Stay, "I see myself working here in two years."),
    (
        Pillar::Enps,
        "How likely are you to recommend working here to a friend?",
    ),
    (Pillar::Comment, "Anything else you would like to tell us?"),
];

/// Questions per cycle in a new pulse.
pub const DEFAULT_PER_CYCLE: i64 = 9;

/// The usual start: the first question of each pillar, intent to stay,
/// eNPS and the comment every time; the second of each pillar in rotation;
/// the rest unused. `(question, asked every time)`.
pub fn default_selection(bank: &[Question]) -> Vec<(i64, bool)> {
    let mut seen: BTreeMap<Pillar, usize> = BTreeMap::new();
    bank.iter()
        .filter(|q| !q.retired)
        .filter_map(|q| {
            let n = seen.entry(q.pillar).or_insert(0);
            *n += 1;
            match *n {
                1 => Some((q.id, true)),
                2 => Some((q.id, false)),
                _ => None,
            }
        })
        .collect()
}

/// A pulse to create, already parsed.
#[derive(Clone, Debug)]
pub struct PulseInput {
    pub title: String,
    pub schedule: Schedule,
    pub open_days: i64,
    pub remind_days: i64,
    pub per_cycle: i64,
    /// None: everyone.
    pub teams: Option<Vec<i64>>,
    /// (question, core)
    pub questions: Vec<(i64, bool)>,
}

impl PulseInput {
    /// The rules of a pulse's design, against the organization's question
    /// bank; the title, trimmed, when they hold. Every broken rule is
    /// reported at once, each naming its field.
    pub fn check(&self, bank: &[Question]) -> Result<String, AppError> {
        AppError::check(self.problems(bank)).map(|()| self.title.trim().to_owned())
    }

    /// Every broken rule of [`PulseInput::check`], each naming its field.
    pub fn problems(&self, bank: &[Question]) -> Vec<FieldError> {
        let mut problems = Vec::new();
        let mut refuse = |field: &'static str, why: String| problems.push(FieldError::new(field, why));
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 120 {
            refuse("title", "give the pulse a title of 1 to 120 characters".into());
        }
        if !(1..=28).contains(&self.open_days) {
            refuse("open_days", "a cycle stays open 1 to 28 days".into());
        } else if !(0..self.open_days).contains(&self.remind_days) {
            refuse(
                "remind_days",
                "the reminder goes out 0 days (none) up to the open days before close".into(),
            );
        }
        if !(5..=10).contains(&self.per_cycle) {
            refuse("per_cycle", "ask 5 to 10 questions per cycle".into());
        } else if let Err(why) = self.check_questions(bank) {
            refuse("questions", why);
        }
        if self.teams.as_ref().is_some_and(Vec::is_empty) {
            refuse("teams", "choose at least one team, or everyone".into());
        }
        problems
    }

    fn check_questions(&self, bank: &[Question]) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for (id, _) in &self.questions {
            if !seen.insert(*id) || !bank.iter().any(|q| q.id == *id && !q.retired) {
                return Err("choose questions from the organization's bank, each once".into());
            }
        }
        let pillar_of = |id: &i64| bank.iter().find(|q| q.id == *id).map(|q| q.pillar);
        let core: Vec<i64> = self.questions.iter().filter(|(_, c)| *c).map(|(id, _)| *id).collect();
        let (chosen, core_n) = (self.questions.len() as i64, core.len() as i64);
        if core_n > self.per_cycle {
            return Err(format!(
                "{core_n} questions are asked every time, more than the {} per cycle",
                self.per_cycle
            ));
        }
        if chosen < self.per_cycle {
            return Err(format!("choose at least {} questions", self.per_cycle));
        }
        // A repeating pulse asks every rotating question at least once in
        // its rotation window (a quarter of monthly cycles, a year of
        // quarterly ones). A one-off pulse asks those that fit.
        let rotating = chosen - core_n;
        if let Some((cycles, window)) = self.schedule.rotation_window() {
            let room = (self.per_cycle - core_n) * cycles;
            if rotating > room {
                return Err(format!(
                    "{rotating} rotating questions cannot all be asked {window}: there is room for {room}; make fewer rotate, or ask more per cycle"
                ));
            }
        }
        for p in Pillar::BELONGING {
            if !core.iter().any(|id| pillar_of(id) == Some(p)) {
                return Err(format!("ask at least one {} question every time", p.label()));
            }
        }
        Ok(())
    }
}

/// How often a pulse opens a new cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    Once,
    Monthly,
    Quarterly,
}

impl Schedule {
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Once => "once",
            Schedule::Monthly => "monthly",
            Schedule::Quarterly => "quarterly",
        }
    }

    pub fn parse(s: &str) -> Result<Schedule, String> {
        match s {
            "once" => Ok(Schedule::Once),
            "monthly" => Ok(Schedule::Monthly),
            "quarterly" => Ok(Schedule::Quarterly),
            _ => Err("must be once, monthly or quarterly".into()),
        }
    }

    /// Cycles in a quarter.
    pub fn cycles_per_quarter(self) -> i64 {
        match self {
            Schedule::Monthly => 3,
            Schedule::Once | Schedule::Quarterly => 1,
        }
    }

    /// The cycles within which every rotating question is asked at least
    /// once, and that window in words; none for a one-off pulse.
    pub fn rotation_window(self) -> Option<(i64, &'static str)> {
        match self {
            Schedule::Once => None,
            Schedule::Monthly => Some((3, "each quarter")),
            Schedule::Quarterly => Some((4, "each year")),
        }
    }

    /// Months between cycles, if it repeats.
    pub fn months(self) -> Option<i64> {
        match self {
            Schedule::Once => None,
            Schedule::Monthly => Some(1),
            Schedule::Quarterly => Some(3),
        }
    }
}

/// The tenure bands, shortest first: what a roster entry is labelled with.
pub const TENURE_BANDS: [&str; 3] = ["under 1 year", "1 to 3 years", "3 years or more"];

/// The tenure band of someone who has been there `months` whole months.
pub fn tenure_band_of(months: i64) -> &'static str {
    match months {
        m if m < 12 => TENURE_BANDS[0],
        m if m < 36 => TENURE_BANDS[1],
        _ => TENURE_BANDS[2],
    }
}

/// Coarse tenure bands, derived from the start date when a cycle opens.
pub fn tenure_band(start: Option<Date>, on: Date) -> Option<&'static str> {
    let months = start?.until((jiff::Unit::Month, on)).ok()?.get_months();
    Some(tenure_band_of(i64::from(months)))
}

/// One whole submission, checked against the cycle's questions: what the
/// writer seals, whichever edge (form or API) it came in by.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Submission {
    pub answers: BTreeMap<i64, i64>,
    pub comment: Option<String>,
    /// Self-reported segments: (segment question, option chosen).
    pub segments: Vec<(i64, String)>,
}

pub const MAX_COMMENT: usize = 2000;

/// One answer as an edge received it, before it is checked.
enum Given<'a> {
    /// Text, as a form sends every field.
    Text(&'a str),
    /// A number, as the API sends a scale answer.
    Number(i64),
}

/// Checks a submitted form against the cycle's questions: every scale
/// question answered within its scale, nothing unknown, the comment within
/// its limit. Every problem is reported with its field. Segment fields
/// (`s<ID>`) are taken out before (see `segments::take_answers`).
pub fn parse_submission(
    questions: &[Question],
    fields: &[(String, String)],
) -> Result<Submission, Vec<(String, String)>> {
    let given = fields.iter().filter(|(name, _)| name != "csrf").map(|(name, value)| {
        let id = name.strip_prefix('q').and_then(|n| n.parse::<i64>().ok());
        (
            name.clone(),
            id.map(|id| (id, Given::Text(value)))
                .ok_or("is not a field of this form"),
        )
    });
    check(questions, given.collect())
}

/// The API's typed answer checked like the form's: `answers` maps question
/// ids to numbers, `comment` answers the cycle's comment question. Errors
/// name the fields as the form does (`q<ID>`, `comment`).
pub fn typed_submission(
    questions: &[Question],
    answers: &BTreeMap<String, i64>,
    comment: Option<&str>,
) -> Result<Submission, Vec<(String, String)>> {
    let mut given: Vec<_> = answers
        .iter()
        .map(|(key, value)| {
            let id = key.parse::<i64>().map(|id| (id, Given::Number(*value)));
            (format!("q{key}"), id.map_err(|_| "is not a question of this pulse"))
        })
        .collect();
    if let Some(text) = comment {
        let question = questions.iter().find(|q| q.pillar.scale().is_none());
        given.push((
            "comment".to_owned(),
            question
                .map(|q| (q.id, Given::Text(text)))
                .ok_or("this pulse asks for no comment"),
        ));
    }
    check(questions, given)
}

/// Each field by name: the question it answers and what was given, or
/// why it answers none.
type Fields<'a> = Vec<(String, Result<(i64, Given<'a>), &'static str>)>;

fn check(questions: &[Question], given: Fields<'_>) -> Result<Submission, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let mut answers = BTreeMap::new();
    let mut comment = None;
    for (name, field) in given {
        let (id, value) = match field {
            Ok(f) => f,
            Err(why) => {
                errors.push((name, why.to_owned()));
                continue;
            }
        };
        let Some(q) = questions.iter().find(|q| q.id == id) else {
            errors.push((name, "is not a question of this pulse".to_owned()));
            continue;
        };
        match (q.pillar.scale(), value) {
            (None, Given::Text(text)) => {
                let text = text.trim();
                if text.chars().count() > MAX_COMMENT {
                    errors.push((name, format!("is longer than {MAX_COMMENT} characters")));
                } else if !text.is_empty() {
                    comment = Some(text.to_owned());
                }
            }
            (None, Given::Number(_)) => {
                errors.push((name, "is the comment: send it as text in \"comment\"".to_owned()))
            }
            (Some((low, high)), value) => {
                let number = match value {
                    Given::Text(text) => text.trim().parse::<i64>().ok(),
                    Given::Number(n) => Some(n),
                };
                match number {
                    Some(v) if (low..=high).contains(&v) => {
                        if answers.insert(id, v).is_some() {
                            errors.push((name, "was answered twice".to_owned()));
                        }
                    }
                    _ => errors.push((name, format!("must be a whole number from {low} to {high}"))),
                }
            }
        }
    }
    for q in questions {
        if q.pillar.scale().is_some()
            && !answers.contains_key(&q.id)
            && !errors.iter().any(|(f, _)| *f == format!("q{}", q.id))
        {
            errors.push((
                format!("q{}", q.id),
                format!("please answer \u{201c}{}\u{201d}", q.text),
            ));
        }
    }
    if errors.is_empty() {
        Ok(Submission {
            answers,
            comment,
            segments: Vec::new(),
        })
    } else {
        Err(errors)
    }
}

/// Picks the questions of the next cycle: every core question, then the
/// rotating ones asked longest ago (never first), up to `size`.
pub fn rotate(core: &[i64], rotating: &[(i64, Option<i64>)], size: usize) -> Vec<i64> {
    let mut chosen: Vec<i64> = core.to_vec();
    let mut pool: Vec<(i64, Option<i64>)> = rotating.to_vec();
    // None (never asked) sorts first.
    pool.sort_by_key(|(id, last)| (*last, *id));
    for (id, _) in pool {
        if chosen.len() >= size {
            break;
        }
        chosen.push(id);
    }
    chosen
}

/// A response's answers as stored in its row: `question=value` pairs joined
/// by `;`. One row per response keeps a commit to one page per response.
pub fn pack_answers(answers: &[(i64, i64)]) -> String {
    let pairs: Vec<String> = answers.iter().map(|(q, v)| format!("{q}={v}")).collect();
    pairs.join(";")
}

/// The answers of a stored row; a pair that does not parse is skipped.
pub fn unpack_answers(packed: &str) -> Vec<(i64, i64)> {
    packed
        .split(';')
        .filter_map(|pair| {
            let (q, v) = pair.split_once('=')?;
            Some((q.parse().ok()?, v.parse().ok()?))
        })
        .collect()
}

/// Self-reported segments as stored in a response row: a JSON object from
/// segment question id to value, or nothing when none was given.
pub fn pack_segments(segments: &[(i64, String)]) -> Option<String> {
    if segments.is_empty() {
        return None;
    }
    let map: std::collections::BTreeMap<String, &str> =
        segments.iter().map(|(id, v)| (id.to_string(), v.as_str())).collect();
    Some(serde_json::to_string(&map).expect("a map of strings serializes"))
}

pub fn unpack_segments(packed: Option<&str>) -> Vec<(i64, String)> {
    let Some(text) = packed else { return Vec::new() };
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(text).unwrap_or_default();
    map.into_iter()
        .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
        .collect()
}

/// Why a submission was refused.
#[derive(Debug)]
pub enum SubmitError {
    NotFound,
    Closed,
    NotInvited,
    AlreadyAnswered,
    Invalid(Vec<(String, String)>),
    Other(AppError),
}

impl From<sqlx::Error> for SubmitError {
    fn from(e: sqlx::Error) -> Self {
        SubmitError::Other(e.into())
    }
}

impl From<SubmitError> for AppError {
    fn from(e: SubmitError) -> AppError {
        match e {
            SubmitError::NotFound => AppError::NotFound,
            SubmitError::Closed => AppError::conflict("cycle", "this pulse is closed; answers are no longer taken"),
            SubmitError::NotInvited => AppError::Forbidden,
            SubmitError::AlreadyAnswered => {
                AppError::conflict("cycle", "you have answered this pulse already; thank you")
            }
            SubmitError::Invalid(mut errs) => {
                let (field, message) = errs.remove(0);
                AppError::Invalid { field, message }
            }
            SubmitError::Other(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_answers_and_segments_read_back_the_same() {
        let answers = vec![(12, 4), (13, 1), (90, 10)];
        assert_eq!(pack_answers(&answers), "12=4;13=1;90=10");
        assert_eq!(unpack_answers(&pack_answers(&answers)), answers);
        assert_eq!(unpack_answers(""), vec![]);
        assert_eq!(unpack_answers("1=2;x=3;4"), vec![(1, 2)]);
        let segments = vec![(3, "Remote; \"home\" = yes".to_owned()), (7, "Office".to_owned())];
        assert_eq!(unpack_segments(pack_segments(&segments).as_deref()), segments);
        assert_eq!(pack_segments(&[]), None);
        // PostgreSQL's json_object_agg spaces its output differently.
        assert_eq!(
            unpack_segments(Some(r#"{ "3" : "Remote" }"#)),
            vec![(3, "Remote".to_owned())]
        );
    }

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn a_whole_submission_parses() {
        let qs = [
            Question::sample(1, Pillar::Value),
            Question::sample(2, Pillar::Enps),
            Question::sample(3, Pillar::Comment),
        ];
        let s = parse_submission(&qs, &f(&[("csrf", "x"), ("q1", "4"), ("q2", "10"), ("q3", "  fine ")])).unwrap();
        assert_eq!(s.answers, BTreeMap::from([(1, 4), (2, 10)]));
        assert_eq!(s.comment.as_deref(), Some("fine"));
        let no_comment = parse_submission(&qs, &f(&[("q1", "1"), ("q2", "0"), ("q3", "")])).unwrap();
        assert_eq!(no_comment.comment, None);
    }

    #[test]
    fn bad_submissions_name_every_field() {
        let qs = [
            Question::sample(1, Pillar::Value),
            Question::sample(2, Pillar::Enps),
            Question::sample(3, Pillar::Comment),
        ];
        let errs = parse_submission(
            &qs,
            &f(&[
                ("q1", "6"),
                ("q9", "3"),
                ("hack", "1"),
                ("q3", &"x".repeat(MAX_COMMENT + 1)),
            ]),
        )
        .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["q1", "q9", "hack", "q3", "q2"]);
        let twice = parse_submission(&qs, &f(&[("q1", "3"), ("q1", "4"), ("q2", "5")])).unwrap_err();
        assert_eq!(twice[0].0, "q1");
    }

    #[test]
    fn a_typed_submission_is_checked_like_the_form() {
        let qs = [
            Question::sample(1, Pillar::Value),
            Question::sample(2, Pillar::Enps),
            Question::sample(3, Pillar::Comment),
        ];
        let answers = |pairs: &[(&str, i64)]| -> BTreeMap<String, i64> {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        let typed = typed_submission(&qs, &answers(&[("1", 4), ("2", 10)]), Some("  fine ")).unwrap();
        let form = parse_submission(&qs, &f(&[("q1", "4"), ("q2", "10"), ("q3", "  fine ")])).unwrap();
        assert_eq!(typed, form);
        let errs = typed_submission(&qs, &answers(&[("1", 6), ("x", 3), ("3", 2)]), None).unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(fields, vec!["q1", "q3", "qx", "q2"]);
        assert!(errs[1].1.contains("comment"), "{errs:?}");
        let long = "x".repeat(MAX_COMMENT + 1);
        let errs = typed_submission(&qs, &answers(&[("1", 1), ("2", 0)]), Some(&long)).unwrap_err();
        assert_eq!(errs[0].0, "comment");
        let no_comment_question = [Question::sample(1, Pillar::Value)];
        let errs = typed_submission(&no_comment_question, &answers(&[("1", 1)]), Some("hi")).unwrap_err();
        assert_eq!(
            errs,
            vec![("comment".to_owned(), "this pulse asks for no comment".to_owned())]
        );
    }

    #[test]
    fn tenure_bands_are_coarse() {
        let on: Date = "2026-06-01".parse().unwrap();
        assert_eq!(
            tenure_band(Some("2026-01-01".parse().unwrap()), on),
            Some("under 1 year")
        );
        assert_eq!(
            tenure_band(Some("2024-06-01".parse().unwrap()), on),
            Some("1 to 3 years")
        );
        assert_eq!(
            tenure_band(Some("2020-02-01".parse().unwrap()), on),
            Some("3 years or more")
        );
        assert_eq!(tenure_band(None, on), None);
    }

    #[test]
    fn the_defaults_are_valid_for_every_schedule() {
        let bank: Vec<Question> = BUILTIN
            .iter()
            .enumerate()
            .map(|(i, (p, _))| Question::sample(i as i64, *p))
            .collect();
        for schedule in [Schedule::Once, Schedule::Monthly, Schedule::Quarterly] {
            let input = PulseInput {
                title: "Pulse".into(),
                schedule,
                open_days: 7,
                remind_days: 3,
                per_cycle: DEFAULT_PER_CYCLE,
                teams: None,
                questions: default_selection(&bank),
            };
            assert!(
                input.check_questions(&bank).is_ok(),
                "{schedule:?}: {:?}",
                input.check_questions(&bank)
            );
        }
    }

    #[test]
    fn the_default_asks_one_per_pillar_and_rotates_the_second() {
        let bank: Vec<Question> = BUILTIN
            .iter()
            .enumerate()
            .map(|(i, (p, _))| Question::sample(i as i64, *p))
            .collect();
        let chosen = default_selection(&bank);
        let core: Vec<i64> = chosen.iter().filter(|(_, c)| *c).map(|(id, _)| *id).collect();
        let rotating = chosen.len() - core.len();
        assert_eq!(core.len(), 7, "four pillars, stay, eNPS, comment");
        assert_eq!(rotating, 4);
        // Monthly, there is room to ask each rotating question every quarter.
        assert!(rotating as i64 <= (DEFAULT_PER_CYCLE - core.len() as i64) * Schedule::Monthly.cycles_per_quarter());
    }

    #[test]
    fn rotation_keeps_core_and_asks_the_longest_unasked() {
        let picked = rotate(&[1, 2], &[(3, Some(5)), (4, None), (5, Some(2)), (6, Some(9))], 4);
        assert_eq!(picked, vec![1, 2, 4, 5]);
    }

    use proptest::prelude::Strategy;

    proptest::proptest! {
        /// Scores: a field is taken exactly when it is a whole number
        /// within its question's scale (1–5, or 0–10 for eNPS); anything
        /// else is refused with the field's name, and nothing panics.
        #[test]
        fn a_score_is_taken_only_within_its_scale(
            value in proptest::prop_oneof![
                (-20i64..30).prop_map(|v| v.to_string()),
                proptest::prelude::any::<String>(),
                "[ ]{0,2}[0-9]{1,3}[ ]{0,2}",
            ],
            enps in proptest::prelude::any::<bool>(),
        ) {
            let pillar = if enps { Pillar::Enps } else { Pillar::Value };
            let (low, high) = pillar.scale().unwrap();
            let qs = [Question::sample(1, pillar)];
            let fields = vec![("q1".to_owned(), value.clone())];
            let wanted = value.trim().parse::<i64>().ok().filter(|v| (low..=high).contains(v));
            match (parse_submission(&qs, &fields), wanted) {
                (Ok(s), Some(v)) => proptest::prop_assert_eq!(s.answers.get(&1), Some(&v)),
                (Err(errors), None) => proptest::prop_assert!(errors.iter().any(|(f, _)| f == "q1"), "{errors:?}"),
                (got, want) => proptest::prop_assert!(false, "{value:?}: got {got:?}, wanted {want:?}"),
            }
        }
    }
}
