//! Password hashing with argon2id. Hashing is slow on purpose and takes
//! 19 MiB, so it runs on a few threads of its own (one per core), each
//! reusing its memory, never on a request thread.

use argon2::Argon2;

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

/// Hashes a password (argon2id, random salt) on the hashing threads,
/// waiting for a free one.
pub async fn hash(password: &Password) -> String {
    let plain = password.0.clone();
    hashers()
        .run(Wait::Queue, move |memory| hash_with(memory, &plain))
        .await
        .expect("the hashing threads run while the process does")
}

/// Hashes on the calling thread, with memory of its own (the command line,
/// the demo seed, tests).
pub fn hash_now(plain: &str) -> String {
    hash_with(&mut new_memory(), plain)
}

/// Checks a password against a stored hash. With no hash (the person has
/// no password) a dummy hash is checked anyway, so the answer takes as long
/// for unknown accounts as for known ones.
///
/// `Err(Busy)` when every hashing thread is taken and the queue is full:
/// the caller answers 429 rather than keep another 19 MiB waiting.
pub async fn verify(plain: String, stored: Option<String>) -> Result<bool, Busy> {
    hashers()
        .run(Wait::IfRoom, move |memory| {
            let known = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
            verify_with(memory, &plain, &stored) && known
        })
        .await
}

/// Every hashing thread is busy and the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sign-ins at once; try again in a few seconds")]
pub struct Busy;

// --- the hashing threads ---------------------------------------------------
//
// argon2id with the default parameters works in 19 MiB. Run on tokio's
// blocking pool (up to 512 threads), a burst of sign-ins took that much per
// attempt at once, and the allocator kept it afterwards: 64 wrong passwords
// left the server at 1.2 GB. Instead, one thread per core hashes, each in
// memory it allocated once and reuses; a few requests may wait their turn,
// and beyond that sign-ins are refused for a moment (429).

/// Requests that may wait for a hashing thread, beyond those being hashed.
const QUEUE: usize = 32;
/// The most memory a stored hash may ask for (64 MiB); ours use 19 MiB.
const MAX_M_COST: u32 = 64 * 1024;

#[derive(Clone, Copy)]
enum Wait {
    Queue,
    IfRoom,
}

type Work = Box<dyn FnOnce(&mut Vec<argon2::Block>) + Send>;

struct Hashers {
    jobs: std::sync::mpsc::Sender<Work>,
    room: std::sync::Arc<tokio::sync::Semaphore>,
}

fn hashers() -> &'static Hashers {
    static HASHERS: std::sync::OnceLock<Hashers> = std::sync::OnceLock::new();
    HASHERS.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let (jobs, queue) = std::sync::mpsc::channel::<Work>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    let mut memory = new_memory();
                    loop {
                        let next = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match next {
                            Ok(work) => work(&mut memory),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a hashing thread starts");
        }
        Hashers {
            jobs,
            room: std::sync::Arc::new(tokio::sync::Semaphore::new(threads + QUEUE)),
        }
    })
}

impl Hashers {
    async fn run<T: Send + 'static>(
        &self,
        wait: Wait,
        f: impl FnOnce(&mut Vec<argon2::Block>) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let permit = match wait {
            Wait::Queue => self.room.clone().acquire_owned().await.map_err(|_| Busy)?,
            Wait::IfRoom => self.room.clone().try_acquire_owned().map_err(|_| Busy)?,
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let work: Work = Box::new(move |memory| {
            let _ = reply.send(f(memory));
            drop(permit);
        });
        self.jobs.send(work).map_err(|_| Busy)?;
        answer.await.map_err(|_| Busy)
    }
}

fn new_memory() -> Vec<argon2::Block> {
    vec![argon2::Block::default(); argon2::Params::DEFAULT_M_COST as usize]
}

fn hash_with(memory: &mut [argon2::Block], plain: &str) -> String {
    use argon2::password_hash::{Output, SaltString};
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).expect("a generated salt decodes");
    let params = argon2::Params::DEFAULT;
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    argon2_of(&params)
        .hash_password_into_with_memory(plain.as_bytes(), salt_bytes, &mut out, &mut memory[..])
        .expect("argon2 hashes any input with default parameters");
    let out = Output::new(&out).expect("32 bytes is a valid output");
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        out
    )
}

fn verify_with(memory: &mut Vec<argon2::Block>, plain: &str, stored: &str) -> bool {
    use argon2::password_hash::{Output, PasswordHash};
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    if parsed.algorithm != argon2::ARGON2ID_IDENT {
        return false;
    }
    let (Ok(params), Some(salt), Some(expected)) = (argon2::Params::try_from(&parsed), parsed.salt, parsed.hash) else {
        return false;
    };
    if params.m_cost() > MAX_M_COST {
        return false;
    }
    if memory.len() < params.block_count() {
        memory.resize(params.block_count(), argon2::Block::default());
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hashed =
        argon2_of(&params).hash_password_into_with_memory(plain.as_bytes(), salt_bytes, &mut out, &mut memory[..]);
    if memory.len() > argon2::Params::DEFAULT_M_COST as usize {
        // Keep no more than the default between calls.
        memory.truncate(argon2::Params::DEFAULT_M_COST as usize);
        memory.shrink_to_fit();
    }
    hashed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
}

fn argon2_of(params: &argon2::Params) -> Argon2<'static> {
    Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params.clone())
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
        assert!(verify("correct horse battery".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("wrong horse battery".into(), Some(h.clone())).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(
            !verify("correct horse battery".into(), Some("$argon2id$v=19$nonsense".into()))
                .await
                .unwrap()
        );
        // Hashes made by the argon2 crate's own encoder verify too (older
        // stored passwords), and ours verify with it.
        use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse battery".into(), Some(theirs)).await.unwrap());
        let ours = PasswordHash::new(&h).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &ours)
                .is_ok()
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough!").is_ok());
        assert_eq!(Password::generate().expose().len(), 16);
        assert_eq!(format!("{:?}", Password::generate()), "Password(***)");
    }
}
