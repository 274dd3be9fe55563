//! Mail that codes can rely on, over HTTP against a real verifier and SMTP receiver: one alert
//! per card and window however often the card is refused, and codes ahead of alerts.

use std::sync::Arc;

use crate::support::*;
use mamori_server::config::{Bounded, Config};
use mamori_server::model::NewMail;
use tokio::sync::Semaphore;

/// One delivery at a time, so the receiver sees mail in the order the worker takes it.
fn one_at_a_time(config: &mut Config) {
    config.mail.concurrency = Bounded::constant::<1>();
}

/// Someone holding a blocked card's number tries it again and again: its holder hears about
/// the first refusal of the window only, and about the first one of the next window.
#[tokio::test]
async fn repeated_rejections_of_a_card_alert_its_holder_once_per_window() {
    let mut server = TestServer::start_with(Options {
        tweak: one_at_a_time,
        ..Options::default()
    })
    .await;
    for n in 0..6 {
        let created = server.create(CARD_BLOCKED, 1000 + n, "01").await;
        let body = server
            .device(&created, &fingerprint("attacker"), None)
            .await;
        assert_eq!(body["outcome"], "rejected", "{body}");
    }
    // The next window: this refusal's alert is owed, and it is queued after any the first
    // window's refusals queued, so the worker (one mail at a time, in queue order) has
    // delivered all of those when it arrives.
    server.clock.advance(3600);
    let created = server.create(CARD_BLOCKED, 9000, "01").await;
    let body = server
        .device(&created, &fingerprint("attacker"), None)
        .await;
    assert_eq!(body["outcome"], "rejected", "{body}");

    let mut first_window = Vec::new();
    loop {
        let mail = server.next_mail().await;
        assert_eq!(mail.envelope_to, "holder2@example.com");
        assert!(mail.subject.contains("declined"), "{}", mail.subject);
        if mail.text.contains("9,000") {
            break;
        }
        first_window.push(mail);
    }
    assert_eq!(first_window.len(), 1, "one alert in the first window");
    assert!(
        first_window[0].text.contains("1,000"),
        "about the first refusal: {}",
        first_window[0].text
    );
}

/// A code queued behind a backlog of alerts is delivered before them: after at most the one
/// alert the worker (one delivery at a time) may have had under way, not after all twenty.
#[tokio::test]
async fn a_code_queued_behind_alerts_is_delivered_first() {
    // The receiver holds every delivery until the test lets it through, so the backlog is
    // still owed when the code is queued, whenever the worker first looks at it.
    let gate = Arc::new(Semaphore::new(0));
    let mut server = TestServer::start_with(Options {
        smtp_gate: Some(Arc::clone(&gate)),
        tweak: one_at_a_time,
        ..Options::default()
    })
    .await;
    for n in 0..20 {
        let alert = NewMail {
            kind: "alert_rejected".into(),
            recipient: format!("other{n}@example.com"),
            subject: format!("Important: alert {n}"),
            text: format!("alert {n}"),
            html: format!("<p>alert {n}</p>"),
            sandbox: None,
            dedupe: None,
            thread: None,
        };
        server.store.enqueue_mail(&alert, START).await.unwrap();
    }
    let created = server.create(CARD, 1000, "01").await;
    let body = server.device(&created, &fingerprint("laptop"), None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    gate.add_permits(21);

    let mut received = Vec::new();
    for _ in 0..21 {
        received.push(server.next_mail().await);
    }
    let code_at = received
        .iter()
        .position(|m| m.subject.contains("Your verification code"))
        .unwrap();
    assert!(code_at <= 1, "the code arrived as mail {}", code_at + 1);
    let mut alerts: Vec<_> = received.iter().map(|m| m.envelope_to.clone()).collect();
    alerts.sort();
    alerts.dedup();
    assert_eq!(alerts.len(), 21, "each mail once: {alerts:?}");
    assert_eq!(received[code_at].envelope_to, "holder0@example.com");
}
