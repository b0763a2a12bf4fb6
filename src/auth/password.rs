//! Password hashing with argon2id. Hashing is slow on purpose, so it runs
//! on the blocking pool, never on a request thread.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password we accept.
pub const MIN_LENGTH: usize = 10;
const MAX_LENGTH: usize = 256;

/// A password that meets our rules; its `Debug` hides it.
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Password, String> {
        let n = raw.chars().count();
        if n < MIN_LENGTH {
            return Err(format!("must be at least {MIN_LENGTH} characters long"));
        }
        if n > MAX_LENGTH {
            return Err(format!("must be at most {MAX_LENGTH} characters long"));
        }
        Ok(Password(raw.to_owned()))
    }

    /// A random password of 16 letters and digits, for one-time use.
    pub fn generate() -> Password {
        use rand::Rng;
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut rng = rand::thread_rng();
        let s = (0..16)
            .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
            .collect();
        Password(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

/// Hashes a password (argon2id, random salt) on the blocking pool.
pub async fn hash(password: &Password) -> String {
    let plain = password.0.clone();
    tokio::task::spawn_blocking(move || hash_now(&plain))
        .await
        .expect("password hashing does not panic")
}

pub fn hash_now(plain: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(plain.as_bytes(), &salt)
        .expect("argon2 hashes any input with default parameters")
        .to_string()
}

/// Checks a password against a stored hash. With no hash (the person has
/// no password) a dummy hash is checked anyway, so the answer takes as long
/// for unknown accounts as for known ones.
pub async fn verify(plain: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        let ok = Argon2::default().verify_password(plain.as_bytes(), &parsed).is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}

// argon2id of a random string nobody knows, with the default parameters.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$J7Wd1v9gQY3tC3vI0j5qS0m8nGQWm1b0bqDgn2r8h0c";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_only_its_own_password() {
        let pw = Password::parse("correct horse battery").unwrap();
        let h = hash(&pw).await;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough!").is_ok());
        assert_eq!(Password::generate().expose().len(), 16);
        assert_eq!(format!("{:?}", Password::generate()), "Password(***)");
    }
}
