//! The feedback box's types and rules, without I/O: the sender's secret
//! code, a message's limits, a thread's status, and where a message goes.

/// A team of fewer people than this does not receive messages itself: they
/// go to the next level up (PRIVACY.md rule 16).
/// The longest message, in characters.
pub const MAX_BODY: usize = 4000;
pub const MAX_TOPIC: usize = 60;
pub const MAX_NOTE: usize = 1000;

/// Letters of a code: Crockford's base 32, with no I, L, O or U to misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 32 characters of 5 bits: 160 random bits.
const CODE_CHARS: usize = 32;

/// The secret a sender holds: the only key to their thread. The server
/// keeps its hash and never learns who holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct FeedbackCode(String);

impl FeedbackCode {
    pub fn generate() -> FeedbackCode {
        let bytes: [u8; 20] = rand::random();
        let mut bits: u64 = 0;
        let mut have = 0;
        let mut out = String::with_capacity(CODE_CHARS);
        for b in bytes {
            bits = (bits << 8) | u64::from(b);
            have += 8;
            while have >= 5 {
                have -= 5;
                out.push(ALPHABET[((bits >> have) & 31) as usize] as char);
            }
        }
        FeedbackCode(out)
    }

    /// Reads a code as people type or paste it: any case, with or without
    /// the dashes and spaces, and the letters people confuse with digits.
    pub fn parse(raw: &str) -> Result<FeedbackCode, String> {
        let mut out = String::with_capacity(CODE_CHARS);
        for c in raw.chars() {
            let c = match c.to_ascii_uppercase() {
                '-' | ' ' | '\t' | '\n' | '\r' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c => c,
            };
            if !ALPHABET.contains(&(c as u8)) || !c.is_ascii() {
                return Err("this is not a feedback code: it has letters a code never has".into());
            }
            out.push(c);
        }
        if out.len() != CODE_CHARS {
            return Err(format!(
                "a feedback code has {CODE_CHARS} letters and digits; this one has {}",
                out.len()
            ));
        }
        Ok(FeedbackCode(out))
    }

    /// Groups of four, for reading aloud or copying by hand.
    pub fn display(&self) -> String {
        let groups: Vec<&str> = (0..self.0.len())
            .step_by(4)
            .map(|i| &self.0[i..(i + 4).min(self.0.len())])
            .collect();
        groups.join("-")
    }

    /// What is stored instead of the code.
    pub fn hash(&self) -> String {
        crate::auth::hash_token(&self.0)
    }
}

impl std::fmt::Debug for FeedbackCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FeedbackCode(…)")
    }
}

/// A message's text: not blank, at most [`MAX_BODY`] characters.
pub fn parse_body(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("write a message".into());
    }
    let len = text.chars().count();
    if len > MAX_BODY {
        return Err(format!("at most {MAX_BODY} characters; this has {len}"));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// An optional short label ("tools", "workload").
pub fn parse_topic(raw: &str) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_TOPIC {
        return Err(format!("at most {MAX_TOPIC} characters"));
    }
    if text.chars().any(char::is_control) {
        return Err("one line, without control characters".into());
    }
    Ok(Some(text.to_owned()))
}

/// Where a thread stands, as its recipients set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    New,
    Acknowledged,
    InProgress,
    Resolved,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::New, Status::Acknowledged, Status::InProgress, Status::Resolved];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::New => "New",
            Status::Acknowledged => "Acknowledged",
            Status::InProgress => "In progress",
            Status::Resolved => "Resolved",
        }
    }

    pub fn parse(raw: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| "choose New, Acknowledged, In progress or Resolved".into())
    }
}

/// The team whose managers receive a message meant for `chosen`: the first
/// team, going up from it, with at least `min_team` people (counting its
/// sub-teams) and someone to read it; `None` means HR admins and owners.
pub fn route(
    chosen: Option<i64>,
    min_team: usize,
    parent: impl Fn(i64) -> Option<i64>,
    people_in_subtree: impl Fn(i64) -> usize,
    has_managers: impl Fn(i64) -> bool,
) -> Option<i64> {
    crate::shared::tree::up(chosen, parent).find(|&team| people_in_subtree(team) >= min_team && has_managers(team))
}

/// Whole days from one `YYYY-MM-DD` to another.
pub fn days_between(from: &str, to: &str) -> Option<i64> {
    let a: jiff::civil::Date = from.parse().ok()?;
    let b: jiff::civil::Date = to.parse().ok()?;
    Some(i64::from((b - a).get_days()))
}

