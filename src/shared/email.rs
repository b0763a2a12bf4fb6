//! An email address, as every module reads one.

/// An email address as people write it; compared case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is required".into());
        }
        if s.len() > 254 {
            return Err("is longer than 254 characters".into());
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(format!("{s:?} is not an email address (no @)"));
        };
        let bad = local.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || s.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c));
        if bad {
            return Err(format!("{s:?} is not an email address"));
        }
        Ok(Email(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for uniqueness and look-ups.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any text at all is read or refused, never a panic; what is read
        /// is the trimmed text, reads again as itself, and has one @.
        #[test]
        fn any_text_is_read_or_refused(raw in any::<String>()) {
            if let Ok(e) = Email::parse(&raw) {
                prop_assert_eq!(e.as_str(), raw.trim());
                prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
                prop_assert_eq!(e.as_str().matches('@').count(), 1);
                prop_assert!(!e.as_str().chars().any(char::is_whitespace));
            }
        }

        /// Addresses as people write them, in any case and with spaces
        /// around, are read, and keyed in lower case.
        #[test]
        fn written_addresses_are_read_and_keyed(
            local in "[A-Za-z0-9][A-Za-z0-9._+-]{0,20}",
            domain in "[A-Za-z0-9-]{1,12}(\\.[A-Za-z]{2,6}){1,2}",
            pad in " {0,3}",
        ) {
            let raw = format!("{pad}{local}@{domain}{pad}");
            let e = Email::parse(&raw).unwrap();
            prop_assert_eq!(e.key(), format!("{local}@{domain}").to_lowercase());
        }

        /// Whatever lacks an @, or has a second one, is refused.
        #[test]
        fn without_exactly_one_at_it_is_refused(a in "[a-z.]{1,10}", b in "[a-z.]{1,10}") {
            let no_at = format!("{a}{b}");
            let two_ats = format!("{a}@{b}@x.org");
            prop_assert!(Email::parse(&no_at).is_err());
            prop_assert!(Email::parse(&two_ats).is_err());
        }
    }
}
