//! One delivery attempt over HTTP, the endpoint URLs it may go to, and when a failed event is
//! tried again.
//!
//! An attempt is one `POST` on a connection of its own (HTTP/1.1; TLS with rustls and the
//! public web roots for `https://`), bounded as a whole by `webhooks.timeout`, connecting
//! included. Redirects are not followed (a `3xx` is a failure like any other non-`2xx`), and
//! at most [`MAX_RESPONSE`] bytes of an answer are read, only to log them.
//!
//! # Endpoint URLs
//!
//! `https://` only, except `http://` to a loopback address (`localhost`, `127.0.0.0/8`,
//! `[::1]`) — for tests and a receiver on the same machine, where nothing travels over a
//! network. No user name or password in the URL (a secret there would be printed wherever the
//! URL is), no fragment, at most [`MAX_URL`] characters.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The longest endpoint URL accepted.
pub const MAX_URL: usize = 2048;

/// Bytes of an answer read, at most; the rest is never read.
pub const MAX_RESPONSE: usize = 4096;

/// Waits after the first to the seventh failed attempt, in seconds: the Standard Webhooks
/// schedule (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the eighth
/// attempt fails the event is given up.
pub const SCHEDULE: [i64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// The longest `Retry-After` honoured, in seconds: the schedule's longest wait, so an endpoint
/// cannot park an event for longer than the schedule would.
pub const MAX_RETRY_AFTER: i64 = 10 * 3600;

/// An endpoint URL that passed the rules of the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    uri: Uri,
    tls: bool,
}

impl EndpointUrl {
    /// Checks `text` against the rules of the module docs.
    ///
    /// # Errors
    ///
    /// A sentence naming the rule broken, for the operator.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if text.len() > MAX_URL {
            return Err("the URL is longer than 2048 characters");
        }
        if text.contains('#') {
            return Err("the URL must not have a fragment");
        }
        let uri: Uri = text
            .parse()
            .map_err(|_| "the URL does not parse as an absolute http(s) URL")?;
        let authority = uri
            .authority()
            .ok_or("the URL must be absolute: https://host/path")?;
        if authority.as_str().contains('@') {
            return Err("the URL must not hold a user name or password");
        }
        let host = authority.host();
        if host.is_empty() {
            return Err("the URL has no host");
        }
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if is_loopback(host) => false,
            Some("http") => return Err("http:// is accepted only to a loopback address"),
            _ => return Err("the URL must start with https://"),
        };
        Ok(Self { uri, tls })
    }

    /// The URL as given.
    pub fn as_str(&self) -> String {
        self.uri.to_string()
    }

    /// The host to connect to and to name to TLS: an IPv6 address without its brackets.
    fn host(&self) -> &str {
        // `parse` refused a URL without an authority.
        let host = self.uri.host().unwrap_or_default();
        host.strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
    }

    fn port(&self) -> u16 {
        self.uri
            .port_u16()
            .unwrap_or(if self.tls { 443 } else { 80 })
    }
}

/// Whether `host` (as a URL writes it) is this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// How an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A `2xx`.
    Delivered,
    /// `410 Gone`: the endpoint is to be disabled.
    Gone,
    /// Anything else: no connection, a timeout, another status.
    Failed {
        /// For the outbox row and the logs.
        error: String,
        /// Seconds the endpoint asked to wait (`Retry-After`), bounded.
        retry_after: Option<i64>,
    },
}

/// The headers of one attempt.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// `webhook-id`.
    pub id: &'a str,
    /// `webhook-timestamp`.
    pub timestamp: i64,
    /// `webhook-signature`.
    pub signature: &'a str,
}

