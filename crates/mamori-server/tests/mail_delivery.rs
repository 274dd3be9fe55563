//! Mail as it leaves the verifier: its headers and DKIM signature, and TLS to the relay —
//! STARTTLS and implicit TLS against a relay whose certificate comes from a test CA, and a
//! relay that offers no STARTTLS, which must fail the delivery rather than go out in clear.

// The helpers outside `#[test]` panic to fail the test, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use mamori_server::config::{Bounded, MailConfig, TlsMode};
use mamori_server::mail::{Mailer, SmtpMailer};
use mamori_server::model::Mail;
use serde_json::json;
use support::dkim_key::{FROM, keygen, new_key};
use support::relay::{self, Delivered, Relay, Security};
use support::{CARD, TestServer, fingerprint};

fn mail(id: i64) -> Mail {
    Mail {
        id,
        kind: "code".into(),
        recipient: "taro@example.com".into(),
        subject: "Your verification code for Shop".into(),
        text: "Here is your code\n\n    123456\n".into(),
        html: "<p>Here is your code</p><p>123456</p>".into(),
        attempts: 1,
        thread: None,
    }
}

/// A mail configuration for `relay` with `tls`, trusting `ca_file`, signing with `key_file`.
fn config(relay: &Relay, tls: TlsMode, ca_file: Option<PathBuf>, key: Option<&Path>) -> MailConfig {
    let mut config = MailConfig {
        from: FROM.into(),
        ..MailConfig::default()
    };
    config.smtp.host = "127.0.0.1".into();
    config.smtp.port = relay.port;
    config.smtp.tls = tls;
    config.smtp.timeout = Bounded::constant::<10>();
    config.smtp.ca_file = ca_file;
    config.dkim.key_file = key.map(Path::to_path_buf);
    config
}

fn ca_file(dir: &Path, relay: &Relay) -> PathBuf {
    let path = dir.join("ca.pem");
    std::fs::write(&path, &relay.ca_pem).unwrap();
    path
}

async fn next(relay: &mut Relay) -> Delivered {
    tokio::time::timeout(Duration::from_secs(10), relay.delivered.recv())
        .await
        .expect("a mail within 10 s")
        .expect("the relay is running")
}

/// The header `name` of `raw`, unfolded.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    head.split("\r\n")
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::to_owned)
}

fn mail_from_commands(relay: &Relay) -> usize {
    let commands = relay.commands.lock().unwrap();
    commands
        .iter()
        .filter(|c| c.to_ascii_uppercase().starts_with("MAIL FROM"))
        .count()
}

#[tokio::test]
async fn starttls_to_a_relay_of_a_configured_ca_with_every_header() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay::start(Security::Starttls).await;
    let (key, _) = new_key(dir.path(), "s1", "ed25519");
    let ca = ca_file(dir.path(), &relay);
    let mut config = config(&relay, TlsMode::Starttls, Some(ca), Some(&key));
    config.dkim.selector = "s1".into();
    let mailer = SmtpMailer::new(&config).unwrap();
    mailer.send(&mail(1)).await.unwrap();
    mailer.send(&mail(2)).await.unwrap();
    let first = next(&mut relay).await;
    let second = next(&mut relay).await;
    assert!(first.tls && second.tls);
    let commands = relay.commands.lock().unwrap().clone();
    let starttls = commands.iter().position(|c| c == "STARTTLS").unwrap();
    let mail_from = commands
        .iter()
        .position(|c| c.starts_with("MAIL FROM"))
        .unwrap();
    assert!(starttls < mail_from, "{commands:?}");

    let raw = String::from_utf8(first.raw).unwrap();
    let id = header(&raw, "Message-ID").unwrap();
    let id = id.as_str();
    assert!(
        id.starts_with('<') && id.ends_with(".mamori@issuer.example>"),
        "{raw}"
    );
    let other = String::from_utf8(second.raw).unwrap();
    assert_ne!(
        header(&other, "Message-ID").as_deref(),
        Some(id),
        "each mail its own id"
    );
    assert_eq!(
        header(&raw, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert!(header(&raw, "Date").is_some(), "{raw}");
    let signature = header(&raw, "DKIM-Signature").unwrap();
    for tag in [
        "a=ed25519-sha256",
        "d=issuer.example",
        "s=s1",
        "c=relaxed/relaxed",
    ] {
        assert!(signature.contains(tag), "{tag} in {signature}");
    }
    let signed = signature
        .split("h=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    for name in [
        "From",
        "To",
        "Subject",
        "Date",
        "Message-ID",
        "Auto-Submitted",
    ] {
        assert!(
            signed
                .split(':')
                .any(|h| h.trim().eq_ignore_ascii_case(name)),
            "{signed}"
        );
    }
    assert!(first.mail.text.contains("123456"));
    assert!(first.mail.html.contains("123456"));
}

#[tokio::test]
async fn implicit_tls_to_a_relay_of_a_configured_ca() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay::start(Security::Implicit).await;
    let ca = ca_file(dir.path(), &relay);
    let mailer = SmtpMailer::new(&config(&relay, TlsMode::Tls, Some(ca), None)).unwrap();
    mailer.send(&mail(1)).await.unwrap();
    let delivered = next(&mut relay).await;
    assert!(delivered.tls);
    let raw = String::from_utf8(delivered.raw).unwrap();
    assert!(
        header(&raw, "DKIM-Signature").is_none(),
        "no key, no signature"
    );
    assert!(header(&raw, "Message-ID").is_some());
}

