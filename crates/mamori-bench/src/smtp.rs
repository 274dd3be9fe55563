//! A loopback SMTP receiver standing in for the cardholders' mailboxes: the verifier's outbox
//! delivers code mails to it over real SMTP, and it hands each one-time code to the simulated
//! client waiting for that cardholder's mail.
//!
//! This is how the challenge round trip gets its code without any test hook in the verifier:
//! the code travels the production path (outbox, worker, SMTP), and the receiver reads it from
//! the text part as a cardholder would. Mails without a code (fraud alerts) are dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Where each recipient's codes go.
type Routes = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<String>>>>;

/// Per delivered message, milliseconds: its SMTP transaction (`MAIL FROM` to the final `.`) and
/// the part from `DATA` to the final `.`. Per message, not per session: the verifier keeps its
/// connections open between mails.
type Timings = Arc<Mutex<Vec<(f64, f64)>>>;

/// The running receiver.
pub(crate) struct Sink {
    /// The loopback port the verifier's `mail.smtp.port` points at.
    pub(crate) port: u16,
    routes: Routes,
    timings: Timings,
}

impl Sink {
    /// Starts accepting on `127.0.0.1:0`.
    ///
    /// # Errors
    ///
    /// When no port can be bound.
    pub(crate) async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let routes = Routes::default();
        let timings = Timings::default();
        let (accepting, timing) = (Arc::clone(&routes), Arc::clone(&timings));
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, Arc::clone(&accepting), Arc::clone(&timing)));
            }
        });
        Ok(Self {
            port,
            routes,
            timings,
        })
    }

    /// The timings of every message received so far: (transaction, `DATA` to `.`) in ms.
    pub(crate) fn timings(&self) -> Vec<(f64, f64)> {
        self.timings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The codes mailed to `address` from now on, in the order they arrive.
    pub(crate) fn register(&self, address: &str) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.routes
            .lock()
            // A panic elsewhere cannot leave the map half-written: inserts are single calls.
            .unwrap_or_else(PoisonError::into_inner)
            .insert(address.to_ascii_lowercase(), tx);
        rx
    }
}

/// One SMTP session: just enough of RFC 5321 for lettre (no pipelining, no extensions but
/// 8BITMIME).
async fn session(socket: TcpStream, routes: Routes, timings: Timings) {
    let mut transaction = Instant::now();
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    if write.write_all(b"220 bench ESMTP\r\n").await.is_err() {
        return;
    }
    let mut recipients = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        let verb = line.get(..4).unwrap_or(&line).to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250-bench\r\n250 8BITMIME\r\n",
            "MAIL" | "RSET" => {
                transaction = Instant::now();
                recipients.clear();
                b"250 ok\r\n"
            }
            "RCPT" => {
                let address = line.split_once(':').map_or("", |(_, a)| a);
                recipients.push(address.trim().trim_matches(['<', '>']).to_ascii_lowercase());
                b"250 ok\r\n"
            }
            "DATA" => {
                if write.write_all(b"354 go ahead\r\n").await.is_err() {
                    return;
                }
                let data_started = Instant::now();
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line == "." {
                        break;
                    }
                    // Dot-stuffing (RFC 5321 4.5.2).
                    message.push_str(line.strip_prefix('.').unwrap_or(&line));
                    message.push('\n');
                }
                timings
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((
                        transaction.elapsed().as_secs_f64() * 1e3,
                        data_started.elapsed().as_secs_f64() * 1e3,
                    ));
                if let Some(code) = code_in(&message) {
                    let routes = routes.lock().unwrap_or_else(PoisonError::into_inner);
                    for recipient in &recipients {
                        if let Some(tx) = routes.get(recipient) {
                            // A client that gave up no longer listens; its code is dropped.
                            let _ = tx.send(code.clone());
                        }
                    }
                }
                b"250 queued\r\n"
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => b"250 ok\r\n",
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}

/// The one-time code in a MIME `message`: the line of exactly six ASCII digits in its
/// `text/plain` part, decoded from whatever transfer encoding the sender chose.
fn code_in(message: &str) -> Option<String> {
    let text = message
        .split("\n--")
        .find(|part| {
            part.lines().take_while(|l| !l.is_empty()).any(|l| {
                l.to_ascii_lowercase()
                    .starts_with("content-type: text/plain")
            })
        })
        .unwrap_or(message);
    let (head, body) = text.split_once("\n\n")?;
    let head = head.to_ascii_lowercase();
    let decoded = if head.contains("content-transfer-encoding: base64") {
        String::from_utf8_lossy(&base64(body)).into_owned()
    } else if head.contains("content-transfer-encoding: quoted-printable") {
        quoted_printable(body)
    } else {
        body.to_owned()
    };
    decoded
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned)
}

/// Standard base64 with padding and line breaks ignored; undecodable characters are skipped.
fn base64(text: &str) -> Vec<u8> {
    let sextets = text.bytes().filter_map(|c| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    });
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for sextet in sextets {
        buffer = (buffer << 6) | u32::from(sextet);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Only the low 8 bits are wanted: the truncation is the decoding.
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// Quoted-printable: soft line breaks joined, `=XX` escapes decoded.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=')
            .then(|| joined.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "Subject: Your verification code\nContent-Type: multipart/alternative; \
                        boundary=\"b1\"\n\n";

    #[test]
    fn finds_the_code_in_each_transfer_encoding() {
        let plain = format!(
            "{HEAD}--b1\nContent-Type: text/plain; charset=utf-8\n\nHere it is:\n\n    123456\n\n\
             --b1\nContent-Type: text/html\n\n<p>654321</p>\n--b1--\n"
        );
        assert_eq!(code_in(&plain).as_deref(), Some("123456"));
        let qp = format!(
            "{HEAD}--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n\
             A purchase of =C2=A512,800 at a very long shop name that wraps the li=\nne.\n\n    \
             042042\n--b1--\n"
        );
        assert_eq!(code_in(&qp).as_deref(), Some("042042"));
        // "Code:\n\n    987654\n" in base64, broken over two lines.
        let b64 = format!(
            "{HEAD}--b1\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n\
             Q29kZToKCiAgI\nCA5ODc2NTQK\n--b1--\n"
        );
        assert_eq!(code_in(&b64).as_deref(), Some("987654"));
        let alert = format!("{HEAD}--b1\nContent-Type: text/plain\n\nA new browser.\n--b1--\n");
        assert_eq!(code_in(&alert), None);
    }

    #[test]
    fn decoders() {
        assert_eq!(base64("aGVsbG8="), b"hello");
        assert_eq!(quoted_printable("caf=C3=A9 =3D ok=\nay"), "café = okay");
    }
}
