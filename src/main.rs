//! `belong`: parse the command line and hand over to the subcommand.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    belong::cli::main().await
}
