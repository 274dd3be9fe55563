//! One delivery attempt over HTTP, the endpoint URLs it may go to, and when a failed event is
//! tried again.
//!
//! An attempt is one `POST` on a connection of its own (HTTP/1.1; TLS with rustls and the
//! public web roots for `https://`), bounded as a whole by `webhooks.timeout`, connecting
//! included. Redirects are not followed (a `3xx` is a failure like any other non-`2xx`), and
//! an answer's body is never read: a refused answer is known by its status line alone, so
//! whatever a receiver writes back never reaches the logs or the outbox row.
//!
//! # Endpoint URLs
//!
//! `https://` only. No user name or password in the URL (a secret there would be printed
//! wherever the URL is), no fragment, at most [`MAX_URL`] characters.
//!
//! # Addresses
//!
//! Whoever sets an endpoint chooses where the verifier sends requests; unchecked, that is a
//! way into the verifier's own network (server-side request forgery). So each attempt
//! resolves the host once, fails without connecting when any address is not public (see
//! [`is_public`]), and connects to the addresses it checked — never resolving again, so a
//! name cannot answer with a public address for the check and a private one for the
//! connection. Any address refused rather than only the private ones: a name that also
//! resolves inside the network would reach it on some attempts.
//!
//! `webhooks.allow_private_addresses` lifts the check and also accepts `http://` to a loopback
//! address (`localhost`, `127.0.0.0/8`, `[::1]`) — for tests and a receiver on the same
//! machine, where nothing travels over a network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, StatusCode, Uri, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The longest endpoint URL accepted.
pub const MAX_URL: usize = 2048;

/// Waits after the first to the seventh failed attempt, in seconds: the Standard Webhooks
/// schedule (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the eighth
/// attempt fails the event is given up.
pub const SCHEDULE: [i64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// The [`SCHEDULE`]'s longest wait, in seconds.
pub const LONGEST_STEP: i64 = 10 * 3600;

/// The longest `Retry-After` honoured, in seconds: the schedule's longest wait, so an endpoint
/// cannot park an event for longer than the schedule would.
pub const MAX_RETRY_AFTER: i64 = LONGEST_STEP;

/// An endpoint URL that passed the rules of the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    uri: Uri,
    tls: bool,
}

impl EndpointUrl {
    /// Checks `text` against the rules of the module docs; `allow_private_addresses` is
    /// `webhooks.allow_private_addresses`.
    ///
    /// # Errors
    ///
    /// A sentence naming the rule broken, for the operator.
    pub fn parse(text: &str, allow_private_addresses: bool) -> Result<Self, &'static str> {
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
            Some("http") if allow_private_addresses && is_loopback(host) => false,
            Some("http") if allow_private_addresses => {
                return Err("http:// is accepted only to a loopback address");
            }
            Some("http") => return Err("the URL must start with https://"),
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

/// Whether `ip` is a public unicast address, reachable across the internet: not loopback,
/// private (RFC 1918, `fc00::/7`), link-local, CGNAT (`100.64.0.0/10`), unspecified, multicast,
/// broadcast, documentation, benchmarking or reserved. An IPv6 address carrying an IPv4 one
/// (mapped, NAT64, 6to4) is judged by that IPv4 address; other IPv6 addresses must be global
/// unicast (`2000::/3`) outside the IETF's special blocks.
#[must_use]
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network"
        || a == 10
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || a == 127
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF assignments, TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach the IPv4 address they carry.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if segments[0] == 0x2002 {
        return is_public_v4(Ipv4Addr::from(
            (u32::from(segments[1]) << 16) | u32::from(segments[2]),
        ));
    }
    let global_unicast = segments[0] & 0xe000 == 0x2000;
    // 2001::/23 holds Teredo, ORCHID and other IETF assignments; 2001:db8::/32 documentation.
    let ietf = segments[0] == 0x2001 && (segments[1] < 0x200 || segments[1] == 0xdb8);
    global_unicast && !ietf
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
    allow_private_addresses: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("timeout", &self.timeout)
            .field("allow_private_addresses", &self.allow_private_addresses)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that trusts the public web roots, gives each attempt `timeout`, and connects
    /// to addresses that are not public only if `allow_private_addresses`.
    ///
    /// # Errors
    ///
    /// When rustls refuses its own default protocol versions (it does not).
    pub fn new(timeout: Duration, allow_private_addresses: bool) -> Result<Self, String> {
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
            allow_private_addresses,
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
        let addresses = match self.addresses(url).await {
            Ok(addresses) => addresses,
            Err(error) => return failed(error),
        };
        // The addresses just checked, tried in turn: no second resolution.
        let tcp = match TcpStream::connect(&addresses[..]).await {
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

impl Client {
    /// Resolves `url`'s host once; when private addresses are not allowed, fails if any of
    /// them is not public.
    async fn addresses(&self, url: &EndpointUrl) -> Result<Vec<SocketAddr>, String> {
        let host = url.host();
        let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, url.port())],
            Err(_) => tokio::net::lookup_host((host, url.port()))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .collect(),
        };
        if addresses.is_empty() {
            return Err(format!("{host} has no address"));
        }
        let refused = addresses.iter().find(|a| !is_public(a.ip()));
        if let (false, Some(refused)) = (self.allow_private_addresses, refused) {
            return Err(format!(
                "{host} resolves to {}, which is not a public address \
                 (webhooks.allow_private_addresses is off); no connection was made",
                refused.ip()
            ));
        }
        Ok(addresses)
    }
}