/// Makes attempts; one per process, shared by the worker's deliveries.
#[derive(Clone)]
pub struct Client {
    tls: TlsConnector,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that trusts the public web roots and gives each attempt `timeout`.
    ///
    /// # Errors
    ///
    /// When rustls refuses its own default protocol versions (it does not).
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: TlsConnector::from(Arc::new(config)),
            timeout,
        })
    }

    /// POSTs `body` to `url` with the three Standard Webhooks headers.
    pub async fn post(&self, url: &EndpointUrl, signed: Signed<'_>, body: &str) -> Answer {
        let attempt = self.attempt(url, signed, body);
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(answer) => answer,
            Err(_) => failed(format!("no answer within {} s", self.timeout.as_secs())),
        }
    }

    async fn attempt(&self, url: &EndpointUrl, signed: Signed<'_>, body: &str) -> Answer {
        let tcp = match TcpStream::connect((url.host(), url.port())).await {
            Ok(tcp) => tcp,
            Err(e) => return failed(format!("cannot connect: {e}")),
        };
        // Small requests, answered at once: Nagle's delay would only slow them.
        let _ = tcp.set_nodelay(true);
        if !url.tls {
            return send(tcp, url, signed, body).await;
        }
        let Ok(name) = ServerName::try_from(url.host().to_owned()) else {
            return failed(format!("{} is not a name TLS can check", url.host()));
        };
        match self.tls.connect(name, tcp).await {
            Ok(stream) => send(stream, url, signed, body).await,
            Err(e) => failed(format!("TLS: {e}")),
        }
    }
}