/// Mails sent six at a time through a mailer of `mail.concurrency = 2` travel over two
/// connections, each secured by STARTTLS once and then reused, and never over more: a mail
/// waits for a free connection rather than opening a third.
#[tokio::test]
async fn connections_are_bounded_and_reused_between_mails() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay::start(Security::Starttls).await;
    let ca = ca_file(dir.path(), &relay);
    let mut config = config(&relay, TlsMode::Starttls, Some(ca), None);
    config.concurrency = Bounded::constant::<2>();
    let mailer = Arc::new(SmtpMailer::new(&config).unwrap());
    let mut sends = tokio::task::JoinSet::new();
    for id in 0..6 {
        let mailer = Arc::clone(&mailer);
        sends.spawn(async move { mailer.send(&mail(id)).await });
    }
    while let Some(sent) = sends.join_next().await {
        sent.unwrap().unwrap();
    }
    // And one more, after the others: it finds a connection waiting.
    mailer.send(&mail(6)).await.unwrap();
    for _ in 0..7 {
        assert!(next(&mut relay).await.tls);
    }
    assert_eq!(relay.connections.load(Ordering::SeqCst), 2);
    let commands = relay.commands.lock().unwrap().clone();
    let count = |verb: &str| commands.iter().filter(|c| c.starts_with(verb)).count();
    assert_eq!(count("STARTTLS"), 2, "{commands:?}");
    assert_eq!(count("MAIL FROM"), 7, "{commands:?}");
}

/// A connection the relay closed while it waited is not used for the next mail: that mail goes
/// out on a new connection instead of failing.
#[tokio::test]
async fn a_connection_the_relay_closed_is_replaced() {
    let mut relay = relay::start(Security::Plain).await;
    relay.hang_up.store(true, Ordering::SeqCst);
    let mailer = SmtpMailer::new(&config(&relay, TlsMode::None, None, None)).unwrap();
    mailer.send(&mail(1)).await.unwrap();
    next(&mut relay).await;
    mailer.send(&mail(2)).await.unwrap();
    next(&mut relay).await;
    assert_eq!(relay.connections.load(Ordering::SeqCst), 2);
}

/// A relay (or whoever stripped the offer from its EHLO answer) that does not offer STARTTLS
/// gets no mail in clear: the send fails before MAIL FROM, and the outbox retries it.
#[tokio::test]
async fn no_starttls_on_offer_is_a_failed_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay::start(Security::Plain).await;
    let ca = ca_file(dir.path(), &relay);
    let mailer = SmtpMailer::new(&config(&relay, TlsMode::Starttls, Some(ca), None)).unwrap();
    let error = mailer.send(&mail(1)).await.unwrap_err();
    assert!(error.to_ascii_lowercase().contains("starttls"), "{error}");
    assert_eq!(mail_from_commands(&relay), 0);
    assert!(relay.delivered.try_recv().is_err());
}

/// Without the test CA among its anchors the verifier refuses the relay's certificate, over
/// STARTTLS and over implicit TLS alike.
#[tokio::test]
async fn a_relay_of_an_unknown_ca_is_refused() {
    for (security, tls) in [
        (Security::Starttls, TlsMode::Starttls),
        (Security::Implicit, TlsMode::Tls),
    ] {
        let mut relay = relay::start(security).await;
        let mailer = SmtpMailer::new(&config(&relay, tls, None, None)).unwrap();
        let error = mailer.send(&mail(1)).await.unwrap_err();
        assert!(
            error.to_ascii_lowercase().contains("certificate"),
            "{error}"
        );
        assert_eq!(mail_from_commands(&relay), 0);
        assert!(relay.delivered.try_recv().is_err());
    }
}

