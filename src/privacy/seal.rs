//! Sealing: authenticated encryption (XChaCha20-Poly1305) under keys that
//! never sit in the database in clear (PRIVACY.md rules 1, 4 and 22).
//!
//! - The **master key** lives in a key file outside the database (or in the
//!   environment, for containers). `belong backup` never copies it.
//! - A **data key** is made for each open survey cycle and stored only
//!   wrapped (sealed) by the master key. Destroying the wrapped copy when
//!   the cycle closes makes every sealed answer of that cycle unreadable,
//!   wherever old copies of it linger (WAL frames, free pages, backups).
//!
//! Every sealed value names its purpose as associated data, so a value
//! sealed for one place (a cycle's answers, a job's payload) cannot be
//! passed off as another.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

const NONCE: usize = 24;
/// Bytes a sealed value adds to its plain text: the nonce and the tag.
pub const OVERHEAD: usize = NONCE + 16;

/// 256 bits, used only through [`seal`] and [`open`].
#[derive(Clone)]
struct Secret([u8; 32]);

impl Secret {
    fn random() -> Secret {
        Secret(rand::random())
    }

    fn seal(&self, purpose: &[u8], plain: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce: [u8; NONCE] = rand::random();
        let sealed = cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: purpose,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any length a server handles");
        let mut out = Vec::with_capacity(NONCE + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    fn open(&self, purpose: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < OVERHEAD {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE);
        let nonce: [u8; NONCE] = nonce.try_into().ok()?;
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: purpose,
                },
            )
            .ok()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Leave no copy of the key in freed memory longer than needed.
        self.0 = [0; 32];
        std::hint::black_box(&self.0);
    }
}

/// The key every other key and sealed value hangs from.
#[derive(Clone)]
pub struct MasterKey(Secret);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.fingerprint())
    }
}

const FILE_PREFIX: &str = "belong-master-key-v1:";

impl MasterKey {
    pub fn generate() -> MasterKey {
        MasterKey(Secret::random())
    }

    /// Seals `plain` for `purpose` (e.g. `b"job payload"`).
    pub fn seal(&self, purpose: &[u8], plain: &[u8]) -> Vec<u8> {
        self.0.seal(purpose, plain)
    }

    /// The plain text, or None when `sealed` was not made by this key for
    /// this purpose.
    pub fn open(&self, purpose: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        self.0.open(purpose, sealed)
    }

    /// A short, public name of the key (it reveals nothing of it), to tell
    /// two keys apart in `belong key status`.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::new()
            .chain_update(b"belong key fingerprint\0")
            .chain_update(self.0.0)
            .finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The text of a key file, or of `BELONG_MASTER_KEY`.
    pub fn to_text(&self) -> String {
        let hex: String = self.0.0.iter().map(|b| format!("{b:02x}")).collect();
        format!("{FILE_PREFIX}{hex}")
    }

    /// Reads the text [`to_text`](Self::to_text) writes (surrounding white
    /// space allowed; the prefix may be left out).
    pub fn from_text(text: &str) -> Result<MasterKey, KeyError> {
        let text = text.trim();
        let hex = text.strip_prefix(FILE_PREFIX).unwrap_or(text);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(KeyError::Malformed);
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| KeyError::Malformed)?;
        }
        Ok(MasterKey(Secret(key)))
    }

    /// A new data key, and its wrapped form to store, bound to `purpose`.
    pub fn new_data_key(&self, purpose: &[u8]) -> (DataKey, Vec<u8>) {
        let key = Secret::random();
        let wrapped = self.seal(&wrap_purpose(purpose), &key.0);
        (DataKey(key), wrapped)
    }

    /// Unwraps a stored data key made by [`new_data_key`](Self::new_data_key)
    /// for the same purpose.
    pub fn unwrap_data_key(&self, purpose: &[u8], wrapped: &[u8]) -> Option<DataKey> {
        let plain = self.open(&wrap_purpose(purpose), wrapped)?;
        let bytes: [u8; 32] = plain.as_slice().try_into().ok()?;
        Some(DataKey(Secret(bytes)))
    }
}

fn wrap_purpose(purpose: &[u8]) -> Vec<u8> {
    let mut p = b"data key\0".to_vec();
    p.extend_from_slice(purpose);
    p
}

/// A key of one sealed collection (a cycle's answers), held in memory only
/// while in use.
#[derive(Clone)]
pub struct DataKey(Secret);

impl DataKey {
    pub fn seal(&self, purpose: &[u8], plain: &[u8]) -> Vec<u8> {
        self.0.seal(purpose, plain)
    }