/// Sends the request over `stream` and reads the answer's status.
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
    // The status line only: the body is the receiver's to fill, and whatever it holds (an
    // internal page, a token) must not be copied into the logs or the outbox row.
    Answer::Failed {
        error: format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        )
        .trim_end()
        .to_owned(),
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
        assert_eq!(SCHEDULE.iter().max(), Some(&LONGEST_STEP));
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
    fn endpoint_urls_are_https_or_loopback_http_when_private_addresses_are_allowed() {
        for good in [
            "https://hooks.shop.example/mamori",
            "https://hooks.shop.example:8443/a?b=c",
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
        ] {
            assert!(EndpointUrl::parse(good, true).is_ok(), "{good}");
        }
        for loopback in [
            "http://127.0.0.1:9000/hook",
            "http://localhost/hook",
            "http://[::1]:8080/",
        ] {
            assert_eq!(
                EndpointUrl::parse(loopback, false),
                Err("the URL must start with https://"),
                "{loopback} without the opt-in"
            );
        }
        assert!(EndpointUrl::parse("https://hooks.shop.example/", false).is_ok());
        let v6 = EndpointUrl::parse("http://[::1]:8080/hook", true).unwrap();
        assert_eq!(
            (v6.host(), v6.port()),
            ("::1", 8080),
            "connects without brackets"
        );
        let default = EndpointUrl::parse("https://hooks.shop.example/", false).unwrap();
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
            assert!(EndpointUrl::parse(bad, true).is_err(), "{bad}");
        }
        let long = format!("https://a.example/{}", "x".repeat(MAX_URL));
        assert!(EndpointUrl::parse(&long, true).is_err());
    }

    #[test]
    fn only_public_unicast_addresses_are_public() {
        for public in [
            "93.184.215.14",
            "8.8.8.8",
            "100.63.255.255",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    /// Without the opt-in, an endpoint whose host resolves to a private address fails its
    /// attempt without a connection, even over `https://`.
    #[tokio::test]
    async fn a_private_address_is_refused_without_connecting() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let signed = Signed {
            id: "msg_1",
            timestamp: 1,
            signature: "v1,x",
        };
        for host in ["localhost", "127.0.0.1"] {
            let url = EndpointUrl::parse(&format!("https://{host}:{port}/hook"), false).unwrap();
            let answer = Client::new(Duration::from_secs(5), false)
                .unwrap()
                .post(&url, signed, "{}")
                .await;
            let Answer::Failed { error, retry_after } = answer else {
                panic!("delivered to a private address: {answer:?}");
            };
            assert!(error.contains("not a public address"), "{error}");
            assert_eq!(retry_after, None);
        }
        let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
        assert!(accepted.is_err(), "no connection was made");
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
        let url = EndpointUrl::parse(&format!("https://localhost:{port}/hook"), true).unwrap();
        let signed = Signed {
            id: "msg_1",
            timestamp: 1,
            signature: "v1,x",
        };
        let answer = Client::new(Duration::from_secs(5), true)
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