#[tokio::test]
async fn unusable_key_and_ca_files_stop_the_mailer() {
    let dir = tempfile::tempdir().unwrap();
    let relay = relay::start(Security::Starttls).await;
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let missing = dir.path().join("missing.pem");
    let refused = |config: MailConfig| match SmtpMailer::new(&config) {
        Ok(_) => panic!("accepted {config:?}"),
        Err(e) => e,
    };
    let e = refused(config(&relay, TlsMode::None, None, Some(&not_pem)));
    assert!(e.starts_with("mail.dkim.key_file"), "{e}");
    let e = refused(config(&relay, TlsMode::None, None, Some(&missing)));
    assert!(e.starts_with("mail.dkim.key_file"), "{e}");
    let e = refused(config(&relay, TlsMode::Starttls, Some(not_pem), None));
    assert!(e.starts_with("mail.smtp.ca_file"), "{e}");
    let (key, _) = new_key(dir.path(), "s1", "ed25519");
    let mut bad_selector = config(&relay, TlsMode::None, None, Some(&key));
    bad_selector.dkim.selector = "a b".into();
    assert!(refused(bad_selector).contains("mail.dkim.selector"));
}

/// A purchase's mails through the whole verifier: the resend and the alert after the correct
/// code answer the first code mail, so a mail client shows them as one thread.
#[tokio::test]
async fn a_purchases_mails_thread_under_its_first_code() {
    let mut server = TestServer::start().await;
    let created = server.create(CARD, 12_800, "01").await;
    let body = server.device(&created, &fingerprint("thread"), None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let first = server.next_mail().await;
    server.clock.advance(31);
    let (status, body) = server
        .widget(&created, "/challenge/resend", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let resent = server.next_mail().await;
    let (status, body) = server.verify(&created, &resent.code()).await;
    assert_eq!(status, 200, "{body}");
    let alert = server.next_mail().await;
    assert_eq!(alert.subject, "A new browser was trusted");

    // The test receiver keeps LF line ends.
    let header = |raw: &str, name: &str| header(&raw.replace('\n', "\r\n"), name);
    let id = header(&first.raw, "Message-ID").unwrap();
    assert!(id.ends_with(".code0@localhost>"), "{id}");
    assert_eq!(header(&first.raw, "In-Reply-To"), None);
    let resent_id = header(&resent.raw, "Message-ID").unwrap();
    assert!(resent_id.ends_with(".code1@localhost>"), "{resent_id}");
    for mail in [&resent, &alert] {
        assert_eq!(header(&mail.raw, "In-Reply-To").as_ref(), Some(&id));
        assert_eq!(header(&mail.raw, "References").as_ref(), Some(&id));
    }
    assert_ne!(header(&alert.raw, "Message-ID").as_ref(), Some(&id));

    // Another purchase is another thread.
    let other = server.create(CARD, 9_800, "04").await;
    let body = server.device(&other, &fingerprint("thread"), None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let theirs = header(&server.next_mail().await.raw, "Message-ID").unwrap();
    assert!(
        theirs.ends_with(".code0@localhost>") && theirs != id,
        "{theirs}"
    );
}

#[test]
fn keygen_writes_a_private_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let (key, record) = new_key(dir.path(), "s2026", "ed25519");
    assert!(record.starts_with("v=DKIM1; k=ed25519; p="), "{record}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&key).unwrap();
    let again = keygen(&key, "s2026", "ed25519", &[]);
    assert!(!again.success);
    assert!(
        again
            .output
            .contains("already exists; a DKIM key is never replaced"),
        "{}",
        again.output
    );
    assert_eq!(std::fs::read(&key).unwrap(), before);
}

#[test]
fn keygen_json_names_the_file_and_the_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("s2027.pem");
    let made = keygen(&key, "s2027", "rsa", &["--json"]);
    assert!(made.success, "{}", made.output);
    let printed: serde_json::Value = serde_json::from_str(&made.output).unwrap();
    assert_eq!(printed["key_file"], key.to_str().unwrap());
    assert_eq!(printed["name"], "s2027._domainkey.issuer.example");
    let value = printed["value"].as_str().unwrap();
    // An RSA record is longer than one TXT string: JSON carries it whole.
    assert!(
        value.starts_with("v=DKIM1; k=rsa; p=") && value.len() > 255,
        "{value}"
    );
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
}
