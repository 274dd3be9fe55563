//! Conformance checks of [`CaseStore`] and [`BrowserStore`]: a report opens its case, every
//! allowed move happens once with its mail, every refused or stale move changes nothing, and
//! removing one trusted browser leaves every other trust alone.

use std::sync::Arc;

use mamori_core::token::{Method, Reason, TransStatus};
use tokio::task::JoinSet;

use super::{
    Failure, LIMITS, NOW, TRUSTED, authentication, cardholder, ch, drain_outbox, dv, fr, jpy, mail,
    mid, outcome, step,
};
use crate::model::{Amount, CaseId, CaseState, Device, FraudReport, ProtectionCase};
use crate::risk::RiskReason;
use crate::store::{
    Acceptance, CaseMove, CaseOpening, CodeIssue, DeviceNext, DeviceWrite, Store, TrustWrite,
};
use crate::webhooks::{NewEvent, Owner};

/// Runs the checks of this part.
pub(super) async fn run(store: &Arc<dyn Store>) -> Result<(), Failure> {
    a_report_opens_its_case(store.as_ref()).await?;
    every_move_is_allowed_or_refused_by_the_rule(store.as_ref()).await?;
    concurrent_moves_one_wins(store).await?;
    cases_are_listed_by_state_and_card(store.as_ref()).await?;
    removing_a_browser_leaves_other_trust_alone(store.as_ref()).await?;
    a_report_and_a_move_queue_their_events(store.as_ref()).await?;
    Ok(())
}

fn pc(id: &str) -> CaseId {
    CaseId::parse(id).expect("a case id")
}

/// The case a report on a fixture authentication opens.
pub(super) fn case_of(case_id: &str, report: &FraudReport, merchant: &str) -> ProtectionCase {
    ProtectionCase {
        id: pc(case_id),
        report_id: report.id.clone(),
        authentication_id: report.authentication_id.clone(),
        cardholder_id: report.cardholder_id.clone(),
        merchant_id: mid(merchant),
        merchant_name: format!("Shop {merchant}"),
        amount: Amount::new(12_800).expect("an amount"),
        currency: jpy(),
        purchased_at: NOW,
        browser: "Chromium, ja-JP, Asia/Tokyo".into(),
        method: Some(Method::Challenge),
        status: Some(TransStatus::NotAuthenticated),
        reason: Some(Reason::MAX_CHALLENGES),
        risk_reasons: vec![RiskReason::NoDeviceToken.into()],
        state: CaseState::Open,
        note: None,
        created_at: report.created_at,
        updated_at: report.created_at,
    }
}

/// Kinds of the mail queued since the outbox was last drained; drains it.
async fn queued(store: &dyn Store) -> Result<Vec<String>, Failure> {
    Ok(super::drain_outbox(store)
        .await?
        .into_iter()
        .map(|m| m.kind)
        .collect())
}

/// A merchant and a card for the case checks (once), and a new reported purchase of that card
/// with its case `pc_<tag>`, open.
async fn open_case(store: &dyn Store, tag: &str) -> Result<ProtectionCase, Failure> {
    open_case_queuing(store, tag, &[]).await
}

/// [`open_case`], queuing `events` with the report.
async fn open_case_queuing(
    store: &dyn Store,
    tag: &str,
    events: &[NewEvent],
) -> Result<ProtectionCase, Failure> {
    if store.merchant(&mid("m_cases")).await?.is_none() {
        let (m, k) = super::merchant("m_cases");
        store.insert_merchant(&m, &k).await?;
        store.insert_cardholder(&cardholder("ch_cases")).await?;
    }
    let a = authentication(&format!("au_case_{tag}"), "m_cases", Some("ch_cases"));
    store.insert_authentication(&a, None).await?;
    let report = FraudReport {
        id: fr(&format!("fr_case_{tag}")),
        cardholder_id: ch("ch_cases"),
        authentication_id: a.id,
        created_at: NOW + 1,
        resolved_at: None,
    };
    let case = case_of(&format!("pc_{tag}"), &report, "m_cases");
    let opened = store
        .report_fraud(
            &report,
            &CaseOpening {
                case: &case,
                mail: &mail("case_open"),
                events,
            },
        )
        .await?;
    ensure!(opened, "report {tag} opens its case");
    Ok(case)
}

/// Moves `case` from where it is to `to`, with a note and a mail of its own kind.
async fn try_move(
    store: &dyn Store,
    case: &ProtectionCase,
    from: CaseState,
    to: CaseState,
    now: i64,
) -> Result<bool, Failure> {
    let note = format!("to {to}");
    let mail = mail(&format!("case_{to}"));
    let change = CaseMove {
        id: &case.id,
        from,
        to,
        note: Some(&note),
        now,
        mail: &mail,
        events: &[],
    };
    Ok(store.move_case(&change).await?)
}

