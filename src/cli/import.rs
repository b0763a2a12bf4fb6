//! `belong import people FILE.csv --org SLUG [--dry-run]`.

use std::process::ExitCode;

use super::DbArgs;
use crate::auth::Actor;
use crate::org::import::{self, Mode};

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// People from an HRIS export (columns: name, email, team,
    /// manager_email, role, start_date, time_zone).
    People(PeopleArgs),
}

#[derive(clap::Args, Debug)]
pub struct PeopleArgs {
    #[command(flatten)]
    db: DbArgs,
    /// The CSV file.
    file: std::path::PathBuf,
    /// The organization's slug.
    #[arg(long)]
    org: String,
    /// Show what would change, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import the valid rows even if some rows are rejected.
    #[arg(long)]
    valid_rows_only: bool,
}

pub async fn run(what: What) -> anyhow::Result<ExitCode> {
    let What::People(args) = what;
    let bytes = std::fs::read(&args.file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", args.file.display()))?;
    let app = args.db.open().await?;
    let org = crate::org::service::org_by_slug(&app.db, &args.org)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no organization with the slug {:?}", args.org))?;
    let mode = if args.valid_rows_only {
        Mode::ValidRowsOnly
    } else {
        Mode::AllOrNothing
    };
    let (plan, applied) = import::run(&app, &Actor::system(org.id), &bytes, mode, args.dry_run, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    for c in &plan.creates {
        println!("line {}: add {} <{}>", c.line, c.name, c.email);
    }
    for u in &plan.updates {
        println!("line {}: update {}: {}", u.line, u.name, u.changes.join("; "));
    }
    for e in &plan.rejected {
        let column = if e.column.is_empty() {
            String::new()
        } else {
            format!(" column {}", e.column)
        };
        println!("line {}:{column}: rejected: {}", e.line, e.reason);
    }
    if !plan.unknown_columns.is_empty() {
        println!("columns not read: {}", plan.unknown_columns.join(", "));
    }
    for t in &plan.new_teams {
        println!("new team: {t}");
    }
    let verb = if applied { "done" } else { "would be" };
    println!(
        "{} to add, {} to update, {} unchanged, {} rows rejected ({verb})",
        plan.creates.len(),
        plan.updates.len(),
        plan.unchanged,
        plan.rejected_lines()
    );
    if !applied && !args.dry_run && !plan.rejected.is_empty() && plan.has_changes() {
        eprintln!("nothing was imported because rows are rejected; fix them, or pass --valid-rows-only");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