/// Sends the request over `stream` and reads the answer.
async fn send<S>(stream: S, url: &EndpointUrl, signed: Signed<'_>, body: &str) -> Answer
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(e) => return failed(format!("HTTP: {e}")),
        };
    // Drives the connection until this exchange ends, or the attempt is abandoned (timed out):
    // the guard then aborts it, so no connection outlives its attempt.
    let _connection = AbortOnDrop(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let path = url
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let host = url
        .uri
        .authority()
        .map_or_else(String::new, |a| a.as_str().to_owned());
    let request = Request::post(path)
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "mamori-webhooks/1")
        .header("webhook-id", signed.id)
        .header("webhook-timestamp", signed.timestamp.to_string())
        .header("webhook-signature", signed.signature)
        .body(Full::new(Bytes::from(body.to_owned())));
    let request = match request {
        Ok(request) => request,
        Err(e) => return failed(format!("request: {e}")),
    };
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(e) => return failed(format!("HTTP: {e}")),
    };
    let status = response.status();
    if status.is_success() {
        return Answer::Delivered;
    }
    if status == StatusCode::GONE {
        return Answer::Gone;
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(retry_after);
    let text = match Limited::new(response.into_body(), MAX_RESPONSE)
        .collect()
        .await
    {
        Ok(collected) => {
            let bytes = collected.to_bytes();
            String::from_utf8_lossy(&bytes).chars().take(200).collect()
        }
        // Longer than MAX_RESPONSE, or cut off: the status says enough.
        Err(_) => String::new(),
    };
    Answer::Failed {
        error: format!("HTTP {}: {}", status.as_u16(), text.trim()),
        retry_after,
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn failed(error: String) -> Answer {
    Answer::Failed {
        error,
        retry_after: None,
    }
}

/// Reads a `Retry-After` in delta-seconds, bounded by [`MAX_RETRY_AFTER`]. The HTTP-date form
/// is not read (the schedule applies then): endpoints asking for a pause send seconds, and a
/// date would need this machine's and the endpoint's clocks to agree.
pub fn retry_after(value: &str) -> Option<i64> {
    let value = value.trim();
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse::<i64>().ok().map(|s| s.min(MAX_RETRY_AFTER))
}

/// Seconds until the next attempt after the `attempts`-th failed one, or `None` to give up:
/// the [`SCHEDULE`]'s step plus up to a tenth of it (`jitter`, in thousandths of that tenth:
/// 0 to 1000) so that events failed together do not all come back together — or the
/// endpoint's `retry_after` when it asked for longer. A `Retry-After` only ever delays: were
/// a shorter one obeyed, an endpoint answering `503 Retry-After: 1` would have all eight
/// attempts spent within seconds and the event given up while it was briefly down.
pub fn next_attempt(attempts: i64, retry_after: Option<i64>, jitter: i64) -> Option<i64> {
    let index = usize::try_from(attempts.checked_sub(1)?).ok()?;
    let step = *SCHEDULE.get(index)?;
    let scheduled = step + step * jitter.clamp(0, 1000) / 10_000;
    Some(retry_after.map_or(scheduled, |wait| wait.max(scheduled)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_the_specs_with_at_most_a_tenth_of_jitter() {
        let plain: Vec<_> = (1..=7).map(|n| next_attempt(n, None, 0).unwrap()).collect();
        assert_eq!(plain, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(next_attempt(2, None, 1000), Some(330));
        assert_eq!(
            next_attempt(8, None, 0),
            None,
            "the eighth failure gives up"
        );
        assert_eq!(next_attempt(0, None, 0), None);
    }

    #[test]
    fn retry_after_delays_the_step_but_never_hastens_it() {
        assert_eq!(
            next_attempt(3, Some(1), 500),
            Some(1800 + 90),
            "a shorter Retry-After keeps the schedule's step"
        );
        assert_eq!(next_attempt(1, Some(0), 0), Some(5));
        assert_eq!(next_attempt(1, Some(120), 1000), Some(120));
        assert_eq!(
            next_attempt(2, Some(MAX_RETRY_AFTER), 0),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            next_attempt(8, Some(1), 500),
            None,
            "but never adds an attempt"
        );
        assert_eq!(retry_after("120"), Some(120));
        assert_eq!(retry_after(" 7 "), Some(7));
        assert_eq!(retry_after("999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("-1"), None);
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after(""), None);
    }

    #[test]
    fn endpoint_urls_are_https_or_loopback_http() {
        for good in [
            "https://hooks.shop.example/mamori",
            "https://hooks.shop.example:8443/a?b=c",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
        ] {
            assert!(EndpointUrl::parse(good).is_ok(), "{good}");
        }
        let v6 = EndpointUrl::parse("http://[::1]:8080/hook").unwrap();
        assert_eq!(
            (v6.host(), v6.port()),
            ("::1", 8080),
            "connects without brackets"
        );
        let default = EndpointUrl::parse("https://hooks.shop.example/").unwrap();
        assert_eq!(default.port(), 443);
        for bad in [
            "http://hooks.shop.example/",
            "http://10.0.0.1/",
            "ftp://hooks.shop.example/",
            "https://user:pass@hooks.shop.example/",
            "https://hooks.shop.example/#frag",
            "/relative",
            "hooks.shop.example",
        ] {
            assert!(EndpointUrl::parse(bad).is_err(), "{bad}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL));
        assert!(EndpointUrl::parse(&long).is_err());
    }

    /// An `https://` endpoint whose certificate no public root vouches for (here, self-signed)
    /// is refused during the handshake: nothing is sent to it.
    #[tokio::test]
    async fn an_untrusted_certificate_is_refused() {
        use tokio_rustls::TlsAcceptor;
        use tokio_rustls::rustls::ServerConfig;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let tls = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            acceptor.accept(socket).await.is_ok()
        });
        let url = EndpointUrl::parse(&format!("https://localhost:{port}/hook")).unwrap();
        let signed = Signed {
            id: "msg_1",
            timestamp: 1,
            signature: "v1,x",
        };
        let answer = Client::new(Duration::from_secs(5))
            .unwrap()
            .post(&url, signed, "{}")
            .await;
        let Answer::Failed { error, .. } = answer else {
            panic!("delivered to an untrusted certificate: {answer:?}");
        };
        assert!(error.starts_with("TLS:"), "{error}");
        assert!(!server.await.unwrap(), "the handshake never completed");
    }
}
