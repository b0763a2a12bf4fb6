//! Settings shared by every subcommand; secrets never appear in `Debug`.

use std::fmt;
use std::net::IpAddr;
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
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    /// Chat webhooks may post to loopback and private addresses (tests and
    /// a receiver on the same network); off by default.
    pub webhooks_to_private_addresses: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            cookie_secure: true,
            session_hours: 24 * 14,
            public_url: "http://127.0.0.1:8080".to_owned(),
            demo: false,
            api_per_minute: 600,
            trusted_proxies: TrustedProxies::default(),
            webhooks_to_private_addresses: false,
        }
    }
}

/// Addresses and networks (`10.0.0.1`, `10.0.0.0/8`, `::1`) of the reverse
/// proxies in front of the server. Only a request that arrives from one of
/// them has its client taken from `X-Forwarded-For`; anyone else could
/// write that header themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|(net, bits)| in_network(ip, *net, *bits))
    }

    /// The client of a request that came from `peer` with these
    /// `X-Forwarded-For` values: the right-most address not a trusted
    /// proxy, walking back from the peer; the peer itself when it is not
    /// trusted or the header says nothing usable.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = forwarded_for
            .iter()
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect();
        hops.iter()
            .rev()
            .copied()
            .find(|ip| !self.contains(*ip))
            .unwrap_or(peer)
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let to_v6 = |a: IpAddr| match a {
        IpAddr::V4(v4) => (v4.to_ipv6_mapped(), 96),
        // A v4-mapped address (::ffff:10.0.0.1) is the same number as
        // the v4 address mapped here.
        IpAddr::V6(v6) => (v6, 0),
    };
    let (ip, _) = to_v6(ip);
    let (net, offset) = to_v6(net);
    let bits = u32::from(bits) + offset;
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits.min(128))
    };
    (u128::from(ip) & mask) == (u128::from(net) & mask)
}

impl FromStr for TrustedProxies {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (addr, bits) = match part.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (part, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{part:?} is not an IP address or network (e.g. 10.0.0.1 or 10.0.0.0/8)"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{part:?}: the prefix length must be 0 to {max}"))?,
            };
            out.push((ip, bits));
        }
        Ok(TrustedProxies(out))
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

    #[test]
    fn the_client_comes_from_forwarded_for_only_behind_a_trusted_proxy() {
        let proxies: TrustedProxies = "10.0.0.0/8, ::1".parse().unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // Through the proxy: the address it saw.
        assert_eq!(proxies.client(ip("10.1.2.3"), &["203.0.113.9"]), ip("203.0.113.9"));
        // A client's own forged entry sits left of what the proxy added.
        assert_eq!(
            proxies.client(ip("10.1.2.3"), &["198.51.100.1, 203.0.113.9"]),
            ip("203.0.113.9")
        );
        // Two proxies in a row are walked past.
        assert_eq!(proxies.client(ip("::1"), &["203.0.113.9, 10.9.9.9"]), ip("203.0.113.9"));
        // Straight from the internet, the header means nothing.
        assert_eq!(proxies.client(ip("203.0.113.5"), &["10.0.0.1"]), ip("203.0.113.5"));
        // Garbage in the header: the proxy itself.
        assert_eq!(proxies.client(ip("10.1.2.3"), &["nonsense"]), ip("10.1.2.3"));
        assert!(TrustedProxies::default().client(ip("10.1.2.3"), &["1.2.3.4"]) == ip("10.1.2.3"));
        assert!(
            proxies.contains(ip("::ffff:10.0.0.7")),
            "v4-mapped addresses are the same address"
        );
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.local".parse::<TrustedProxies>().is_err());
    }
}