    pub fn open(&self, purpose: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        self.0.open(purpose, sealed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key is not a belong master key (expected 64 hexadecimal digits after \"{FILE_PREFIX}\")")]
    Malformed,
    #[error(
        "the key file {0} can be read by other users of this machine; make it readable by the server's user only (chmod 600 {0})"
    )]
    TooOpen(String),
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot create the key file {path}: {source}")]
    Create {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Where the master key comes from: the environment first, then the file.
#[derive(Clone, Debug)]
pub struct KeySource {
    pub file: PathBuf,
    /// The key itself (`BELONG_MASTER_KEY`), for containers that pass
    /// secrets in the environment.
    pub inline: Option<String>,
}

impl KeySource {
    /// Where the key is, in words.
    pub fn describe(&self) -> String {
        if self.inline.is_some() {
            "the BELONG_MASTER_KEY environment variable".to_owned()
        } else {
            format!("the key file {}", self.file.display())
        }
    }

    /// The key, or None when there is no key file (and none inline).
    pub fn load(&self) -> Result<Option<MasterKey>, KeyError> {
        if let Some(text) = &self.inline {
            return MasterKey::from_text(text).map(Some);
        }
        let path = self.file.display().to_string();
        let text = match std::fs::read_to_string(&self.file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(KeyError::Read { path, source }),
        };
        if too_open(&self.file) {
            return Err(KeyError::TooOpen(path));
        }
        MasterKey::from_text(&text).map(Some)
    }

    /// Makes a new key file, readable by this user only. Never replaces
    /// one that exists.
    pub fn create(&self) -> Result<MasterKey, KeyError> {
        let key = MasterKey::generate();
        self.create_with(&key)?;
        Ok(key)
    }

    /// Writes `key` to a new key file, readable by this user only.
    pub fn create_with(&self, key: &MasterKey) -> Result<(), KeyError> {
        let path = self.file.display().to_string();
        write_new(&self.file, &format!("{}\n", key.to_text())).map_err(|source| KeyError::Create { path, source })
    }
}

const CHECK_PURPOSE: &[u8] = b"belong key check";

/// Whether a key is the one a database was sealed with.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Matches,
    /// Made with another key.
    Mismatch,
    /// The database has no key on record yet.
    Unset,
}

/// Compares `key` with the check value the database keeps.
pub async fn check(conn: &mut sqlx::AnyConnection, key: &MasterKey) -> Result<Check, sqlx::Error> {
    Ok(match super::store::check_value(conn).await? {
        None => Check::Unset,
        Some(sealed) => {
            if key.open(CHECK_PURPOSE, &sealed).is_some() {
                Check::Matches
            } else {
                Check::Mismatch
            }
        }
    })
}

/// True when the database has a key on record.
pub async fn is_recorded(conn: &mut sqlx::AnyConnection) -> Result<bool, sqlx::Error> {
    Ok(super::store::check_value(conn).await?.is_some())
}

/// Records `key` as the database's key (replacing any other).
pub async fn record(conn: &mut sqlx::AnyConnection, key: &MasterKey) -> Result<(), sqlx::Error> {
    super::store::set_check_value(conn, &key.seal(CHECK_PURPOSE, b"ok")).await
}

#[cfg(unix)]
fn too_open(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
}

#[cfg(not(unix))]
fn too_open(_: &Path) -> bool {
    false
}

fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let key = MasterKey::generate();
        let sealed = key.seal(b"a", b"hello");
        assert_eq!(sealed.len(), 5 + OVERHEAD);
        assert_eq!(key.open(b"a", &sealed).as_deref(), Some(&b"hello"[..]));
        assert_eq!(key.open(b"b", &sealed), None);
        assert_eq!(MasterKey::generate().open(b"a", &sealed), None);
        let mut tampered = sealed.clone();
        tampered[30] ^= 1;
        assert_eq!(key.open(b"a", &tampered), None);
        // The same plain text never seals to the same bytes.
        assert_ne!(key.seal(b"a", b"hello"), sealed);
    }

    #[test]
    fn data_keys_unwrap_only_for_their_purpose() {
        let master = MasterKey::generate();
        let (key, wrapped) = master.new_data_key(b"cycle 7");
        let sealed = key.seal(b"x", b"answer");
        let again = master.unwrap_data_key(b"cycle 7", &wrapped).unwrap();
        assert_eq!(again.open(b"x", &sealed).as_deref(), Some(&b"answer"[..]));
        assert!(master.unwrap_data_key(b"cycle 8", &wrapped).is_none());
        assert!(MasterKey::generate().unwrap_data_key(b"cycle 7", &wrapped).is_none());
    }

    #[test]
    fn key_text_round_trips_and_malformed_text_is_refused() {
        let key = MasterKey::generate();
        let back = MasterKey::from_text(&format!("  {}\n", key.to_text())).unwrap();
        assert_eq!(back.fingerprint(), key.fingerprint());
        assert!(matches!(
            MasterKey::from_text("belong-master-key-v1:abc"),
            Err(KeyError::Malformed)
        ));
        assert!(matches!(
            MasterKey::from_text(&"zz".repeat(32)),
            Err(KeyError::Malformed)
        ));
    }

    #[test]
    fn a_key_file_is_created_private_and_never_replaced() {
        let dir = std::env::temp_dir().join(format!("belong-key-{:x}", rand::random::<u64>()));
        let source = KeySource {
            file: dir.join("belong.key"),
            inline: None,
        };
        assert!(source.load().unwrap().is_none());
        let made = source.create().unwrap();
        assert_eq!(source.load().unwrap().unwrap().fingerprint(), made.fingerprint());
        assert!(matches!(source.create(), Err(KeyError::Create { .. })));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&source.file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&source.file, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert!(matches!(source.load(), Err(KeyError::TooOpen(_))));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
