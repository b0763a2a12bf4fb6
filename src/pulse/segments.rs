//! Self-reported segments: org-defined, optional questions at the end of
//! the form, always with "prefer not to say". Their answers live only on
//! the anonymous response and reach results only through the plan.

use crate::app::App;
use crate::auth::{Actor, Permission};
use crate::db::new_id;
use crate::error::{AppError, FieldError};

/// The answer that is never stored and never a group.
pub const PREFER_NOT: &str = "prefer not to say";

#[derive(Clone, Debug)]
pub struct SegmentQuestion {
    pub id: i64,
    pub text: String,
    pub options: Vec<String>,
    pub active: bool,
}

impl SegmentQuestion {
    /// The key of this question in group keys (`segment:s<ID>=value`).
    pub fn key(&self) -> String {
        key(self.id)
    }
}

/// The key of segment question `id` among the groups ("s{id}").
pub fn key(id: i64) -> String {
    format!("s{id}")
}

/// Options written one per line (or separated by commas).
pub fn parse_options(raw: &str) -> Result<Vec<String>, String> {
    let sep = if raw.contains('\n') { '\n' } else { ',' };
    let mut options: Vec<String> = Vec::new();
    for o in raw.split(sep).map(str::trim).filter(|o| !o.is_empty()) {
        if o.chars().count() > 60 || o.contains('=') || o.chars().any(char::is_control) {
            return Err(format!("{o:?}: an option has at most 60 characters and no '='"));
        }
        if o.eq_ignore_ascii_case(PREFER_NOT) {
            continue;
        }
        if options.iter().any(|x| x.eq_ignore_ascii_case(o)) {
            return Err(format!("{o:?} is listed twice"));
        }
        options.push(o.to_owned());
    }
    if !(2..=8).contains(&options.len()) {
        return Err("give 2 to 8 coarse options (\"prefer not to say\" is always added)".into());
    }
    Ok(options)
}

/// The organization's segment questions, oldest first.
pub async fn list(
    conn: &mut sqlx::AnyConnection,
    org_id: i64,
    only_active: bool,
) -> Result<Vec<SegmentQuestion>, sqlx::Error> {
    super::store::segment_questions(conn, org_id, only_active).await
}

/// Takes the segment fields (`s<ID>`) out of a submitted form: the options
/// chosen among the active questions, the problems by field, and the other
/// fields. Left blank or "prefer not to say", a question is not answered.
pub type Taken = (Chosen, Problems, Vec<(String, String)>);

/// Segment answers: (segment question id, option).
pub type Chosen = Vec<(i64, String)>;

/// Problems by field name.
pub type Problems = Vec<(String, String)>;

pub fn take_answers(active: &[SegmentQuestion], fields: &[(String, String)]) -> Taken {
    let (mut chosen, mut errors, mut rest) = (Vec::new(), Vec::new(), Vec::new());
    for (name, value) in fields {
        let Some(id) = name.strip_prefix('s').and_then(|n| n.parse::<i64>().ok()) else {
            rest.push((name.clone(), value.clone()));
            continue;
        };
        take_one(active, id, name, value, &mut chosen, &mut errors);
    }
    (chosen, errors, rest)
}

/// The API's segment answers: segment question id → the chosen option (or
/// "prefer not to say"). Errors name the field as `segments.ID`.
pub fn take_typed(active: &[SegmentQuestion], sent: &std::collections::BTreeMap<String, String>) -> (Chosen, Problems) {
    let (mut chosen, mut errors) = (Vec::new(), Vec::new());
    for (key, value) in sent {
        let name = format!("segments.{key}");
        match key.parse::<i64>() {
            Ok(id) => take_one(active, id, &name, value, &mut chosen, &mut errors),
            Err(_) => errors.push((name, "is not a segment question id".to_owned())),
        }
    }
    (chosen, errors)
}

fn take_one(
    active: &[SegmentQuestion],
    id: i64,
    name: &str,
    value: &str,
    chosen: &mut Vec<(i64, String)>,
    errors: &mut Vec<(String, String)>,
) {
    let value = value.trim();
    match active.iter().find(|q| q.id == id) {
        None => errors.push((name.to_owned(), "is not a question of this form".to_owned())),
        Some(_) if value.is_empty() || value.eq_ignore_ascii_case(PREFER_NOT) => {}
        Some(q) if q.options.iter().any(|o| o == value) => chosen.push((id, value.to_owned())),
        Some(_) => errors.push((name.to_owned(), "choose one of the options".to_owned())),
    }
}

pub async fn add(app: &App, actor: &Actor, text: &str, options: &str) -> Result<i64, AppError> {
    actor.require(Permission::ManageSurveys)?;
    let text = text.trim();
    let mut problems = Vec::new();
    if text.is_empty() || text.chars().count() > 200 {
        problems.push(FieldError::new("text", "write the question in 1 to 200 characters"));
    }
    let options = parse_options(options).map_err(|e| problems.push(FieldError::new("options", e)));
    AppError::check(problems)?;
    let options = options.unwrap_or_default();
    let id = new_id();
    let conn = &mut *app.db.acquire().await?;
    super::store::insert_segment_question(conn, id, actor.org_id, text, &options, app.now().as_second()).await?;
    Ok(id)
}

pub async fn set_active(app: &App, actor: &Actor, id: i64, active: bool) -> Result<(), AppError> {
    actor.require(Permission::ManageSurveys)?;
    let done = super::store::set_segment_active(&mut *app.db.acquire().await?, actor.org_id, id, active).await?;
    if !done {
        return Err(AppError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_coarse_distinct_and_never_include_prefer_not() {
        assert_eq!(
            parse_options("Remote, On-site, Hybrid").unwrap(),
            vec!["Remote", "On-site", "Hybrid"]
        );
        assert_eq!(
            parse_options("Remote\nOffice\nPrefer not to say\n").unwrap(),
            vec!["Remote", "Office"]
        );
        assert!(parse_options("Remote").is_err());
        assert!(parse_options("a, A").is_err());
        assert!(parse_options("x=1, y").is_err());
    }
}
