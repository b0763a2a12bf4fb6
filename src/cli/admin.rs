//! `belong admin …`: organizations and sign-in recovery from the shell.

use std::process::ExitCode;

use super::DbArgs;
use crate::auth::Actor;
use crate::org::model::{Email, OrgName, PersonName, TimeZoneName};
use crate::org::service;

#[derive(clap::Subcommand, Debug)]
pub enum Task {
    /// Create an organization and its first owner; prints the slug and a
    /// one-time password.
    CreateOrg {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        #[arg(long)]
        owner_email: String,
        /// Defaults to the part of the email before the @.
        #[arg(long)]
        owner_name: Option<String>,
        /// The organization's IANA time zone.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
    /// Print a new API token acting as a person.
    Token {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        email: String,
        /// Needed when the email belongs to people of several organizations.
        #[arg(long)]
        org: Option<String>,
        /// What the token is for.
        #[arg(long, default_value = "command line")]
        name: String,
    },
    /// Give a person a new one-time password (for a lost password).
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
}

fn arg<T>(name: &str, r: Result<T, String>) -> anyhow::Result<T> {
    r.map_err(|e| anyhow::anyhow!("--{name}: {e}"))
}

pub async fn run(task: Task) -> anyhow::Result<ExitCode> {
    match task {
        Task::CreateOrg {
            db,
            name,
            owner_email,
            owner_name,
            time_zone,
        } => {
            let name = arg("name", OrgName::parse(&name))?;
            let email = arg("owner-email", Email::parse(&owner_email))?;
            let owner_name =
                owner_name.unwrap_or_else(|| email.as_str().split('@').next().unwrap_or("Owner").to_owned());
            let owner_name = arg("owner-name", PersonName::parse(&owner_name))?;
            let tz = arg("time-zone", TimeZoneName::parse(&time_zone))?;
            let app = db.open_or_create().await?;
            let made = service::create_org(&app, &name, &owner_name, &email, &tz)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("organization: {}", made.org.name);
            println!("slug: {}", made.org.slug);
            println!("owner: {}", email.as_str());
            println!("one-time password: {}", made.owner_password.expose());
            println!(
                "Sign in at /signin with the slug, the email and this password; you will choose your own password next."
            );
            Ok(ExitCode::SUCCESS)
        }
        Task::Token { db, email, org, name } => {
            let email = arg("email", Email::parse(&email))?;
            let name = arg("name", crate::auth::tokens::parse_name(&name))?;
            let app = db.open().await?;
            let found = service::active_by_email(&app.db, &email.key(), org.as_deref()).await?;
            let (org_id, person_id) = match found.as_slice() {
                [(org_id, person_id, _)] => (*org_id, *person_id),
                [] => anyhow::bail!(
                    "--email: no active person with this email{}",
                    org.map(|o| format!(" in {o}")).unwrap_or_default()
                ),
                many => {
                    let slugs: Vec<&str> = many.iter().map(|(_, _, slug)| slug.as_str()).collect();
                    anyhow::bail!(
                        "--org: this email is in several organizations ({}); name one",
                        slugs.join(", ")
                    )
                }
            };
            let token = crate::auth::tokens::create(&app.db, org_id, person_id, &name, app.now()).await?;
            println!("{token}");
            Ok(ExitCode::SUCCESS)
        }
        Task::ResetPassword { db, org, email } => {
            let email = arg("email", Email::parse(&email))?;
            let app = db.open().await?;
            let org = service::org_by_slug(&app.db, &org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("--org: no organization with the slug {org:?}"))?;
            let mut conn = app.db.acquire().await?;
            let id = service::person_id_by_email(&mut conn, org.id, &email.key())
                .await?
                .ok_or_else(|| anyhow::anyhow!("--email: nobody with this email in {}", org.slug))?;
            drop(conn);
            let pw = service::issue_one_time_password(&app, &Actor::system(org.id), id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("one-time password: {}", pw.expose());
            Ok(ExitCode::SUCCESS)
        }
    }
}
