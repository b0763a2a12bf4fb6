//! Who is asking, and what they may do: passwords, sessions, sign-in
//! throttling, roles and permissions, sign-in links and API tokens (the
//! pages are `account`).

pub mod magic;
pub mod password;
pub mod policy;
pub mod session;
mod store;
pub mod throttle;
pub mod tokens;

/// Signing in with a password: finding the account, and reading and
/// changing its password hash (the pages are `account`'s).
pub mod accounts {
    pub use super::store::{Account, find, no_org_yet, only_org_slug, password_hash, set_password_hash};
}

pub use policy::{Actor, Permission, Role};

use sha2::{Digest, Sha256};

/// A new random secret of 256 bits, URL-safe (hex).
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

/// SHA-256 of a secret token, as hex: what we store instead of the token.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Compares two secrets in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hash_differently() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(hash_token(&a), a);
        assert_eq!(hash_token(&a), hash_token(&a));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
