//! The thank-you board's types and rules, without I/O.

use std::collections::HashMap;

/// Who counts as not seen lately: no thank-you for this many days.
pub const COVERAGE_DAYS: i64 = 60;
pub const MAX_MESSAGE: usize = 1000;
pub const MAX_RECIPIENTS: usize = 10;
pub const PAGE_SIZE: usize = 20;

/// A company value's name: 1 to 40 characters on one line.
pub fn parse_value_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("give the value a name".into());
    }
    if name.chars().count() > 40 {
        return Err("at most 40 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("one line, without control characters".into());
    }
    Ok(name.to_owned())
}

pub fn parse_description(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > 300 {
        return Err("at most 300 characters".into());
    }
    Ok(text.to_owned())
}

/// A thank-you's words: not blank, at most [`MAX_MESSAGE`] characters.
pub fn parse_message(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("say what you are thanking them for".into());
    }
    let len = text.chars().count();
    if len > MAX_MESSAGE {
        return Err(format!("at most {MAX_MESSAGE} characters; this has {len}"));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// The kinds of reaction, stored by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reaction {
    Applause,
    Heart,
    Smile,
}

impl Reaction {
    pub const ALL: [Reaction; 3] = [Reaction::Applause, Reaction::Heart, Reaction::Smile];

    pub fn as_str(self) -> &'static str {
        match self {
            Reaction::Applause => "applause",
            Reaction::Heart => "heart",
            Reaction::Smile => "smile",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Reaction::Applause => "Applause",
            Reaction::Heart => "Love",
            Reaction::Smile => "Smile",
        }
    }

    pub fn parse(raw: &str) -> Result<Reaction, String> {
        Reaction::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim())
            .ok_or_else(|| "choose applause, heart or smile".into())
    }
}

/// Someone who may be thanked, as far as the rules below need to know.
#[derive(Clone, Debug)]
pub struct Colleague {
    pub id: i64,
    pub active: bool,
}

/// Reads the chosen recipients: at least one, at most [`MAX_RECIPIENTS`],
/// each an active colleague of the same organization and not the author.
/// Duplicates are dropped.
pub fn parse_recipients(raw: &[String], author: i64, org: &[Colleague]) -> Result<Vec<i64>, String> {
    let mut out: Vec<i64> = Vec::new();
    for item in raw.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let id: i64 = item.parse().map_err(|_| format!("{item:?} is not a person"))?;
        match org.iter().find(|c| c.id == id) {
            None => return Err("choose people of your organization".into()),
            Some(c) if !c.active => return Err("someone chosen has left and cannot be thanked".into()),
            Some(_) if id == author => return Err("you cannot thank yourself".into()),
            Some(_) => {
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
    }
    if out.is_empty() {
        return Err("choose at least one colleague to thank".into());
    }
    if out.len() > MAX_RECIPIENTS {
        return Err(format!("at most {MAX_RECIPIENTS} people in one thank-you"));
    }
    Ok(out)
}

/// The people of `scope` with no thank-you since `now - COVERAGE_DAYS`
/// days; `last` is when each person was last thanked. Longest unthanked
/// first, never-thanked before all.
pub fn not_thanked_lately(scope: &[i64], last: &HashMap<i64, i64>, now: i64) -> Vec<(i64, Option<i64>)> {
    let since = now - COVERAGE_DAYS * 86_400;
    let mut out: Vec<(i64, Option<i64>)> = scope
        .iter()
        .map(|p| (*p, last.get(p).copied()))
        .filter(|(_, at)| at.is_none_or(|t| t < since))
        .collect();
    out.sort_by_key(|(id, at)| (at.unwrap_or(i64::MIN), *id));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org() -> Vec<Colleague> {
        vec![
            Colleague { id: 1, active: true },
            Colleague { id: 2, active: true },
            Colleague { id: 3, active: false },
        ]
    }

    #[test]
    fn recipients_must_be_active_colleagues_other_than_the_author() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(parse_recipients(&s(&["2", "2", " "]), 1, &org()).unwrap(), vec![2]);
        assert!(
            parse_recipients(&s(&["1"]), 1, &org())
                .unwrap_err()
                .contains("yourself")
        );
        assert!(parse_recipients(&s(&["3"]), 1, &org()).unwrap_err().contains("left"));
        assert!(
            parse_recipients(&s(&["99"]), 1, &org())
                .unwrap_err()
                .contains("organization")
        );
        assert!(
            parse_recipients(&s(&["x"]), 1, &org())
                .unwrap_err()
                .contains("not a person")
        );
        assert!(
            parse_recipients(&s(&[]), 1, &org())
                .unwrap_err()
                .contains("at least one")
        );
        let many: Vec<Colleague> = (10..30).map(|id| Colleague { id, active: true }).collect();
        let ids: Vec<String> = (10..21).map(|i| i.to_string()).collect();
        assert!(parse_recipients(&ids, 1, &many).unwrap_err().contains("at most 10"));
    }

    #[test]
    fn texts_have_limits() {
        assert!(parse_message("  ").is_err());
        assert_eq!(parse_message(" thanks \r\n a lot ").unwrap(), "thanks \n a lot");
        assert!(parse_message(&"x".repeat(1001)).unwrap_err().contains("1001"));
        assert!(parse_value_name("").is_err());
        assert!(parse_value_name(&"v".repeat(41)).is_err());
        assert_eq!(parse_value_name(" Ownership ").unwrap(), "Ownership");
        assert!(parse_description(&"d".repeat(301)).is_err());
        for r in Reaction::ALL {
            assert_eq!(Reaction::parse(r.as_str()).unwrap(), r);
        }
        assert!(Reaction::parse("angry").is_err());
    }

    #[test]
    fn coverage_lists_who_was_not_thanked_in_sixty_days() {
        let day = 86_400;
        let now = 1_000 * day;
        let last = HashMap::from([(1, now - 10 * day), (2, now - 61 * day), (3, now - 60 * day)]);
        let out = not_thanked_lately(&[1, 2, 3, 4], &last, now);
        assert_eq!(out, vec![(4, None), (2, Some(now - 61 * day))]);
    }
}