async fn a_report_opens_its_case(store: &dyn Store) -> Result<(), Failure> {
    drain_outbox(store).await?;
    let case = open_case(store, "opened").await?;
    let stored = store.case(&case.id).await?;
    ensure!(
        stored.as_ref() == Some(&case),
        "the case reads back as written: {stored:?}"
    );
    ensure!(
        queued(store).await? == ["case_open"],
        "the case's mail is queued with the report"
    );
    // The same purchase reported again: no second report, case or mail.
    let again = FraudReport {
        id: fr("fr_case_again"),
        cardholder_id: ch("ch_cases"),
        authentication_id: case.authentication_id.clone(),
        created_at: NOW + 2,
        resolved_at: None,
    };
    let second = case_of("pc_again", &again, "m_cases");
    let reported = store
        .report_fraud(
            &again,
            &CaseOpening {
                case: &second,
                mail: &mail("case_open"),
                events: &[],
            },
        )
        .await?;
    ensure!(!reported, "a purchase reported twice is one report");
    ensure!(store.case(&second.id).await?.is_none(), "and one case");
    ensure!(queued(store).await?.is_empty(), "and one mail");
    ensure!(
        store.case(&pc("pc_none")).await?.is_none(),
        "an unknown case is none"
    );
    Ok(())
}

async fn every_move_is_allowed_or_refused_by_the_rule(store: &dyn Store) -> Result<(), Failure> {
    for from in CaseState::ALL {
        for to in CaseState::ALL {
            let tag = format!("{from}_{to}");
            let case = open_case(store, &tag).await?;
            // Bring the case to `from` (it opens in `open`).
            if from != CaseState::Open {
                ensure!(
                    try_move(store, &case, CaseState::Open, from, NOW + 2).await?,
                    "{tag}: reaching {from}"
                );
            }
            drain_outbox(store).await?;
            let before = store.case(&case.id).await?;
            let moved = try_move(store, &case, from, to, NOW + 3).await?;
            let after = store.case(&case.id).await?;
            let mails = queued(store).await?;
            if from.can_move_to(to) {
                ensure!(moved, "{tag}: allowed");
                ensure!(
                    after
                        .as_ref()
                        .map(|c| (c.state, c.note.as_deref(), c.updated_at))
                        == Some((to, Some(format!("to {to}").as_str()), NOW + 3)),
                    "{tag}: state, note and time written: {after:?}"
                );
                ensure!(
                    mails == [format!("case_{to}")],
                    "{tag}: one mail: {mails:?}"
                );
            } else {
                ensure!(!moved, "{tag}: refused");
                ensure!(after == before, "{tag}: nothing changed: {after:?}");
                ensure!(mails.is_empty(), "{tag}: no mail: {mails:?}");
            }
        }
    }
    // A stale move: allowed by the rule from where the caller thought the case was, but the
    // case has moved on.
    let case = open_case(store, "stale").await?;
    ensure!(
        try_move(
            store,
            &case,
            CaseState::Open,
            CaseState::UnderReview,
            NOW + 2
        )
        .await?,
        "stale: to review"
    );
    drain_outbox(store).await?;
    let before = store.case(&case.id).await?;
    ensure!(
        !try_move(store, &case, CaseState::Open, CaseState::Refunded, NOW + 3).await?,
        "a move from a state the case has left is refused"
    );
    ensure!(
        store.case(&case.id).await? == before,
        "stale: nothing changed"
    );
    ensure!(queued(store).await?.is_empty(), "stale: no mail");
    // A move without a note keeps the last one.
    let keep = mail("case_refunded");
    ensure!(
        store
            .move_case(&CaseMove {
                id: &case.id,
                from: CaseState::UnderReview,
                to: CaseState::Refunded,
                note: None,
                now: NOW + 4,
                mail: &keep,
                events: &[],
            })
            .await?,
        "refund without a note"
    );
    let after = store.case(&case.id).await?;
    ensure!(
        after.as_ref().and_then(|c| c.note.as_deref()) == Some("to under_review"),
        "the last note stays: {after:?}"
    );
    drain_outbox(store).await?;
    Ok(())
}

async fn concurrent_moves_one_wins(store: &Arc<dyn Store>) -> Result<(), Failure> {
    let case = open_case(store.as_ref(), "race").await?;
    drain_outbox(store.as_ref()).await?;
    let targets = [
        CaseState::UnderReview,
        CaseState::Refunded,
        CaseState::Declined,
    ];
    let mut tasks = JoinSet::new();
    for round in 0..4 {
        for to in targets {
            let store = Arc::clone(store);
            let case = case.clone();
            tasks.spawn(async move {
                let won =
                    try_move(store.as_ref(), &case, CaseState::Open, to, NOW + 5 + round).await?;
                Ok::<_, Failure>(won.then_some(to))
            });
        }
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let won = joined.map_err(|e| Failure(format!("task: {e}")))??;
        winners.extend(won);
    }
    ensure!(winners.len() == 1, "exactly one move wins: {winners:?}");
    let state = store.case(&case.id).await?.map(|c| c.state);
    ensure!(
        state == winners.first().copied(),
        "the case is where the winner moved it: {state:?}"
    );
    let mails = queued(store.as_ref()).await?;
    ensure!(mails.len() == 1, "one mail, the winner's: {mails:?}");
    Ok(())
}