/// The median of whole days, as a person would say it.
pub fn median(mut days: Vec<i64>) -> Option<f64> {
    if days.is_empty() {
        return None;
    }
    days.sort_unstable();
    let n = days.len();
    Some(if n % 2 == 1 {
        days[n / 2] as f64
    } else {
        (days[n / 2 - 1] + days[n / 2]) as f64 / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_carry_160_random_bits_and_read_back_however_typed() {
        let a = FeedbackCode::generate();
        let b = FeedbackCode::generate();
        assert_ne!(a, b);
        assert_eq!(a.0.len(), 32);
        let shown = a.display();
        assert_eq!(shown.len(), 32 + 7);
        assert_eq!(FeedbackCode::parse(&shown).unwrap(), a);
        assert_eq!(FeedbackCode::parse(&shown.to_lowercase().replace('-', " ")).unwrap(), a);
        assert_ne!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 64);
        assert!(!format!("{a:?}").contains(&a.0));
        // Every character position takes every letter over many codes:
        // nothing is fixed or biased away.
        let mut seen = vec![std::collections::HashSet::new(); 32];
        for _ in 0..2000 {
            for (i, c) in FeedbackCode::generate().0.chars().enumerate() {
                seen[i].insert(c);
            }
        }
        assert!(seen.iter().all(|s| s.len() == 32));
    }

    #[test]
    fn bad_codes_say_what_is_wrong() {
        assert!(FeedbackCode::parse("").unwrap_err().contains("has 0"));
        assert!(FeedbackCode::parse("ABCD").unwrap_err().contains("has 4"));
        assert!(FeedbackCode::parse(&"U".repeat(32)).is_err());
        assert!(FeedbackCode::parse(&"é".repeat(32)).is_err());
        // The letters people mix up with digits are read as the digits.
        assert_eq!(
            FeedbackCode::parse(&"O".repeat(32)).unwrap(),
            FeedbackCode::parse(&"0".repeat(32)).unwrap()
        );
    }

    #[test]
    fn bodies_and_topics_have_limits() {
        assert_eq!(parse_body("  hello \r\n there ").unwrap(), "hello \n there");
        assert!(parse_body("   ").is_err());
        assert!(parse_body(&"x".repeat(MAX_BODY)).is_ok());
        assert!(parse_body(&"x".repeat(MAX_BODY + 1)).unwrap_err().contains("4001"));
        assert_eq!(parse_topic(" ").unwrap(), None);
        assert_eq!(parse_topic(" tools ").unwrap().as_deref(), Some("tools"));
        assert!(parse_topic(&"x".repeat(61)).is_err());
        assert!(parse_topic("a\u{7}b").is_err());
    }

    #[test]
    fn small_teams_pass_messages_up() {
        // 1 (org top, 30 people) > 2 (12) > 3 (4 people); 4 has no manager.
        let parent = |t| match t {
            2 => Some(1),
            3 => Some(2),
            4 => Some(1),
            _ => None,
        };
        let size = |t| match t {
            1 => 30,
            2 => 12,
            3 => 4,
            4 => 9,
            _ => 0,
        };
        let managed = |t| t != 4;
        assert_eq!(route(Some(2), 5, parent, size, managed), Some(2));
        assert_eq!(
            route(Some(3), 5, parent, size, managed),
            Some(2),
            "4 people: one level up"
        );
        assert_eq!(
            route(Some(4), 5, parent, size, managed),
            Some(1),
            "nobody to read it: up"
        );
        assert_eq!(route(None, 5, parent, size, managed), None);
        assert_eq!(route(Some(3), 5, parent, |_| 4, managed), None, "all small: HR");
        assert_eq!(route(Some(5), 5, Some, |_| 0, managed), None, "a loop ends");
        assert_eq!(
            route(Some(2), 13, parent, size, managed),
            Some(1),
            "k 13: 12 people is small"
        );
    }

    #[test]
    fn statuses_and_days() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), s);
        }
        assert!(Status::parse("done").is_err());
        assert_eq!(days_between("2026-01-30", "2026-02-02"), Some(3));
        assert_eq!(median(vec![5, 1, 3]), Some(3.0));
        assert_eq!(median(vec![4, 1]), Some(2.5));
        assert_eq!(median(vec![]), None);
    }

    proptest::proptest! {
        /// A code reads back from its display, and from the ways people
        /// type it: lower case, without dashes, spaced, O for 0, I or L for 1.
        #[test]
        fn a_code_reads_back_however_it_is_typed(spaces in proptest::collection::vec(0..4usize, 8)) {
            let code = FeedbackCode::generate();
            let shown = code.display();
            proptest::prop_assert_eq!(FeedbackCode::parse(&shown), Ok(code.clone()));
            let sloppy: String = shown
                .replace('-', "")
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    let c = match c {
                        '0' => 'o',
                        '1' if i % 2 == 0 => 'l',
                        '1' => 'i',
                        c => c.to_ascii_lowercase(),
                    };
                    format!("{c}{}", " ".repeat(spaces[i % spaces.len()] % 2))
                })
                .collect();
            proptest::prop_assert_eq!(FeedbackCode::parse(&sloppy), Ok(code));
        }

        /// Any text is read or refused, never a panic; what is read has
        /// exactly the code's letters, from its alphabet.
        #[test]
        fn any_text_is_a_code_or_refused(raw in proptest::prelude::any::<String>()) {
            if let Ok(code) = FeedbackCode::parse(&raw) {
                let plain = code.display().replace('-', "");
                proptest::prop_assert_eq!(plain.len(), CODE_CHARS);
                proptest::prop_assert!(plain.bytes().all(|b| ALPHABET.contains(&b)));
            }
        }
    }
}
