//! `belong backup DEST`: a consistent copy of the live database.

use std::process::ExitCode;

use super::DbArgs;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// The new file to write (it must not exist).
    dest: String,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    // A backup needs no key (and never copies it).
    let db = args.db.open_db().await?;
    match db.backup_to(&args.dest).await {
        Ok(()) => {
            let size = std::fs::metadata(&args.dest).map(|m| m.len()).unwrap_or(0);
            println!("backup written to {} ({size} bytes)", args.dest);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
