//! What sign-in and password checks are limited by (see `crate::limits`):
//! failed attempts per account and per client address, with a growing
//! delay once the free ones are used, and sign-in links per address.

use std::net::IpAddr;

use crate::limits::{Bucket, Throttle};

/// Failures free of any delay, per account and per client address.
pub const ACCOUNT_LIMIT: i64 = 5;
pub const IP_LIMIT: i64 = 30;

pub fn account(org_id: i64, email_key: &str) -> Throttle {
    Throttle {
        key: format!("account:{org_id}:{email_key}"),
        free: ACCOUNT_LIMIT,
    }
}

pub fn address(ip: IpAddr) -> Throttle {
    Throttle {
        key: format!("ip:{ip}"),
        free: IP_LIMIT,
    }
}

/// The current password, asked again to change it: per person.
pub fn current_password(org_id: i64, person_id: i64) -> Throttle {
    Throttle {
        key: format!("password:{org_id}:{person_id}"),
        free: ACCOUNT_LIMIT,
    }
}

/// Sign-in links asked for per address at once (then one per 5 minutes),
/// and per client address (then one a minute).
pub const LINK_ACCOUNT_LIMIT: i64 = 3;
pub const LINK_IP_LIMIT: i64 = 20;

pub fn link_buckets(org_slug: &str, email_key: &str, ip: IpAddr) -> [Bucket; 2] {
    [
        Bucket::new(format!("link:{org_slug}:{email_key}"), LINK_ACCOUNT_LIMIT, 5 * 60_000),
        Bucket::new(format!("link-ip:{ip}"), LINK_IP_LIMIT, 60_000),
    ]
}

/// "Try again in 4 seconds" / "in 3 minutes".
pub fn wait_words(seconds: i64) -> String {
    match seconds {
        ..=1 => "Try again in a second.".to_owned(),
        2..=90 => format!("Try again in {seconds} seconds."),
        _ => format!("Try again in {} minutes.", (seconds + 59) / 60),
    }
}
