//! Connections to the SMTP relay: each opened with `TCP_NODELAY`, secured and authenticated as
//! `[mail.smtp]` says, kept between mails, and at most `mail.concurrency` in use at once.
//!
//! Why a pool of our own rather than lettre's: lettre opens its sockets itself and offers no way
//! to set `TCP_NODELAY`. It writes a message's body and the final `.` in two writes, so under
//! Nagle's algorithm the `.` waits until the relay acknowledges the body, and the relay delays
//! that acknowledgement (about 40 ms on Linux) because it has nothing to answer before the `.`:
//! every mail cost 40 ms on its connection however fast the relay. Here the socket is ours,
//! Nagle is off, and lettre's SMTP client runs over it; TLS (implicit or STARTTLS) is still
//! lettre's own, with the same `TlsParameters` (the public roots and `mail.smtp.ca_file`, the
//! relay's name checked).
//!
//! The rules of a checkout:
//!
//! - A connection serves one mail at a time and goes back to the pool only after the relay
//!   accepted that mail. Any error, or a send dropped midway, drops the connection with it, so
//!   no connection is ever reused in the middle of an SMTP transaction.
//! - A parked connection is checked with `NOOP` before it is used (the relay may have closed
//!   it), and one idle for longer than [`IDLE_TIMEOUT`] is closed rather than reused.
//! - `mail.smtp.timeout` bounds resolving the relay's name, connecting to each address it
//!   resolves to (as lettre's own connect did), then the handshake — TLS, greeting, `EHLO`,
//!   `STARTTLS` and `EHLO` again, `AUTH` — as a whole, and the `NOOP` check. The mail's own
//!   transaction gets the outbox's `HUNG_AFTER_TIMEOUTS` times as long (a large mail over a
//!   slow link may need it); then it is dropped with its connection, so a relay that stops
//!   answering mid-mail frees its slot instead of holding it for ever. The outbox retries the
//!   mail once its claim lapses, and since the relay may have kept it, it can arrive twice.

use std::io;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[allow(deprecated)] // See `ImplicitTls`.
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::HUNG_AFTER_TIMEOUTS;

/// A connection idle for longer than this is closed instead of reused: well inside the
/// five minutes RFC 5321 (4.5.3.2.7) lets a relay wait for the next command.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How connections to the relay are secured.
pub enum Security {
    /// Plain text (`tls = "none"`).
    Plain,
    /// `STARTTLS` after the greeting, required: a relay that does not offer it gets no mail.
    Starttls(TlsParameters),
    /// TLS from the first byte.
    Implicit(TlsParameters),
}

/// Where and how to connect.
pub struct Relay {
    /// `mail.smtp.host`.
    pub host: String,
    /// `mail.smtp.port`.
    pub port: u16,
    /// `mail.smtp.timeout`: for opening a connection and for the `NOOP` check.
    pub timeout: Duration,
    /// `mail.smtp.tls` with its parameters.
    pub security: Security,
    /// `mail.smtp.username` and `password`, when both are set.
    pub credentials: Option<Credentials>,
}

/// Connections to one relay, at most `size` in use at once.
pub struct Pool {
    relay: Relay,
    /// What this host calls itself in `EHLO`: lettre's default, the host name.
    hello: ClientId,
    /// One permit per connection that may be in use.
    slots: Semaphore,
    /// Connections waiting for their next mail, the most recently used last. A std mutex: it
    /// is held only to push or pop, never across an await.
    idle: Mutex<Vec<Parked>>,
}

/// A connection between two mails.
struct Parked {
    connection: AsyncSmtpConnection,
    since: Instant,
}

