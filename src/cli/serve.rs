//! `belong serve`: the web server, with graceful shutdown.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use tracing_subscriber::EnvFilter;

use super::DbArgs;
use crate::app::{App, AppState};
use crate::config::Settings;

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
    /// Log format: text or json.
    #[arg(long, env = "BELONG_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let filter = EnvFilter::try_from_env("BELONG_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    if args.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }

    let opened = args.db.open().await?;
    let app = App {
        settings: Settings {
            cookie_secure: args.cookie_secure,
            ..Settings::default()
        },
        ..opened
    };
    tracing::info!(database = %args.db.url, "database ready");
    let purged = crate::auth::session::purge_expired(&app.db, app.now()).await?;
    if purged > 0 {
        tracing::info!(sessions = purged, "expired sessions removed");
    }
    if args.demo && crate::org::demo::seed_if_empty(&app).await? {
        tracing::info!("demo organization seeded");
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr()?;
    if args.demo
        && crate::org::store::org_by_slug(&app.db, crate::org::demo::ORG_SLUG)
            .await?
            .is_some()
    {
        println!(
            "{}",
            crate::org::demo::sign_in_help(&format!("http://{addr}"))
        );
    }
    tracing::info!(%addr, "listening");
    let state = AppState(Arc::new(app));
    crate::web::serve(listener, state.clone(), shutdown_signal()).await?;
    state.db.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down; finishing requests under way");
}
