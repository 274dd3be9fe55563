//! An SMTP relay for the mail tests: plain, STARTTLS or implicit TLS, with a certificate from
//! a test CA made on the spot, keeping every message byte for byte (CRLF and all, as a DKIM
//! verifier must see it), every command it was sent, and how many connections it accepted.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::{ReceivedMail, parse_mail};

/// How the relay secures its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text, no STARTTLS offered.
    Plain,
    /// STARTTLS offered and required before MAIL.
    Starttls,
    /// TLS from the first byte.
    Implicit,
}

/// A message the relay accepted.
#[derive(Debug)]
pub struct Delivered {
    /// As received, CRLF line ends, dot-stuffing undone.
    pub raw: Vec<u8>,
    /// Whether it came over TLS.
    pub tls: bool,
    /// Its parts, decoded.
    pub mail: ReceivedMail,
}

/// A running relay.
pub struct Relay {
    pub port: u16,
    /// The test CA's certificate (PEM): the relay's certificate chains to it and names
    /// `127.0.0.1` and `localhost`.
    pub ca_pem: String,
    pub delivered: mpsc::UnboundedReceiver<Delivered>,
    /// Every command line received, in order, on every connection.
    pub commands: Arc<Mutex<Vec<String>>>,
    /// TCP connections accepted so far.
    pub connections: Arc<AtomicUsize>,
    /// When set, the relay closes each connection right after it accepted a mail, as a relay
    /// that restarts or drops idle clients would.
    pub hang_up: Arc<AtomicBool>,
}

/// Starts a relay on 127.0.0.1 with a fresh CA.
pub async fn start(security: Security) -> Relay {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mamori test CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let tls = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(leaf.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(tls));

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, delivered) = mpsc::unbounded_channel();
    let commands = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&commands);
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::clone(&connections);
    let hang_up = Arc::new(AtomicBool::new(false));
    let hanging_up = Arc::clone(&hang_up);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let tx = tx.clone();
            let seen = Arc::clone(&seen);
            let acceptor = acceptor.clone();
            let hang_up = Arc::clone(&hanging_up);
            tokio::spawn(async move {
                let seen = Seen {
                    commands: &seen,
                    hang_up: &hang_up,
                };
                match security {
                    Security::Plain => {
                        converse(socket, Offer::Plain, &tx, seen).await;
                    }
                    Security::Implicit => {
                        let Ok(tls) = acceptor.accept(socket).await else {
                            return;
                        };
                        converse(tls, Offer::InTls, &tx, seen).await;
                    }
                    Security::Starttls => {
                        let End::Upgrade(socket) =
                            converse(socket, Offer::Starttls, &tx, seen).await
                        else {
                            return;
                        };
                        let Ok(tls) = acceptor.accept(socket).await else {
                            return;
                        };
                        converse(tls, Offer::Upgraded, &tx, seen).await;
                    }
                }
            });
        }
    });
    Relay {
        port,
        ca_pem: ca.pem(),
        delivered,
        commands,
        connections,
        hang_up,
    }
}

/// What one leg of a conversation offers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Offer {
    /// Plain text, no STARTTLS.
    Plain,
    /// Plain text, STARTTLS offered (and MAIL refused before it).
    Starttls,
    /// After STARTTLS: no greeting, no STARTTLS.
    Upgraded,
    /// TLS from the start.
    InTls,
}

/// What a conversation reports to and reads from the test.
#[derive(Clone, Copy)]
struct Seen<'a> {
    commands: &'a Mutex<Vec<String>>,
    hang_up: &'a AtomicBool,
}

enum End<S> {
    Closed,
    Upgrade(S),
}

async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    offer: Offer,
    tx: &mpsc::UnboundedSender<Delivered>,
    seen: Seen<'_>,
) -> End<S> {
    let mut stream = BufReader::new(stream);
    if offer != Offer::Upgraded && stream.write_all(b"220 relay ESMTP\r\n").await.is_err() {
        return End::Closed;
    }
    let tls = matches!(offer, Offer::Upgraded | Offer::InTls);
    let mut to = String::new();
    loop {
        let mut line = Vec::new();
        if stream.read_until(b'\n', &mut line).await.unwrap_or(0) == 0 {
            return End::Closed;
        }
        let command = String::from_utf8_lossy(&line).trim_end().to_owned();
        seen.commands.lock().unwrap().push(command.clone());
        let upper = command.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            if offer == Offer::Starttls {
                b"250-relay\r\n250-8BITMIME\r\n250 STARTTLS\r\n"
            } else {
                b"250-relay\r\n250 8BITMIME\r\n"
            }
        } else if upper == "STARTTLS" && offer == Offer::Starttls {
            if stream.write_all(b"220 ready for TLS\r\n").await.is_err() {
                return End::Closed;
            }
            return End::Upgrade(stream.into_inner());
        } else if upper.starts_with("MAIL FROM:") && offer == Offer::Starttls {
            b"530 must issue STARTTLS first\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to = command[8..].trim().trim_matches(['<', '>']).to_owned();
            b"250 ok\r\n"
        } else if upper == "DATA" {
            if stream.write_all(b"354 go ahead\r\n").await.is_err() {
                return End::Closed;
            }
            let mut raw = Vec::new();
            loop {
                let mut l = Vec::new();
                if stream.read_until(b'\n', &mut l).await.unwrap_or(0) == 0 {
                    return End::Closed;
                }
                if l == b".\r\n" {
                    break;
                }
                raw.extend_from_slice(l.strip_prefix(b".").unwrap_or(&l));
            }
            let text = String::from_utf8(raw.clone()).expect("mail is UTF-8");
            tx.send(Delivered {
                mail: parse_mail(&to, &text),
                raw,
                tls,
            })
            .ok();
            if seen.hang_up.load(Ordering::SeqCst) {
                stream.write_all(b"250 queued\r\n").await.ok();
                stream.flush().await.ok();
                return End::Closed;
            }
            b"250 queued\r\n"
        } else if upper == "QUIT" {
            stream.write_all(b"221 bye\r\n").await.ok();
            return End::Closed;
        } else {
            b"250 ok\r\n"
        };
        if stream.write_all(reply).await.is_err() {
            return End::Closed;
        }
        if stream.flush().await.is_err() {
            return End::Closed;
        }
    }
}
