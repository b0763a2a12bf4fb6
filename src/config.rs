//! Settings shared by every subcommand; secrets never appear in `Debug`.

use std::fmt;
use std::str::FromStr;

/// Which SQL engine a database URL points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database URL. Its `Debug` and `Display` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    pub const DEFAULT: &'static str = "sqlite://belong.db";

    pub fn backend(&self) -> Backend {
        if self.0.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// The full URL, password included: only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return self.0.clone();
        };
        let (authority, tail) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                let user = userinfo.split(':').next().unwrap_or("");
                if userinfo.contains(':') {
                    format!("{scheme}://{user}:***@{host}{tail}")
                } else {
                    format!("{scheme}://{user}@{host}{tail}")
                }
            }
            None => self.0.clone(),
        }
    }

    /// For SQLite, the file the URL names (None for in-memory databases).
    pub fn sqlite_path(&self) -> Option<&str> {
        let rest = self.0.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or("");
        (!path.is_empty() && path != ":memory:").then_some(path)
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(DatabaseUrl(s.to_owned()))
        } else {
            Err("the database URL must start with sqlite:// or postgres://".to_owned())
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Settings of the web server.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Mark cookies `Secure`. Browsers accept secure cookies from
    /// http://localhost, so only a plain-HTTP deployment on another host
    /// needs to turn this off.
    pub cookie_secure: bool,
    /// How long a sign-in lasts.
    pub session_hours: i64,
    /// The address people reach the server at, for links in emails.
    pub public_url: String,
    /// Demo mode: with email off, sign-in links are printed on the console.
    pub demo: bool,
    /// Requests an API token may make per minute (with bursts of half that).
    pub api_per_minute: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cookie_secure: true,
            session_hours: 24 * 14,
            public_url: "http://127.0.0.1:8080".to_owned(),
            demo: false,
            api_per_minute: 600,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let url: DatabaseUrl = "postgres://belong:s3cret@db.local:5432/belong".parse().unwrap();
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("belong:***@db.local:5432/belong"), "{shown}");
    }

    #[test]
    fn backend_follows_the_scheme() {
        let sqlite: DatabaseUrl = "sqlite://belong.db".parse().unwrap();
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(sqlite.sqlite_path(), Some("belong.db"));
        let pg: DatabaseUrl = "postgresql://localhost/x".parse().unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }
}
