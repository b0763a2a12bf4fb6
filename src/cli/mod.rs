//! The command line: one file per subcommand.

mod admin;
mod backup;
mod bench;
mod bench_guard;
mod bench_insights;
mod bench_kit;
mod bench_load;
mod bench_store;
mod import;
pub mod key;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::App;
use crate::config::{DatabaseUrl, Settings};
use crate::db::Db;

#[derive(Parser)]
#[command(
    name = "belong",
    version,
    about = "Measure and grow belonging at work, without exposing anyone."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve(serve::Args),
    /// Import data from files.
    #[command(subcommand)]
    Import(import::What),
    /// Write a consistent copy of the live database to a new file.
    Backup(backup::Args),
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(admin::Task),
    /// Benchmarks that print their figures.
    #[command(subcommand)]
    Bench(bench::Bench),
    /// The master key: its status, or a new one when it is lost.
    #[command(subcommand)]
    Key(key::Task),
}

/// The database and key options every subcommand takes.
#[derive(clap::Args, Debug)]
pub struct DbArgs {
    /// sqlite://FILE or postgres://USER:PASSWORD@HOST/DB
    #[arg(long = "database", env = "BELONG_DATABASE_URL", default_value = DatabaseUrl::DEFAULT)]
    pub url: DatabaseUrl,
    #[command(flatten)]
    pub key: key::KeyArgs,
}

impl DbArgs {
    /// The database alone (commands that need no key: `key`, `backup`),
    /// which must exist already.
    pub async fn open_db(&self) -> anyhow::Result<Db> {
        Db::connect_existing(&self.url)
            .await
            .map_err(|e| anyhow::anyhow!("--database: cannot open {}: {e}", self.url))
    }

    /// Opens a database that exists already; a path that names nothing is
    /// refused rather than created empty.
    pub async fn open(&self) -> anyhow::Result<App> {
        let db = self.open_db().await?;
        self.with_key(db).await
    }

    /// Opens the database, creating it if missing (`serve`, `admin
    /// create-org`: the two ways a new installation starts).
    pub async fn open_or_create(&self) -> anyhow::Result<App> {
        let db = Db::connect(&self.url)
            .await
            .map_err(|e| anyhow::anyhow!("--database: cannot open {}: {e}", self.url))?;
        self.with_key(db).await
    }

    async fn with_key(&self, db: Db) -> anyhow::Result<App> {
        let master = key::unlock(&db, &self.key).await?;
        Ok(crate::modules::app(db, Settings::default(), master))
    }
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Import(what) => import::run(what).await,
        Command::Backup(args) => backup::run(args).await,
        Command::Admin(task) => admin::run(task).await,
        Command::Bench(b) => bench::run(b).await,
        Command::Key(task) => key::run(task).await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
