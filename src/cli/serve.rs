//! `belong serve`: the web server, with graceful shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

use super::DbArgs;
use crate::app::{App, AppState};
use crate::config::Settings;
use crate::notify::email::{Mailer, Security, SmtpSettings};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    db: DbArgs,
    /// Address and port to listen on.
    #[arg(long, env = "BELONG_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed the demo organization if the database is empty, and print how
    /// to sign in.
    #[arg(long)]
    demo: bool,
    /// Send cookies only over HTTPS. Browsers treat http://localhost as
    /// secure; turn this off only for plain HTTP on another host.
    #[arg(long, env = "BELONG_COOKIE_SECURE", default_value_t = true, action = clap::ArgAction::Set)]
    cookie_secure: bool,
    /// The address people reach this server at, used in links in emails
    /// (default: http:// and the listen address).
    #[arg(long, env = "BELONG_PUBLIC_URL")]
    public_url: Option<String>,
    /// SMTP server for email; without it, email is off.
    #[arg(long, env = "BELONG_SMTP_HOST")]
    smtp_host: Option<String>,
    #[arg(long, env = "BELONG_SMTP_PORT", default_value_t = 587)]
    smtp_port: u16,
    /// starttls, tls or none.
    #[arg(long, env = "BELONG_SMTP_SECURITY", default_value = "starttls")]
    smtp_security: Security,
    #[arg(long, env = "BELONG_SMTP_USERNAME")]
    smtp_username: Option<String>,
    #[arg(long, env = "BELONG_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// Sender, e.g. "belong <belong@example.org>".
    #[arg(long, env = "BELONG_SMTP_FROM", default_value = "belong <belong@localhost>")]
    smtp_from: String,
    /// Requests one API token may make per minute.
    #[arg(long, env = "BELONG_API_RATE", default_value_t = 600)]
    api_requests_per_minute: u32,
    /// Reverse proxies in front of the server (addresses or networks,
    /// comma-separated, e.g. 10.0.0.1,10.1.0.0/16): only requests from them
    /// have their client address taken from X-Forwarded-For.
    #[arg(long, env = "BELONG_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: crate::config::TrustedProxies,
    /// Let chat webhooks post to loopback and private network addresses
    /// (a receiver on your own network). Off: only https to public addresses.
    #[arg(long, env = "BELONG_WEBHOOKS_TO_PRIVATE_ADDRESSES")]
    webhooks_to_private_addresses: bool,
    /// Log format: text or json.
    #[arg(long, env = "BELONG_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let filter = log_filter(EnvFilter::try_from_env("BELONG_LOG").unwrap_or_else(|_| EnvFilter::new("info")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    if args.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }

    let mailer = match &args.smtp_host {
        Some(host) => Mailer::new(&SmtpSettings {
            host: host.clone(),
            port: args.smtp_port,
            security: args.smtp_security,
            username: args.smtp_username.clone(),
            password: args.smtp_password.clone(),
            from: args.smtp_from.clone(),
        })
        .map_err(anyhow::Error::msg)?,
        None => Mailer::off(),
    };
    let opened = args.db.open_or_create().await?;
    let app = App {
        settings: Settings {
            cookie_secure: args.cookie_secure,
            public_url: args
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", args.listen)),
            demo: args.demo,
            api_per_minute: args.api_requests_per_minute,
            trusted_proxies: args.trusted_proxies.clone(),
            webhooks_to_private_addresses: args.webhooks_to_private_addresses,
            ..Settings::default()
        },
        mailer,
        ..opened
    };
    if app.mailer.is_on() {
        tracing::info!(
            host = args.smtp_host.as_deref().unwrap_or(""),
            port = args.smtp_port,
            "email is on"
        );
    } else if args.demo {
        tracing::info!("email is off (no --smtp-host); sign-in links are printed on the console");
    } else {
        tracing::info!("email is off (no --smtp-host)");
    }
    tracing::info!(database = %args.db.url, "database ready");
    let purged = crate::auth::session::purge_expired(&app.db, app.now()).await?;
    if purged > 0 {
        tracing::info!(sessions = purged, "expired sessions removed");
    }
    if args.demo && crate::modules::seed_demo_if_empty(&app).await? {
        tracing::info!("demo organization seeded");
    }
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    let demo_help = args.demo
        && crate::org::service::org_by_slug(&app.db, crate::org::demo::ORG_SLUG)
            .await?
            .is_some();
    tracing::info!(%addr, "listening");
    // Last, after the start-up logs, so it is what a newcomer sees.
    if demo_help {
        println!("{}", crate::org::demo::sign_in_help(&format!("http://{addr}")));
    }
    let empty = crate::org::service::count_orgs(&app.db).await? == 0;
    let state = AppState(Arc::new(app));
    if empty {
        let code = state.part::<crate::org::setup::SetupCode>().shown().to_owned();
        let at = args.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
        println!(
            "No organization yet. To set one up, open {}/setup and enter the setup code {code}",
            at.trim_end_matches('/')
        );
    }
    let (stop_worker, stop) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(crate::jobs::work(state.0.clone(), stop));
    crate::web::serve(listener, crate::modules::router(state.clone()), shutdown).await?;
    let _ = stop_worker.send(true);
    let _ = worker.await;
    if let Some(writer) = crate::pulse::writer::started(&state) {
        writer.stop().await;
    }
    state.db.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Dependencies that, at their most verbose, log what must never be
/// logged (PRIVACY.md rule 5): the client's address (axum, hyper), SMTP
/// transcripts with the links in emails (lettre), SQL statements (sqlx).
/// They are held at these levels whatever BELONG_LOG asks.
const QUIET_DEPENDENCIES: &[&str] = &[
    "axum=info",
    "axum::serve=info",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "tower=info",
    "tower_http=info",
    "reqwest=info",
    "rustls=info",
    "lettre=info",
    "sqlx=warn",
];

/// Caps the dependencies above only when the filter asks for more than
/// `info` somewhere (a quieter filter stays as quiet as it was).
fn log_filter(mut filter: EnvFilter) -> EnvFilter {
    let verbose = filter
        .max_level_hint()
        .is_none_or(|most| most > tracing_subscriber::filter::LevelFilter::INFO);
    if verbose {
        for d in QUIET_DEPENDENCIES {
            filter = filter.add_directive(d.parse().expect("a valid directive"));
        }
    }
    filter
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed
/// when this is called, not when the future is first polled, so a signal
/// that arrives while the server is still starting is not lost (and does
/// not kill the process outright).
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    #[cfg(unix)]
    let int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    async move {
        #[cfg(unix)]
        {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(term) => {},
                () = wait(int) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down; finishing requests under way");
    }
}
