//! The `mamori` command; see `mamori --help` and [`mamori_server::cli`].
// The one place an error reaches the terminal.
#![allow(clippy::print_stderr)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match mamori_server::cli::main().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mamori: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