impl Pool {
    /// A pool of at most `size` connections to `relay`, none opened yet.
    pub fn new(relay: Relay, size: usize) -> Self {
        Self {
            relay,
            hello: ClientId::default(),
            slots: Semaphore::new(size.max(1)),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Sends `message` (formatted, signed) to the envelope's recipients, waiting for a free
    /// connection when `size` are in use.
    ///
    /// # Errors
    ///
    /// Connecting, TLS, authentication or the relay's refusal, as text for the outbox row.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), String> {
        // Only a closed semaphore refuses a permit, and this one is never closed.
        let _slot = self.slots.acquire().await.map_err(|e| e.to_string())?;
        let mut connection = self.checkout().await?;
        let limit = self.relay.timeout.saturating_mul(HUNG_AFTER_TIMEOUTS);
        tokio::time::timeout(limit, connection.send(envelope, message))
            .await
            .map_err(|_| format!("no answer from the relay in {} s", limit.as_secs()))?
            .map_err(|e| e.to_string())?;
        // Parked before the slot is freed, so the next send finds it.
        self.park(connection);
        Ok(())
    }

    /// A parked connection that still answers, or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, String> {
        while let Some(mut connection) = self.unpark() {
            let answers = tokio::time::timeout(self.relay.timeout, connection.test_connected());
            if answers.await.unwrap_or(false) {
                return Ok(connection);
            }
            // Dropped: the relay closed it or stopped answering.
        }
        let Relay {
            host,
            port,
            timeout,
            ..
        } = &self.relay;
        let socket = connect(host, *port, *timeout)
            .await
            .map_err(|e| format!("connecting to {host}:{port}: {e}"))?;
        tokio::time::timeout(*timeout, self.handshake(socket))
            .await
            .map_err(|_| {
                format!(
                    "the SMTP handshake with {host}:{port} took longer than {} s",
                    timeout.as_secs()
                )
            })?
    }

    /// The most recently used parked connection; the ones idle too long are closed on the way.
    fn unpark(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.retain(|parked| parked.since.elapsed() <= IDLE_TIMEOUT);
        idle.pop().map(|parked| parked.connection)
    }

    fn park(&self, connection: AsyncSmtpConnection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Parked {
                connection,
                since: Instant::now(),
            });
    }

    /// `socket` made ready for `MAIL FROM`.
    async fn handshake(&self, socket: TcpStream) -> Result<AsyncSmtpConnection, String> {
        let relay = &self.relay;
        let stream: Box<dyn AsyncTokioStream> = match &relay.security {
            Security::Implicit(parameters) => {
                Box::new(ImplicitTls::handshake(socket, parameters.clone()).await?)
            }
            Security::Plain | Security::Starttls(_) => Box::new(socket),
        };
        let mut connection = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(|e| e.to_string())?;
        if let Security::Starttls(parameters) = &relay.security {
            // Fails when the relay does not offer STARTTLS (or someone stripped the offer from
            // its EHLO answer): then nothing is sent in clear.
            connection
                .starttls(parameters.clone(), &self.hello)
                .await
                .map_err(|e| e.to_string())?;
        }
        if let Some(credentials) = &relay.credentials {
            connection
                .auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(connection)
    }
}

/// A TCP connection to `host:port`, Nagle's algorithm off: each address the name resolves to
/// is tried in turn, for at most `timeout` each.
async fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = None;
    let addresses = tokio::time::timeout(timeout, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "resolving timed out"))??;
    for address in addresses {
        match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
            Ok(Ok(socket)) => {
                socket.set_nodelay(true)?;
                return Ok(socket);
            }
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some(io::Error::new(io::ErrorKind::TimedOut, "timed out")),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
}

/// lettre's TLS over a socket we opened, for implicit TLS: lettre's SMTP client takes a ready
/// stream only through tokio's I/O traits, while its TLS comes as an `AsyncNetworkStream`
/// (futures' I/O traits), which this adapts. `AsyncNetworkStream` is deprecated in lettre 0.11
/// as "not meant to be public", but it is lettre's only way to its TLS for a socket of ours; the
/// alternative, a rustls client configuration of our own, would be a second place deciding
/// which certificates to trust.
#[allow(deprecated)]
#[derive(Debug)]
struct ImplicitTls(AsyncNetworkStream);

#[allow(deprecated)]
impl ImplicitTls {
    async fn handshake(socket: TcpStream, parameters: TlsParameters) -> Result<Self, String> {
        let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(socket));
        stream
            .upgrade_tls(parameters)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self(stream))
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(read)) => {
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The socket every connection starts from has Nagle's algorithm off: with it on, every
    /// mail's final `.` would wait out the relay's delayed acknowledgement.
    #[tokio::test]
    async fn relay_sockets_are_opened_with_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let socket = connect("127.0.0.1", port, Duration::from_secs(10))
            .await
            .unwrap();
        assert!(socket.nodelay().unwrap());
    }
}
