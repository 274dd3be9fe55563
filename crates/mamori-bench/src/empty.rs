//! The baseline: an axum server whose only handler answers `200` with an empty body.
//!
//! It runs in its own process with tokio's default multi-threaded runtime, as `mamori serve`
//! does, and takes the same requests the verifier's device step takes, so the difference
//! between the two is what the verifier's own work costs: routing and JSON, authentication,
//! the risk engine, the store and the token.

use axum::Router;
use axum::http::StatusCode;
use tokio::net::TcpListener;

/// Serves the empty handler on `127.0.0.1:0` and prints `listening <address>` on stdout for the
/// load generator, then serves until killed.
///
/// # Errors
///
/// When the listener cannot be bound or the server stops with an I/O error.
pub(crate) async fn serve() -> std::io::Result<()> {
    serve_app(Router::new().fallback(|| async { StatusCode::OK })).await
}

/// Serves `app` on `127.0.0.1:0` and prints `listening <address>` on stdout for the load
/// generator, then serves until killed: how each baseline server starts.
///
/// # Errors
///
/// When the listener cannot be bound or the server stops with an I/O error.
pub(crate) async fn serve_app(app: Router) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    // The parent reads this line to find the port.
    #[allow(clippy::print_stdout)]
    {
        println!("listening {address}");
    }
    axum::serve(listener, app).await
}
