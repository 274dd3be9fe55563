//! Every template (code, resend, the three alerts, the four case mails, the notice of a changed
//! address), in Japanese and
//! English, signed with an RSA and an Ed25519 key made by `mamori dkim keygen`, delivered over
//! SMTP and checked as a receiving mailbox would:
//!
//! - the DKIM signature verifies (dkimpy, against the record keygen printed);
//! - SpamAssassin's local rules (`spamassassin -L -t`) score it at most [`MAX_SCORE`];
//! - `Message-ID` (under the sender's domain), `Date` and `Auto-Submitted` are present;
//! - both parts decode (Python's `email` package, strict policy) and name the merchant;
//! - the resend and the alerts that follow a challenge answer the first code mail
//!   (`In-Reply-To`, `References`);
//! - a code is in its code mail's body only: never in a subject, an alert or another mail.
//!
//! It needs `spamassassin` on the `PATH` and a Python with dkimpy and PyNaCl in
//! `MAMORI_MAIL_PYTHON`: `cargo xtask test` provisions both and runs this target as its own
//! step (a plain `cargo test` leaves it out, see Cargo.toml). Each score is printed.

// The helpers outside `#[test]` panic to fail the test, like the tests themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use mamori_server::config::MailConfig;
use mamori_server::mail::templates::{
    AddressChangeFacts, Alert, CaseFacts, PurchaseFacts, address_changed_mail, alert_mail,
    case_mail, code_mail,
};
use mamori_server::mail::{Mailer, SmtpMailer};
use mamori_server::model::{
    Amount, AuthenticationId, CaseState, Currency, Locale, Mail, MailThread, NewMail,
};
use serde_json::Value;
use support::dkim_key::{FROM, new_key};
use support::relay::{self, Security};

/// The highest SpamAssassin score a mail may get from the local rules.
const MAX_SCORE: f64 = 0.5;

/// The codes in the code mail and its resend; found anywhere else, they leaked.
const CODES: [&str; 2] = ["493817", "805264"];

/// The Python with dkimpy; `python3` when unset.
const PYTHON_VARIABLE: &str = "MAMORI_MAIL_PYTHON";

fn facts(locale: Locale) -> PurchaseFacts<'static> {
    PurchaseFacts {
        recipient: "taro@example.com",
        locale,
        merchant: "Sakura Books",
        sandbox: None,
        amount: Amount::new(12_800).unwrap(),
        currency: Currency::new("JPY").unwrap(),
        time: 1_800_000_000,
        browser: "Chromium, ja-JP, Asia/Tokyo",
        report_url: "https://safekey.issuer.example/report/rp_8f3a2c?t=Zq1",
        selfservice_url: Some(
            "https://safekey.issuer.example/me/ch_5a1e2b7c.1802592000.9f2c4e1a7b3d5f60",
        ),
    }
}

/// Every mail of one purchase in `locale`, threaded as the flow threads them (`flow::notice`):
/// the code, its resend, and each alert, with its name and the code it carries; then the case
/// mails and the notice of a changed address.
fn templates(locale: Locale) -> Vec<(&'static str, Option<&'static str>, NewMail)> {
    let facts = facts(locale);
    let auth = AuthenticationId::from_static("au_5a1e2b7c9d0f4e3a8b6c1d2e3f4a5b6c");
    let code = |n: u32| NewMail {
        thread: Some(MailThread::code(&auth, n)),
        ..code_mail(&facts, CODES[n as usize], 1_800_000_600)
    };
    let alert = |alert: Alert| NewMail {
        thread: (alert != Alert::Rejected).then(|| MailThread::after_code(&auth)),
        ..alert_mail(&facts, alert)
    };
    let case = CaseFacts {
        recipient: facts.recipient,
        locale,
        merchant: facts.merchant,
        amount: facts.amount,
        currency: facts.currency,
        time: facts.time,
        selfservice_url: facts.selfservice_url.unwrap(),
    };
    vec![
        ("code", Some(CODES[0]), code(0)),
        ("resend", Some(CODES[1]), code(1)),
        ("alert_failed", None, alert(Alert::ChallengeFailed)),
        ("alert_rejected", None, alert(Alert::Rejected)),
        ("alert_new_device", None, alert(Alert::NewDevice)),
        ("case_open", None, case_mail(&case, CaseState::Open)),
        (
            "case_under_review",
            None,
            case_mail(&case, CaseState::UnderReview),
        ),
        ("case_refunded", None, case_mail(&case, CaseState::Refunded)),
        ("case_declined", None, case_mail(&case, CaseState::Declined)),
        (
            "address_changed",
            None,
            address_changed_mail(&AddressChangeFacts {
                former: facts.recipient,
                locale,
                last4: "0005",
                time: facts.time,
            }),
        ),
    ]
}

fn python() -> String {
    std::env::var(PYTHON_VARIABLE).unwrap_or_else(|_| "python3".to_owned())
}

