//! Posting JSON to a chat webhook (Slack, Microsoft Teams) without letting
//! the server be used against its own network.
//!
//! An owner types the address, so it is checked like any address from
//! outside: `https` only, and it must resolve to public addresses — not
//! loopback, private ranges, link-local (cloud metadata at
//! 169.254.169.254), carrier-grade NAT, multicast or reserved space. The
//! name is resolved when the post is sent, the post goes to the address
//! that was checked (no second lookup to rebind), and redirects are never
//! followed. A receiver on your own network needs
//! `--webhooks-to-private-addresses`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// Why a webhook address is refused, in words for the owner.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("enter the full address, starting with https://")]
    NotAnAddress,
    #[error("the address must start with https:// (plain http only with --webhooks-to-private-addresses)")]
    NotHttps,
    #[error("enter an address of at most 500 characters")]
    TooLong,
    #[error("the address points into a private or local network; use the public address of your chat service")]
    PrivateAddress,
    #[error("the address's host name could not be resolved")]
    Unresolved,
}

/// Checks what an owner typed; the host is checked again, resolved, at
/// every post.
pub fn parse(raw: &str, allow_private: bool) -> Result<reqwest::Url, Refused> {
    let raw = raw.trim();
    if raw.len() > 500 {
        return Err(Refused::TooLong);
    }
    let url: reqwest::Url = raw.parse().map_err(|_| Refused::NotAnAddress)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(Refused::NotHttps),
        _ => return Err(Refused::NotAnAddress),
    }
    let host = url.host_str().ok_or(Refused::NotAnAddress)?;
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>()
        && !allow_private
        && !is_public(ip)
    {
        return Err(Refused::PrivateAddress);
    }
    Ok(url)
}

/// Posts `body` as JSON to the webhook; `Err` says why it did not arrive.
pub async fn post(raw_url: &str, body: &serde_json::Value, allow_private: bool) -> Result<(), String> {
    let url = parse(raw_url, allow_private).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("no host")?.trim_matches(['[', ']']).to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| Refused::Unresolved.to_string())?
        .collect();
    // Every address the name has must be public: a name with one public
    // and one private address would otherwise be a coin toss.
    if addresses.is_empty() {
        return Err(Refused::Unresolved.to_string());
    }
    if !allow_private && addresses.iter().any(|a| !is_public(a.ip())) {
        return Err(Refused::PrivateAddress.to_string());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .resolve_to_addrs(&host, &addresses)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let res = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("webhook unreachable: {}", e.without_url()))?;
    if res.status().is_success() {
        Ok(())
    } else {
        // A redirect is not followed: it could point anywhere.
        Err(format!("webhook answered {}", res.status()))
    }
}

/// True for addresses on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b) // NAT64, a v4 address inside
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_metadata_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn owners_addresses_are_checked_before_they_are_kept() {
        assert!(parse("https://hooks.slack.com/services/T0/B0/x", false).is_ok());
        assert_eq!(parse("http://hooks.slack.com/x", false), Err(Refused::NotHttps));
        assert_eq!(parse("https://127.0.0.1/x", false), Err(Refused::PrivateAddress));
        assert_eq!(
            parse("https://169.254.169.254/latest", false),
            Err(Refused::PrivateAddress)
        );
        assert_eq!(parse("https://[::1]/x", false), Err(Refused::PrivateAddress));
        assert_eq!(
            parse("https://[::ffff:10.0.0.1]/x", false),
            Err(Refused::PrivateAddress)
        );
        assert_eq!(parse("ftp://files.example/x", false), Err(Refused::NotAnAddress));
        assert_eq!(parse("not a url", false), Err(Refused::NotAnAddress));
        assert_eq!(
            parse(&format!("https://x.example/{}", "a".repeat(500)), false),
            Err(Refused::TooLong)
        );
        // With the setting, a receiver on the local network is fine.
        assert!(parse("http://127.0.0.1:9000/hook", true).is_ok());
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_at_send_time() {
        let refused = post("https://localhost:9/hook", &serde_json::json!({"text": "hi"}), false)
            .await
            .unwrap_err();
        assert!(refused.contains("private or local network"), "{refused}");
    }
}