async fn cases_are_listed_by_state_and_card(store: &dyn Store) -> Result<(), Failure> {
    let all = store.cases(None).await?;
    ensure!(
        all.iter().any(|c| c.id == "pc_opened") && all.iter().any(|c| c.id == "pc_stale"),
        "every case is listed"
    );
    ensure!(
        all.windows(2).all(|w| w[0].created_at <= w[1].created_at),
        "oldest first"
    );
    for state in CaseState::ALL {
        let listed = store.cases(Some(state)).await?;
        ensure!(
            listed.iter().all(|c| c.state == state),
            "only {state} cases listed as {state}"
        );
        ensure!(
            listed.len() == all.iter().filter(|c| c.state == state).count(),
            "every {state} case listed"
        );
    }
    let unresolved = store.unresolved_cases_of(&ch("ch_cases")).await?;
    ensure!(
        !unresolved.is_empty() && unresolved.iter().all(|c| c.state.is_unresolved()),
        "the card's undecided cases: {unresolved:?}"
    );
    ensure!(
        unresolved.len()
            == all
                .iter()
                .filter(|c| c.cardholder_id == "ch_cases" && c.state.is_unresolved())
                .count(),
        "every undecided case of the card"
    );
    ensure!(
        store
            .unresolved_cases_of(&ch("ch_nobody"))
            .await?
            .is_empty(),
        "another card's are not listed"
    );
    Ok(())
}

/// Makes `card` trust `device` through a correct code on a new purchase `au` at `created_at`.
async fn trust(
    store: &dyn Store,
    au: &str,
    card: &str,
    device: DeviceWrite<'_>,
    created_at: i64,
) -> Result<(), Failure> {
    let a = crate::model::Authentication {
        created_at,
        ..authentication(au, "m_browsers", Some(card))
    };
    store.insert_authentication(&a, None).await?;
    let code = CodeIssue {
        digest: vec![9; 32],
        expires_at: NOW + 600,
    };
    let challenged = store
        .record_device_step(
            &a.id,
            created_at,
            &step("192.0.2.9"),
            &DeviceNext::Challenge(code),
            None,
            &[],
        )
        .await?;
    ensure!(challenged, "{au}: challenged");
    let card = ch(card);
    let accepted = store
        .accept_code(
            &a.id,
            created_at,
            &LIMITS,
            &Acceptance {
                digest: &[9; 32],
                outcome: &outcome(TransStatus::Authenticated, "t"),
                trust: Some(TrustWrite {
                    device,
                    cardholder_id: &card,
                    expires_at: NOW + 1000,
                    alert: None,
                }),
                events: &[],
            },
        )
        .await?;
    ensure!(accepted == TRUSTED, "{au}: accepted");
    Ok(())
}