/// SpamAssassin's score of the mail in `path`, and the rules that fired.
fn spam_score(path: &Path) -> (f64, String) {
    let output = Command::new("spamassassin")
        .args(["-L", "-t"])
        .stdin(Stdio::from(std::fs::File::open(path).unwrap()))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run spamassassin ({e}); `cargo xtask test` installs it (Debian)")
        });
    let report = String::from_utf8_lossy(&output.stdout).replace("\n\t", " ");
    let status = report
        .lines()
        .find(|l| l.starts_with("X-Spam-Status:"))
        .unwrap_or_else(|| panic!("no X-Spam-Status in {report}"));
    let score = status
        .split("score=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();
    let tests = status
        .split("tests=")
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .next();
    (score, tests.unwrap_or("").to_owned())
}

/// dkimpy's and Python's email package's view of the mail in `path`.
fn python_view(path: &Path, selector: &str, record: &str) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail_checks.py");
    let output = Command::new(python())
        .arg(script)
        .arg(path)
        .arg(format!("{selector}._domainkey.issuer.example."))
        .arg(record)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} ({e}); set {PYTHON_VARIABLE}", python()));
    assert!(
        output.status.success(),
        "{PYTHON_VARIABLE}={} needs dkimpy and PyNaCl (`cargo xtask test` makes such a venv): {}",
        python(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_template_is_signed_and_scores_low() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay::start(Security::Plain).await;
    let mut checked = 0;
    for (selector, algorithm) in [("rsa2026", "rsa"), ("ed2026", "ed25519")] {
        let (key, record) = new_key(dir.path(), selector, algorithm);
        let mut config = MailConfig {
            from: FROM.into(),
            ..MailConfig::default()
        };
        config.smtp.host = "127.0.0.1".into();
        config.smtp.port = relay.port;
        config.dkim.selector = selector.into();
        config.dkim.key_file = Some(key);
        let mailer = SmtpMailer::new(&config).unwrap();
        for locale in [Locale::Ja, Locale::En] {
            let mut first_code = None;
            for (n, (template, code, new)) in templates(locale).into_iter().enumerate() {
                let mail = Mail {
                    id: i64::try_from(n).unwrap(),
                    kind: new.kind,
                    recipient: new.recipient,
                    subject: new.subject,
                    text: new.text,
                    html: new.html,
                    attempts: 1,
                    thread: new.thread,
                };
                mailer.send(&mail).await.unwrap();
                let delivered =
                    tokio::time::timeout(Duration::from_secs(10), relay.delivered.recv())
                        .await
                        .expect("a mail within 10 s")
                        .unwrap();
                let name = format!("{template}-{}-{algorithm}", locale.as_str());
                let path = dir.path().join(format!("{name}.eml"));
                std::fs::write(&path, &delivered.raw).unwrap();

                let view = python_view(&path, selector, &record);
                assert_eq!(view["dkim"], true, "{name}: DKIM does not verify");
                let id = view["message_id"].as_str().unwrap_or_default().to_owned();
                assert!(
                    id.ends_with("@issuer.example>"),
                    "{name}: Message-ID {id:?}"
                );
                assert!(view["date"].is_string(), "{name}: no Date");
                assert_eq!(view["auto_submitted"], "auto-generated", "{name}");
                // Threaded under the first code mail: all but it, the refusal, which comes
                // before any code, and the case mails, which follow a report, not a purchase.
                let parent = match template {
                    "code" => {
                        first_code = Some(id.clone());
                        None
                    }
                    "alert_rejected" | "address_changed" => None,
                    case if case.starts_with("case_") => None,
                    _ => first_code.clone(),
                };
                for header in ["in_reply_to", "references"] {
                    assert_eq!(view[header].as_str(), parent.as_deref(), "{name}: {header}");
                }
                let (text, html) = (
                    view["text"].as_str().unwrap(),
                    view["html"].as_str().unwrap(),
                );
                // Every mail names what it is about: a purchase its merchant and amount, the
                // notice of a changed address the card, in both languages.
                let about: [&str; 2] = if template == "address_changed" {
                    ["末尾 0005", "ending 0005"]
                } else {
                    ["Sakura Books", "¥12,800"]
                };
                for part in [text, html] {
                    assert!(about.iter().all(|a| part.contains(a)), "{name}");
                }
                let raw = String::from_utf8(delivered.raw).unwrap();
                for leaked in CODES.iter().filter(|c| Some(**c) != code) {
                    assert!(!raw.contains(leaked), "{name} carries another mail's code");
                }
                if let Some(code) = code {
                    assert!(
                        text.contains(code) && html.contains(code),
                        "{name}: no code"
                    );
                    assert!(!view["subject"].as_str().unwrap().contains(code), "{name}");
                }

                let (score, tests) = spam_score(&path);
                println!("spamassassin -L -t: {name}: score {score} ({tests})");
                assert!(score <= MAX_SCORE, "{name}: score {score} ({tests})");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 40);
}
