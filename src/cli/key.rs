//! The master key: where it comes from (`--key-file`, `BELONG_MASTER_KEY`),
//! the rules for a missing or wrong one, and `belong key status|reset`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::DbArgs;
use crate::db::Db;
use crate::privacy::seal::{self, Check, KeySource, MasterKey};

/// Where the master key is; every command that opens the database takes it.
#[derive(clap::Args, Debug, Clone)]
pub struct KeyArgs {
    /// The key file sealed answers and secrets hang from (created on first
    /// start, readable by the server's user only). Keep a copy apart from
    /// database backups: `belong backup` does not copy it.
    #[arg(long = "key-file", env = "BELONG_KEY_FILE", default_value = "belong.key")]
    pub key_file: PathBuf,
    /// The key itself instead of a file (for containers that pass secrets
    /// in the environment).
    #[arg(long = "master-key", env = "BELONG_MASTER_KEY", hide_env_values = true, hide = true)]
    pub master_key: Option<String>,
}

impl KeyArgs {
    pub fn source(&self) -> KeySource {
        KeySource {
            file: self.key_file.clone(),
            inline: self.master_key.clone(),
        }
    }
}

/// The master key for `db`, once answers stored before sealing existed are
/// moved to sealed storage with it (`pulse::sealed::upgrade`).
pub async fn unlock(db: &Db, args: &KeyArgs) -> anyhow::Result<MasterKey> {
    let key = key_for(db, args).await?;
    crate::pulse::sealed::upgrade(db, &key).await?;
    Ok(key)
}

/// The one given, if it is the database's; a new key file when there is
/// none and nothing sealed needs the old one. Refuses to go on (with what
/// to do) rather than seal with a key that cannot open what is there.
async fn key_for(db: &Db, args: &KeyArgs) -> anyhow::Result<MasterKey> {
    let source = args.source();
    let mut conn = db.acquire().await?;
    match source.load()? {
        Some(key) => match seal::check(&mut conn, &key).await? {
            Check::Matches => Ok(key),
            Check::Unset => {
                seal::record(&mut conn, &key).await?;
                Ok(key)
            }
            Check::Mismatch => anyhow::bail!(
                "{} does not hold the key this database was sealed with (it holds key {}). \
                 Put back the key file this database was used with, or point --key-file at it.",
                source.describe(),
                key.fingerprint()
            ),
        },
        None => {
            let waiting = crate::pulse::sealed::dependents(&mut conn).await?;
            if !waiting.is_empty() {
                let answers: i64 = waiting.iter().map(|(_, _, n)| n).sum();
                anyhow::bail!(
                    "{} is missing, and {} open survey cycle(s) hold {answers} answer(s) sealed with it. \
                     Restore the key file from where you keep it (or set BELONG_MASTER_KEY); \
                     `belong key status` lists the cycles. If the key is lost for good, \
                     `belong key reset --abandon-open-answers` discards those answers and lets people answer again.",
                    source.describe(),
                    waiting.len()
                );
            }
            let had = seal::is_recorded(&mut conn).await?;
            let key = source.create()?;
            seal::record(&mut conn, &key).await?;
            if had {
                tracing::warn!(
                    file = %source.file.display(),
                    "the key file was missing and nothing sealed needed it: a new one was made"
                );
            } else {
                tracing::info!(file = %source.file.display(), "a new key file was made; keep a copy apart from database backups");
            }
            Ok(key)
        }
    }
}

#[derive(clap::Subcommand, Debug)]
pub enum Task {
    /// Where the master key is, whether it matches the database, and which
    /// open cycles depend on it.
    Status {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Make a new key file when the old one is lost for good. Answers given
    /// so far in open cycles are discarded (they cannot be opened without
    /// the old key) and those people may answer again.
    Reset {
        #[command(flatten)]
        db: DbArgs,
        /// Say that the answers of open cycles may be discarded.
        #[arg(long)]
        abandon_open_answers: bool,
    },
}

pub async fn run(task: Task) -> anyhow::Result<ExitCode> {
    match task {
        Task::Status { db: args } => {
            let db = args.open_db().await?;
            let source = args.key.source();
            let mut conn = db.acquire().await?;
            let waiting = crate::pulse::sealed::dependents(&mut conn).await?;
            let jobs = crate::jobs::sealed_pending(&mut conn).await?;
            match source.load() {
                Ok(Some(key)) => {
                    let state = match seal::check(&mut conn, &key).await? {
                        Check::Matches => "matches this database",
                        Check::Unset => "not yet recorded in this database",
                        Check::Mismatch => "DOES NOT MATCH this database",
                    };
                    println!("key: {} (key {}), {state}", source.describe(), key.fingerprint());
                }
                Ok(None) => println!("key: {} is MISSING", source.describe()),
                Err(e) => println!("key: {e}"),
            }
            if waiting.is_empty() {
                println!("no open cycle depends on the key");
            } else {
                println!("open cycles whose answers are sealed with it:");
                for (org, cycle, n) in &waiting {
                    println!("  organization {org}, cycle {cycle}: {n} sealed answer(s)");
                }
            }
            println!("emails waiting to be sent, sealed with it: {jobs}");
            Ok(ExitCode::SUCCESS)
        }
        Task::Reset {
            db: args,
            abandon_open_answers,
        } => {
            let db = args.open_db().await?;
            let source = args.key.source();
            if source.inline.is_some() {
                anyhow::bail!("BELONG_MASTER_KEY is set: unset it, then reset to make a key file");
            }
            if source.load()?.is_some() {
                anyhow::bail!(
                    "{} exists: move it away first if it is really not this database's key",
                    source.describe()
                );
            }
            let mut tx = db.begin().await?;
            let waiting = crate::pulse::sealed::dependents(&mut tx).await?;
            if !waiting.is_empty() && !abandon_open_answers {
                anyhow::bail!(
                    "{} open cycle(s) hold sealed answers that a new key cannot open; \
                     add --abandon-open-answers to discard them",
                    waiting.len()
                );
            }
            let key = MasterKey::generate();
            for (org, cycle, _) in &waiting {
                crate::pulse::sealed::rekey(&mut tx, &key, *org, *cycle).await?;
            }
            let jobs = crate::jobs::abandon_sealed(&mut tx).await?;
            seal::record(&mut tx, &key).await?;
            // Written before the commit: if it cannot be, nothing changes.
            source.create_with(&key)?;
            tx.commit().await?;
            println!(
                "new key file {} (key {}); {} open cycle(s) restarted, {jobs} sealed email(s) dropped",
                source.file.display(),
                key.fingerprint(),
                waiting.len()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