async fn removing_a_browser_leaves_other_trust_alone(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = super::merchant("m_browsers");
    store.insert_merchant(&m, &k).await?;
    for card in ["ch_browsers", "ch_browsers2"] {
        store.insert_cardholder(&cardholder(card)).await?;
    }
    let device = |id: &str| Device {
        id: dv(id),
        merchant_id: mid("m_browsers"),
        fingerprint: "{}".into(),
        public_key: None,
        created_at: NOW,
        expires_at: NOW + 1000,
        revoked_at: None,
    };
    let (first, second) = (device("dv_browsers1"), device("dv_browsers2"));
    // The card trusts two browsers; another card trusts the first of them too.
    trust(
        store,
        "au_browsers1",
        "ch_browsers",
        DeviceWrite::New(&first),
        NOW,
    )
    .await?;
    trust(
        store,
        "au_browsers2",
        "ch_browsers",
        DeviceWrite::New(&second),
        NOW + 1,
    )
    .await?;
    let refresh = DeviceWrite::Refresh {
        id: &first.id,
        fingerprint: "{}",
        public_key: None,
        expires_at: NOW + 1000,
    };
    trust(store, "au_browsers3", "ch_browsers2", refresh, NOW + 2).await?;
    // A later purchase in the first browser is its last use.
    trust(store, "au_browsers4", "ch_browsers", refresh, NOW + 3).await?;

    let card = ch("ch_browsers");
    let listed = store.trusted_browsers(&card, NOW + 10).await?;
    let seen: Vec<_> = listed
        .iter()
        .map(|b| (b.device_id.as_str(), b.trusted_since, b.last_used))
        .collect();
    ensure!(
        seen == [
            ("dv_browsers1", NOW, Some(NOW + 3)),
            ("dv_browsers2", NOW + 1, Some(NOW + 1)),
        ],
        "both browsers, oldest first, each last used at its newest purchase: {seen:?}"
    );
    ensure!(
        listed.iter().all(|b| b.merchant_name == "Shop m_browsers"
            && b.expires_at == NOW + 1000
            && b.browser.language.is_some()),
        "with its shop, expiry and browser: {listed:?}"
    );

    // Another card cannot remove a browser it does not trust.
    ensure!(
        !store
            .revoke_browser(&ch("ch_browsers2"), &second.id, NOW + 10)
            .await?,
        "a browser the card does not trust is not removed"
    );
    ensure!(
        store.trusted_browsers(&card, NOW + 10).await?.len() == 2,
        "and the card owning it keeps it"
    );

    ensure!(
        store.revoke_browser(&card, &first.id, NOW + 10).await?,
        "the card removes its first browser"
    );
    ensure!(
        !store.revoke_browser(&card, &first.id, NOW + 11).await?,
        "removing it twice changes nothing"
    );
    let left: Vec<_> = store
        .trusted_browsers(&card, NOW + 11)
        .await?
        .into_iter()
        .map(|b| b.device_id)
        .collect();
    ensure!(
        left == [second.id.clone()],
        "its other browser stays: {left:?}"
    );
    ensure!(
        store
            .trust(&first.id, &ch("ch_browsers2"))
            .await?
            .is_some_and(|t| t.is_live(NOW + 11)),
        "another card's trust in the removed browser stays"
    );
    ensure!(
        store
            .device(&first.id)
            .await?
            .is_some_and(|d| d.is_live(NOW + 11)),
        "the browser's device stays"
    );
    ensure!(
        store.trusted_browsers(&card, NOW + 1000).await?.is_empty(),
        "an expired trust is not listed"
    );
    ensure!(
        !store.revoke_browser(&card, &second.id, NOW + 1000).await?,
        "nor removed"
    );
    Ok(())
}

/// An issuer's event for the case checks, named `id`.
fn issuer_event(id: &str, event_type: &'static str) -> NewEvent {
    NewEvent {
        owner: Owner::Issuer,
        message_id: id.to_owned(),
        event_type,
        body: format!("{{\"id\":\"{id}\"}}"),
    }
}

/// The `webhook-id`s of the events owed at `at`, settled as delivered (so that a later call
/// sees only what was queued since).
async fn owed_events(store: &dyn Store, at: i64) -> Result<Vec<String>, Failure> {
    let mut owed = Vec::new();
    for event in store.claim_webhook_events(at, 60, 100_000).await? {
        store.webhook_delivered(event.id, event.claim, at).await?;
        owed.push(event.message_id);
    }
    Ok(owed)
}

async fn a_report_and_a_move_queue_their_events(store: &dyn Store) -> Result<(), Failure> {
    store
        .set_webhook(
            &Owner::Issuer,
            "https://issuer.example/cases",
            &[7; 80],
            NOW,
        )
        .await?;
    // Far enough ahead that every event is due.
    let mut at = NOW + 100_000_000;
    owed_events(store, at).await?;

    let reported = issuer_event("msg_case_reported", "fraud_report.created");
    let case = open_case_queuing(store, "evented", std::slice::from_ref(&reported)).await?;
    at += 100;
    ensure!(
        owed_events(store, at).await? == [reported.message_id.clone()],
        "the report's event is queued with it"
    );

    let moved = issuer_event("msg_case_moved", "protection_case.updated");
    let mail = mail("case_refunded");
    let mut change = CaseMove {
        id: &case.id,
        from: CaseState::Open,
        to: CaseState::Refunded,
        note: None,
        now: NOW + 5,
        mail: &mail,
        events: std::slice::from_ref(&moved),
    };
    ensure!(store.move_case(&change).await?, "open → refunded");
    at += 100;
    let owed = owed_events(store, at).await?;
    ensure!(
        owed == [moved.message_id.clone()],
        "the move's event is queued with it: {owed:?}"
    );
    // A stale move changes nothing, its event included.
    let stale = issuer_event("msg_case_stale", "protection_case.updated");
    change.to = CaseState::Declined;
    change.events = std::slice::from_ref(&stale);
    ensure!(!store.move_case(&change).await?, "a stale move is refused");
    at += 100;
    ensure!(
        owed_events(store, at).await?.is_empty(),
        "a refused move queues no event"
    );
    store.remove_webhook(&Owner::Issuer).await?;
    Ok(())
}
