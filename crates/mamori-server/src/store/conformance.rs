//! The suite every [`Store`] backend must pass.
//!
//! Each backend's tests open a fresh, empty store and call [`run_all`]; a failure names the
//! check and the broken expectation. The checks use their own ids, so they can share one
//! database, and they drive the conditional updates concurrently where a race is the point.

// The fixtures below are built from constants; a value they refuse is a bug in the suite, which
// panics like a test would.
#![allow(clippy::expect_used)]

use std::sync::Arc;

use mamori_core::token::{Eci, Method, Reason, TransStatus};
use tokio::task::JoinSet;

use super::{
    Accept, Acceptance, CaseOpening, CodeIssue, DeviceNext, DeviceWrite, Limits, Resend, StepQuery,
    StepReads, Store, StoreError, TrustWrite, WrongCode,
};
use crate::model::{
    Amount, Assessment, Authentication, AuthenticationId, BrowserInfo, CardStatus, Cardholder,
    CardholderId, Ceilings, ChallengePreference, Currency, Device, DeviceId, Final, FraudReport,
    IdempotencyKey, KeyId, Locale, Merchant, MerchantId, MerchantKey, NewMail, OrderRef, Outcome,
    Progress, ReportId, SandboxMailbox, State,
};
use crate::model::{Dedupe, Mail, MailThread};
use crate::risk::{History, RiskReason};

/// A broken expectation: which check, and what went wrong.
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self(format!("store error: {error}"))
    }
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(Failure(format!("{}:{}: {}", file!(), line!(), format!($($msg)+))));
        }
    };
}

// After `ensure!`, which the part suites use too.
mod admin;
mod cases;
mod webhooks;

const NOW: i64 = 1_800_000_000;
/// What accepting a code that trusts a browser answers.
const TRUSTED: Accept = Accept::Accepted { trusted: true };
const LIMITS: Limits = Limits {
    max_attempts: 5,
    max_resends: 3,
    resend_cooldown: 30,
};

/// Runs every check against `store`, which must start empty.
///
/// # Errors
///
/// The first [`Failure`].
pub async fn run_all(store: Arc<dyn Store>) -> Result<(), Failure> {
    let store = &store;
    store.ping().await?;
    merchants_and_key_rotation(store.as_ref()).await?;
    cardholders_are_unique_by_reference(store.as_ref()).await?;
    the_insert_finds_the_card_by_its_reference(store.as_ref()).await?;
    device_step_happens_once(store.as_ref()).await?;
    a_code_is_accepted_once(store).await?;
    a_blocked_card_accepts_no_code(store.as_ref()).await?;
    wrong_codes_are_counted_atomically(store).await?;
    resends_respect_limit_and_cooldown(store.as_ref()).await?;
    expiry_and_cancel(store.as_ref()).await?;
    overdue_authentications_are_listed(store.as_ref()).await?;
    history_counts(store.as_ref()).await?;
    the_device_step_reads_in_one(store.as_ref()).await?;
    a_long_history_reads_as_its_rows_say(store.as_ref()).await?;
    fraud_reports_revoke_the_cards_trust(store.as_ref()).await?;
    a_code_accepted_after_a_report_trusts_no_browser(store.as_ref()).await?;
    outbox_claims_are_exclusive(store).await?;
    idempotency_keys_bind_one_authentication(store.as_ref()).await?;
    an_order_has_one_live_authentication(store).await?;
    sandbox_mail_is_kept_per_merchant(store.as_ref()).await?;
    codes_are_claimed_before_alerts(store.as_ref()).await?;
    mail_keeps_its_thread(store.as_ref()).await?;
    alerts_are_deduplicated_per_card_and_window(store).await?;
    a_renewed_claim_holds_and_a_stale_one_cannot_renew(store.as_ref()).await?;
    settled_mail_is_scrubbed(store.as_ref()).await?;
    requests_are_counted_once_each(store).await?;
    admin::run_all(store).await?;
    webhooks::run_all(store).await?;
    cases::run(store).await?;
    Ok(())
}

fn au(id: &str) -> AuthenticationId {
    AuthenticationId::parse(id).expect("an authentication id")
}

fn mid(id: &str) -> MerchantId {
    MerchantId::parse(id).expect("a merchant id")
}

fn kid(id: &str) -> KeyId {
    KeyId::parse(id).expect("a key id")
}

fn ch(id: &str) -> CardholderId {
    CardholderId::parse(id).expect("a cardholder id")
}

fn dv(id: &str) -> DeviceId {
    DeviceId::parse(id).expect("a device id")
}

fn fr(id: &str) -> ReportId {
    ReportId::parse(id).expect("a report id")
}

fn merchant(id: &str) -> (Merchant, MerchantKey) {
    (
        Merchant {
            id: mid(id),
            name: format!("Shop {id}"),
            origins: vec!["https://a.example".into(), "https://b.example".into()],
            sandbox: true,
            created_at: NOW,
            webhook: false,
        },
        MerchantKey {
            kid: kid(&format!("{id}-k1")),
            merchant_id: mid(id),
            secret: vec![7; 32],
            created_at: NOW,
            retire_at: None,
        },
    )
}

fn jpy() -> Currency {
    Currency::new("JPY").expect("a currency")
}

fn cardholder(id: &str) -> Cardholder {
    Cardholder {
        id: ch(id),
        card_ref: format!("ref-{id}"),
        last4: "0005".into(),
        email: format!("{id}@example.com"),
        locale: Locale::Ja,
        status: CardStatus::Active,
        frictionless_ceilings: Ceilings::parse("JPY:50000,USD:500").expect("ceilings"),
        created_at: NOW,
        contact_epoch: 0,
    }
}

fn authentication(id: &str, merchant: &str, card: Option<&str>) -> Authentication {
    Authentication {
        id: au(id),
        merchant_id: mid(merchant),
        cardholder_id: card.map(ch),
        amount: Amount::new(12_800).expect("an amount"),
        currency: jpy(),
        order_ref: OrderRef::parse(format!("order-{id}")).expect("an order reference"),
        challenge_preference: ChallengePreference::NoPreference,
        client_secret_hash: vec![1; 32],
        created_at: NOW,
        expires_at: NOW + 900,
        sandbox_card: None,
        progress: Progress::Pending,
    }
}

fn outcome(status: TransStatus, token: &str) -> Outcome {
    Outcome {
        status,
        eci: if status == TransStatus::Authenticated {
            Eci::Authenticated
        } else {
            Eci::NotAuthenticated
        },
        method: Method::Challenge,
        reason: (status != TransStatus::Authenticated).then_some(Reason::MAX_CHALLENGES),
        result_token: token.into(),
    }
}

fn mail(kind: &str) -> NewMail {
    NewMail {
        kind: kind.into(),
        recipient: "c@example.com".into(),
        subject: format!("subject {kind}"),
        text: format!("text {kind}"),
        html: format!("<p>html {kind}</p>"),
        sandbox: None,
        dedupe: None,
        thread: None,
    }
}

fn step(ip: &str) -> Assessment {
    Assessment {
        risk_score: 40,
        risk_reasons: vec![RiskReason::NoDeviceToken.into()],
        device_id: None,
        fingerprint: Some("{}".into()),
        ip: Some(ip.into()),
        browser: BrowserInfo::parse(Some("ja-JP"), Some("Asia/Tokyo"), Some("test")),
    }
}

/// A merchant, a card and a challenging authentication whose code digest is `[9; 32]`.
async fn challenging(store: &dyn Store, prefix: &str) -> Result<AuthenticationId, Failure> {
    let (m, k) = merchant(&format!("m_{prefix}"));
    store.insert_merchant(&m, &k).await?;
    store
        .insert_cardholder(&cardholder(&format!("ch_{prefix}")))
        .await?;
    let a = authentication(
        &format!("au_{prefix}"),
        m.id.as_str(),
        Some(&format!("ch_{prefix}")),
    );
    store.insert_authentication(&a, None).await?;
    let id = a.id;
    let code = CodeIssue {
        digest: vec![9; 32],
        expires_at: NOW + 600,
    };
    let moved = store
        .record_device_step(
            &id,
            NOW,
            &step("192.0.2.1"),
            &DeviceNext::Challenge(code),
            Some(&mail("code")),
            &[],
        )
        .await?;
    ensure!(
        moved,
        "device step on a pending authentication must succeed"
    );
    Ok(id)
}

/// Offers a code without a device or mail.
async fn try_code(
    store: &dyn Store,
    id: &AuthenticationId,
    now: i64,
    digest: &[u8],
) -> Result<bool, Failure> {
    let accept = Acceptance {
        digest,
        outcome: &outcome(TransStatus::Authenticated, "t"),
        trust: None,
        events: &[],
    };
    Ok(store.accept_code(id, now, &LIMITS, &accept).await? != Accept::Refused)
}

async fn merchants_and_key_rotation(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = merchant("m_keys");
    store.insert_merchant(&m, &k).await?;
    ensure!(
        matches!(
            store.insert_merchant(&m, &k).await,
            Err(StoreError::Conflict)
        ),
        "a second merchant with the same id must conflict"
    );
    ensure!(
        store.merchant(&mid("m_keys")).await?.as_ref() == Some(&m),
        "merchant round trip"
    );
    ensure!(
        store.merchant(&mid("m_nope")).await?.is_none(),
        "unknown merchant"
    );
    ensure!(
        store.merchants().await?.iter().any(|x| x.id == "m_keys"),
        "merchant listed"
    );
    let newer = MerchantKey {
        kid: kid("m_keys-k2"),
        secret: vec![8; 32],
        created_at: NOW + 10,
        ..k.clone()
    };
    store.rotate_key(&newer, NOW + 100).await?;
    let keys = store.merchant_keys(&mid("m_keys")).await?;
    ensure!(
        keys.len() == 2,
        "two keys after rotation, got {}",
        keys.len()
    );
    ensure!(keys[0] == newer, "the newest key comes first");
    ensure!(
        keys[1].retire_at == Some(NOW + 100),
        "the old key retires at the window's end"
    );
    ensure!(
        keys[1].is_live(NOW + 99) && !keys[1].is_live(NOW + 100),
        "overlap window"
    );
    ensure!(
        store
            .key_by_kid(&kid("m_keys-k1"))
            .await?
            .map(|k| k.merchant_id)
            == Some(mid("m_keys")),
        "key by kid"
    );
    ensure!(
        store.key_by_kid(&kid("nope")).await?.is_none(),
        "unknown kid"
    );
    // A second rotation keeps the first key's earlier retirement.
    let newest = MerchantKey {
        kid: kid("m_keys-k3"),
        created_at: NOW + 20,
        ..newer.clone()
    };
    store.rotate_key(&newest, NOW + 500).await?;
    let keys = store.merchant_keys(&mid("m_keys")).await?;
    let retire: Vec<_> = keys.iter().map(|k| k.retire_at).collect();
    ensure!(
        retire == vec![None, Some(NOW + 500), Some(NOW + 100)],
        "retirements after two rotations: {retire:?}"
    );
    Ok(())
}

/// An authentication inserted with only its card's reference belongs to the card enrolled
/// under it, found by the insert itself: to no card for an unknown reference or none, and a
/// cardholder the caller names wins over the reference. The keyed insert does the same.
async fn the_insert_finds_the_card_by_its_reference(store: &dyn Store) -> Result<(), Failure> {
    let (m, key) = merchant("m_by_ref");
    store.insert_merchant(&m, &key).await?;
    let card = cardholder("ch_by_ref");
    let named = cardholder("ch_by_ref_named");
    store.insert_cardholder(&card).await?;
    store.insert_cardholder(&named).await?;
    let cases = [
        (
            "au_by_ref_found",
            None,
            Some(card.card_ref.as_str()),
            Some(&card.id),
        ),
        ("au_by_ref_unknown", None, Some("ref-nobody"), None),
        ("au_by_ref_none", None, None, None),
        (
            "au_by_ref_named",
            Some("ch_by_ref_named"),
            Some(card.card_ref.as_str()),
            Some(&named.id),
        ),
    ];
    for (id, cardholder_id, card_ref, expected) in cases {
        store
            .insert_authentication(&authentication(id, "m_by_ref", cardholder_id), card_ref)
            .await?;
        let stored = store.authentication(&au(id)).await?;
        ensure!(
            stored.as_ref().map(|a| a.cardholder_id.as_ref()) == Some(expected),
            "{id}: stored as {stored:?}, expected the cardholder {expected:?}"
        );
    }
    let keyed = IdempotencyKey {
        merchant_id: m.id.clone(),
        key: "by-ref".into(),
        request_hash: vec![4; 32],
        authentication_id: au("au_by_ref_keyed"),
        created_at: NOW,
    };
    store
        .insert_authentication_with_key(
            &authentication("au_by_ref_keyed", "m_by_ref", None),
            &keyed,
            Some(&card.card_ref),
        )
        .await?;
    let stored = store.authentication(&au("au_by_ref_keyed")).await?;
    ensure!(
        stored.as_ref().map(|a| a.cardholder_id.as_ref()) == Some(Some(&card.id)),
        "keyed: stored as {stored:?}"
    );
    Ok(())
}

async fn cardholders_are_unique_by_reference(store: &dyn Store) -> Result<(), Failure> {
    let c = cardholder("ch_unique");
    store.insert_cardholder(&c).await?;
    let twin = Cardholder {
        id: ch("ch_twin"),
        ..c.clone()
    };
    ensure!(
        matches!(
            store.insert_cardholder(&twin).await,
            Err(StoreError::Conflict)
        ),
        "the same card_ref twice must conflict"
    );
    ensure!(
        store.cardholder_by_ref(&c.card_ref).await?.as_ref() == Some(&c),
        "by ref"
    );
    ensure!(
        store.cardholder(&ch("ch_unique")).await?.as_ref() == Some(&c),
        "by id"
    );
    ensure!(
        store
            .set_card_status(&ch("ch_unique"), CardStatus::Blocked)
            .await?,
        "block"
    );
    ensure!(
        store.cardholder(&ch("ch_unique")).await?.map(|c| c.status) == Some(CardStatus::Blocked),
        "blocked"
    );
    ensure!(
        !store
            .set_card_status(&ch("ch_nope"), CardStatus::Blocked)
            .await?,
        "unknown card"
    );
    ensure!(
        store
            .cardholders()
            .await?
            .iter()
            .any(|c| c.id == "ch_unique"),
        "listed"
    );
    Ok(())
}

async fn device_step_happens_once(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = merchant("m_step");
    store.insert_merchant(&m, &k).await?;
    let a = authentication("au_step", "m_step", None);
    store.insert_authentication(&a, None).await?;
    ensure!(
        store.authentication(&au("au_step")).await?.as_ref() == Some(&a),
        "round trip"
    );
    ensure!(
        store.authentication(&au("au_nope")).await?.is_none(),
        "unknown authentication"
    );
    let next = DeviceNext::Conclude {
        end: Final::Rejected,
        outcome: outcome(TransStatus::Rejected, "tok-r"),
    };
    ensure!(
        store
            .record_device_step(&au("au_step"), NOW, &step("192.0.2.9"), &next, None, &[])
            .await?,
        "first device step"
    );
    ensure!(
        !store
            .record_device_step(&au("au_step"), NOW, &step("192.0.2.9"), &next, None, &[])
            .await?,
        "second device step must be refused"
    );
    let stored = store.authentication(&au("au_step")).await?;
    ensure!(
        stored.as_ref().map(Authentication::state) == Some(State::Rejected),
        "state after device step"
    );
    ensure!(
        stored.as_ref().and_then(|a| a.outcome().cloned())
            == Some(outcome(TransStatus::Rejected, "tok-r")),
        "outcome stored"
    );
    ensure!(
        stored
            .as_ref()
            .and_then(|a| a.assessment().map(|x| x.risk_reasons.clone()))
            == Some(vec![RiskReason::NoDeviceToken.into()]),
        "reasons stored"
    );
    // An expired authentication takes no device step.
    store
        .insert_authentication(&authentication("au_step_late", "m_step", None), None)
        .await?;
    ensure!(
        !store
            .record_device_step(&au("au_step_late"), NOW + 900, &step("x"), &next, None, &[])
            .await?,
        "device step after expiry must be refused"
    );
    Ok(())
}

/// A card the issuer blocks during its challenge accepts no code; unblocked, it does again.
async fn a_blocked_card_accepts_no_code(store: &dyn Store) -> Result<(), Failure> {
    let id = challenging(store, "blocked_code").await?;
    let card = ch("ch_blocked_code");
    ensure!(
        store.set_card_status(&card, CardStatus::Blocked).await?,
        "blocked"
    );
    ensure!(
        !try_code(store, &id, NOW + 1, &[9; 32]).await?,
        "the right code of a blocked card is not accepted"
    );
    ensure!(
        store.set_card_status(&card, CardStatus::Active).await?,
        "unblocked"
    );
    ensure!(
        try_code(store, &id, NOW + 1, &[9; 32]).await?,
        "accepted once the card is active again"
    );
    Ok(())
}

async fn a_code_is_accepted_once(store: &Arc<dyn Store>) -> Result<(), Failure> {
    let id = challenging(store.as_ref(), "once").await?;
    ensure!(
        !try_code(store.as_ref(), &id, NOW, &[8; 32]).await?,
        "another digest must not be accepted"
    );
    ensure!(
        !try_code(store.as_ref(), &id, NOW + 600, &[9; 32]).await?,
        "an expired code must not be accepted"
    );
    let mut tasks = JoinSet::new();
    for n in 0..50 {
        let store = Arc::clone(store);
        let id = id.clone();
        tasks.spawn(async move {
            let device = Device {
                id: dv(&format!("dv_once_{n}")),
                merchant_id: mid("m_once"),
                fingerprint: "{}".into(),
                public_key: None,
                created_at: NOW,
                expires_at: NOW + 1000,
                revoked_at: None,
            };
            let card = ch("ch_once");
            store
                .accept_code(
                    &id,
                    NOW + 1,
                    &LIMITS,
                    &Acceptance {
                        digest: &[9; 32],
                        outcome: &outcome(TransStatus::Authenticated, &format!("t{n}")),
                        trust: Some(TrustWrite {
                            device: DeviceWrite::New(&device),
                            cardholder_id: &card,
                            expires_at: NOW + 1000,
                            alert: Some(&mail("alert_new_device")),
                        }),
                        events: &[],
                    },
                )
                .await
        });
    }
    let mut wins = 0;
    while let Some(joined) = tasks.join_next().await {
        let accepted = joined.map_err(|e| Failure(e.to_string()))??;
        wins += usize::from(accepted == TRUSTED);
    }
    ensure!(
        wins == 1,
        "50 concurrent correct codes: {wins} accepted, expected 1"
    );
    let stored = store.authentication(&id).await?;
    ensure!(
        stored.as_ref().map(Authentication::state) == Some(State::Succeeded),
        "succeeded"
    );
    // A final row still holding a code does not even read back (`StoreError::Corrupt`).
    ensure!(
        stored
            .as_ref()
            .and_then(Authentication::challenge)
            .is_none(),
        "code erased"
    );
    let device_id = stored.and_then(|a| a.assessment().and_then(|x| x.device_id.clone()));
    let device = match &device_id {
        Some(id) => store.device(id).await?,
        None => None,
    };
    ensure!(device.is_some(), "exactly the winner's device is stored");
    let trust = match &device_id {
        Some(id) => store.trust(id, &ch("ch_once")).await?,
        None => None,
    };
    ensure!(
        trust.is_some_and(|t| t.is_live(NOW + 1)),
        "the winner's device is trusted for the card"
    );
    for n in 0..50 {
        let loser = dv(&format!("dv_once_{n}"));
        if device_id.as_ref() == Some(&loser) {
            continue;
        }
        ensure!(
            store.device(&loser).await?.is_none()
                && store.trust(&loser, &ch("ch_once")).await?.is_none(),
            "a losing request ({loser}) stores no device and no trust"
        );
    }
    Ok(())
}

async fn wrong_codes_are_counted_atomically(store: &Arc<dyn Store>) -> Result<(), Failure> {
    let id = challenging(store.as_ref(), "wrong").await?;
    let failure = outcome(TransStatus::NotAuthenticated, "tok-n");
    let first = store
        .reject_code(&id, NOW, &LIMITS, &failure, &mail("alert_failed"), &[])
        .await?;
    ensure!(
        first == WrongCode::Counted { attempts_left: 4 },
        "first wrong code: {first:?}"
    );
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let store = Arc::clone(store);
        let id = id.clone();
        let failure = failure.clone();
        tasks.spawn(async move {
            store
                .reject_code(&id, NOW, &LIMITS, &failure, &mail("alert_failed"), &[])
                .await
        });
    }
    let (mut counted, mut failed, mut refused) = (0, 0, 0);
    while let Some(joined) = tasks.join_next().await {
        match joined.map_err(|e| Failure(e.to_string()))?? {
            WrongCode::Counted { .. } => counted += 1,
            WrongCode::Failed => failed += 1,
            WrongCode::NotChallenging => refused += 1,
        }
    }
    ensure!(
        (counted, failed, refused) == (3, 1, 16),
        "20 concurrent wrong codes after one: {counted} counted, {failed} failed, {refused} refused"
    );
    let stored = store.authentication(&id).await?;
    ensure!(
        stored.as_ref().map(|a| (a.state(), a.attempts())) == Some((State::Failed, 5)),
        "failed at 5"
    );
    ensure!(
        stored.as_ref().and_then(Authentication::outcome) == Some(&failure),
        "failure outcome stored"
    );
    ensure!(
        !try_code(store.as_ref(), &id, NOW, &[9; 32]).await?,
        "the right code after failure must not be accepted"
    );
    // The card's next purchase sees the failure.
    let next = authentication("au_next", "m_wrong", Some("ch_wrong"));
    store.insert_authentication(&next, None).await?;
    let h = history_of(store.as_ref(), &next.id, None, None).await?;
    ensure!(
        (
            h.failed_challenges,
            h.wrong_codes,
            h.card_recent,
            h.ip_recent
        ) == (1, 5, 1, 0),
        "history after a failed challenge: {h:?}"
    );
    ensure!(
        h.last_timezone.is_none() && h.usual_max_amount.is_none(),
        "nothing succeeded on this card: {h:?}"
    );
    // Exactly one alert was queued besides the code mail.
    let claimed = store.claim_mail(NOW + 10_000, 60, 100).await?;
    let alerts = claimed.iter().filter(|m| m.kind == "alert_failed").count();
    ensure!(alerts == 1, "one failure alert queued, got {alerts}");
    for m in &claimed {
        store.mail_sent(m.id, m.attempts, NOW).await?;
    }
    Ok(())
}

async fn resends_respect_limit_and_cooldown(store: &dyn Store) -> Result<(), Failure> {
    let id = challenging(store, "resend").await?;
    let code = |n: u8, at: i64| CodeIssue {
        digest: vec![n; 32],
        expires_at: at + 600,
    };
    ensure!(
        store
            .resend_code(&id, NOW + 29, &code(1, NOW + 29), &LIMITS, &mail("code"))
            .await?
            == Resend::Refused,
        "resend inside the cooldown must be refused"
    );
    for n in 1..=3u8 {
        let at = NOW + 30 * i64::from(n);
        ensure!(
            store
                .resend_code(&id, at, &code(n, at), &LIMITS, &mail("code"))
                .await?
                == Resend::Sent,
            "resend {n}"
        );
    }
    ensure!(
        store
            .resend_code(&id, NOW + 500, &code(4, NOW + 500), &LIMITS, &mail("code"))
            .await?
            == Resend::Refused,
        "a fourth resend must be refused"
    );
    let stored = store.authentication(&id).await?;
    ensure!(
        stored
            .as_ref()
            .and_then(Authentication::challenge)
            .map(|c| (c.resends, c.last_sent_at, c.code_digest.clone()))
            == Some((3, NOW + 90, vec![3; 32])),
        "resend replaced the code"
    );
    ensure!(
        !try_code(store, &id, NOW + 91, &[9; 32]).await?,
        "the replaced code must not be accepted"
    );
    Ok(())
}

/// The sweeper's list: unfinished authentications from their `expires_at` on, never a
/// finished one.
async fn overdue_authentications_are_listed(store: &dyn Store) -> Result<(), Failure> {
    let challenged = challenging(store, "overdue").await?;
    let pending = authentication("au_overdue_pending", "m_overdue", Some("ch_overdue"));
    store.insert_authentication(&pending, None).await?;
    let listed = |at: i64| async move {
        let due = store.due_for_expiry(at, 100_000).await?;
        Ok::<_, Failure>(due.into_iter().map(|a| a.id).collect::<Vec<_>>())
    };
    let before = listed(NOW + 899).await?;
    ensure!(
        !before.contains(&challenged) && !before.contains(&pending.id),
        "nothing before its expires_at"
    );
    let due = listed(NOW + 900).await?;
    ensure!(
        due.contains(&challenged) && due.contains(&pending.id),
        "challenging and pending, from expires_at on"
    );
    let expired = outcome(TransStatus::Unavailable, "tok-overdue");
    ensure!(
        store
            .conclude(
                &challenged,
                NOW + 900,
                State::Challenging,
                Final::Expired,
                &expired,
                None,
                &[]
            )
            .await?,
        "expired"
    );
    let due = listed(NOW + 900).await?;
    ensure!(
        !due.contains(&challenged) && due.contains(&pending.id),
        "a finished authentication is never listed"
    );
    ensure!(
        store.due_for_expiry(NOW + 900, 1).await?.len() == 1,
        "at most `limit`"
    );
    Ok(())
}

async fn expiry_and_cancel(store: &dyn Store) -> Result<(), Failure> {
    let id = challenging(store, "expire").await?;
    let expired = outcome(TransStatus::Unavailable, "tok-u");
    ensure!(
        !store
            .conclude(
                &id,
                NOW + 899,
                State::Challenging,
                Final::Expired,
                &expired,
                None,
                &[]
            )
            .await?,
        "cannot expire before expires_at"
    );
    ensure!(
        store
            .conclude(
                &id,
                NOW + 900,
                State::Challenging,
                Final::Expired,
                &expired,
                None,
                &[]
            )
            .await?,
        "expires at expires_at"
    );
    ensure!(
        store
            .resend_code(
                &id,
                NOW + 901,
                &CodeIssue {
                    digest: vec![1; 32],
                    expires_at: NOW + 2000
                },
                &LIMITS,
                &mail("code")
            )
            .await?
            == Resend::Refused,
        "no resend after expiry"
    );
    ensure!(
        store
            .reject_code(&id, NOW + 901, &LIMITS, &expired, &mail("x"), &[])
            .await?
            == WrongCode::NotChallenging,
        "no counting after expiry"
    );
    let id = challenging(store, "cancel").await?;
    let cancelled = outcome(TransStatus::NotAuthenticated, "tok-c");
    ensure!(
        !store
            .conclude(
                &id,
                NOW,
                State::Pending,
                Final::Cancelled,
                &cancelled,
                None,
                &[]
            )
            .await?,
        "wrong `from` state must be refused"
    );
    ensure!(
        store
            .conclude(
                &id,
                NOW,
                State::Challenging,
                Final::Cancelled,
                &cancelled,
                None,
                &[]
            )
            .await?,
        "cancel"
    );
    ensure!(
        !store
            .conclude(
                &id,
                NOW,
                State::Challenging,
                Final::Cancelled,
                &cancelled,
                None,
                &[]
            )
            .await?,
        "cancel twice"
    );
    Ok(())
}

async fn history_counts(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = merchant("m_hist");
    store.insert_merchant(&m, &k).await?;
    store.insert_cardholder(&cardholder("ch_hist")).await?;
    for n in 0..3 {
        let id = format!("au_hist_{n}");
        let mut a = authentication(&id, "m_hist", Some("ch_hist"));
        a.created_at = NOW + n;
        a.amount = Amount::new(1000 * (n + 1)).expect("an amount");
        store.insert_authentication(&a, None).await?;
        let next = DeviceNext::Conclude {
            end: Final::Succeeded,
            outcome: outcome(TransStatus::Authenticated, "t"),
        };
        store
            .record_device_step(&a.id, NOW + n, &step("198.51.100.7"), &next, None, &[])
            .await?;
    }
    // A large purchase in dollars, out of the short window: it is no usual amount for yen.
    let dollars = Authentication {
        currency: Currency::new("USD").expect("a currency"),
        amount: Amount::new(900_000).expect("an amount"),
        created_at: NOW - 50_000,
        ..authentication("au_hist_usd", "m_hist", Some("ch_hist"))
    };
    store.insert_authentication(&dollars, None).await?;
    let next = DeviceNext::Conclude {
        end: Final::Succeeded,
        outcome: outcome(TransStatus::Authenticated, "t"),
    };
    store
        .record_device_step(
            &dollars.id,
            NOW - 50_000,
            &step("198.51.100.7"),
            &next,
            None,
            &[],
        )
        .await?;
    let old = authentication("au_hist_old", "m_hist", Some("ch_hist"));
    store
        .insert_authentication(
            &Authentication {
                created_at: NOW - 100_000,
                expires_at: NOW - 99_000,
                ..old
            },
            None,
        )
        .await?;
    // Created, never taken to the device step: anyone with the card number can make these.
    for n in 0..5 {
        let idle = authentication(&format!("au_hist_idle_{n}"), "m_hist", Some("ch_hist"));
        store.insert_authentication(&idle, None).await?;
    }
    let h = history_of(store, &au("au_hist_2"), None, Some("198.51.100.7")).await?;
    ensure!(
        h.card_recent == 2,
        "card velocity counts device steps, not itself, old ones or idle ones: {h:?}"
    );
    ensure!(h.ip_recent == 2, "ip velocity: {h:?}");
    ensure!(h.device_recent == 0, "no device: {h:?}");
    ensure!(
        h.usual_max_amount == Some(2000),
        "usual amount excludes itself and other currencies: {h:?}"
    );
    let in_dollars = Authentication {
        currency: dollars.currency,
        ..authentication("au_hist_usd_next", "m_hist", Some("ch_hist"))
    };
    store.insert_authentication(&in_dollars, None).await?;
    ensure!(
        history_of(store, &in_dollars.id, None, None)
            .await?
            .usual_max_amount
            == Some(900_000),
        "usual amount in dollars"
    );
    ensure!(
        h.last_language.as_deref() == Some("ja-JP"),
        "last language: {h:?}"
    );
    ensure!(
        !h.open_report && h.failed_challenges == 0,
        "clean card: {h:?}"
    );
    Ok(())
}

/// What the device step of `id` reads, its counts over the last hour (failures the last day).
async fn step_reads(
    store: &dyn Store,
    id: &AuthenticationId,
    claimed_device: Option<&DeviceId>,
    ip: Option<&str>,
) -> Result<Option<StepReads>, Failure> {
    let query = StepQuery {
        authentication_id: id,
        claimed_device,
        ip,
        short_since: NOW - 3600,
        long_since: NOW - 86_400,
    };
    Ok(store.device_step_reads(&query).await?)
}

/// The history the device step of `id`, which must exist, reads.
async fn history_of(
    store: &dyn Store,
    id: &AuthenticationId,
    claimed_device: Option<&DeviceId>,
    ip: Option<&str>,
) -> Result<History, Failure> {
    let reads = step_reads(store, id, claimed_device, ip).await?;
    reads
        .map(|reads| reads.history)
        .ok_or_else(|| Failure(format!("{id} was not read")))
}

/// The one read of the device step answers what reading each row on its own answers, for
/// every shape of claim: no device, an unknown one, one the card trusts, one only another card
/// trusts, a trust revoked, and a purchase on a card not enrolled.
async fn the_device_step_reads_in_one(store: &dyn Store) -> Result<(), Failure> {
    // `au_one` trusts `dv_one` for `ch_one`; `au_one2` trusts `dv_one2` for `ch_one2` only.
    let trusts = [("one", "dv_one"), ("one2", "dv_one2")];
    for (prefix, device) in trusts {
        let id = challenging(store, prefix).await?;
        let device = Device {
            id: dv(device),
            merchant_id: mid(&format!("m_{prefix}")),
            fingerprint: "{}".into(),
            public_key: None,
            created_at: NOW,
            expires_at: NOW + 1000,
            revoked_at: None,
        };
        let accept = Acceptance {
            digest: &[9; 32],
            outcome: &outcome(TransStatus::Authenticated, "t"),
            trust: Some(TrustWrite {
                device: DeviceWrite::New(&device),
                cardholder_id: &ch(&format!("ch_{prefix}")),
                expires_at: NOW + 1000,
                alert: None,
            }),
            events: &[],
        };
        ensure!(
            store.accept_code(&id, NOW, &LIMITS, &accept).await? == TRUSTED,
            "{prefix} trusts its device"
        );
    }
    let step = authentication("au_one_step", "m_one", Some("ch_one"));
    store.insert_authentication(&step, None).await?;
    let unenrolled = authentication("au_one_unenrolled", "m_one", None);
    store.insert_authentication(&unenrolled, None).await?;

    // Each claim, read in one, against the rows read one by one.
    let claims = [None, Some("dv_nope"), Some("dv_one"), Some("dv_one2")];
    for revoked in [false, true] {
        if revoked {
            store.revoke_trust(&ch("ch_one"), NOW + 1).await?;
        }
        for auth in [&step, &unenrolled] {
            for claim in claims {
                let claimed = claim.map(dv);
                let reads =
                    step_reads(store, &auth.id, claimed.as_ref(), Some("192.0.2.1")).await?;
                let Some(reads) = reads else {
                    return Err(Failure(format!("{} was not read", auth.id)));
                };
                let cardholder = match &auth.cardholder_id {
                    Some(card) => store.cardholder(card).await?,
                    None => None,
                };
                let device = match &claimed {
                    Some(id) => store.device(id).await?,
                    None => None,
                };
                let trust = match (&claimed, &auth.cardholder_id) {
                    (Some(id), Some(card)) => store.trust(id, card).await?,
                    _ => None,
                };
                let what = format!("{} claiming {claim:?}, revoked: {revoked}", auth.id);
                ensure!(
                    Some(&reads.authentication) == store.authentication(&auth.id).await?.as_ref(),
                    "{what}: authentication {:?}",
                    reads.authentication
                );
                ensure!(
                    reads.cardholder == cardholder,
                    "{what}: cardholder {:?}",
                    reads.cardholder
                );
                ensure!(
                    reads.claimed_device == device,
                    "{what}: device {:?}",
                    reads.claimed_device
                );
                ensure!(
                    reads.claimed_trust == trust,
                    "{what}: trust {:?}",
                    reads.claimed_trust
                );
            }
        }
    }
    let trust = step_reads(store, &step.id, Some(&dv("dv_one")), None).await?;
    ensure!(
        trust
            .and_then(|r| r.claimed_trust)
            .is_some_and(|t| t.revoked_at == Some(NOW + 1)),
        "a revoked trust is read, revoked"
    );
    let other_card = step_reads(store, &step.id, Some(&dv("dv_one2")), None).await?;
    ensure!(
        other_card.is_some_and(|r| r.claimed_device.is_some() && r.claimed_trust.is_none()),
        "another card's device is read without a trust"
    );

    // The counts: the card's purchase `au_one` (challenged, then succeeded on `dv_one`), seen
    // from the card's next one; the device counted only when claimed. (Addresses are counted
    // in `history_counts`: the other checks' purchases share this one's.)
    let expected = History {
        card_recent: 1,
        device_recent: 0,
        ip_recent: 0,
        failed_challenges: 0,
        wrong_codes: 0,
        open_report: false,
        usual_max_amount: Some(12_800),
        last_language: Some("ja-JP".into()),
        last_timezone: Some("Asia/Tokyo".into()),
    };
    let without = history_of(store, &step.id, None, None).await?;
    ensure!(without == expected, "history without a device: {without:?}");
    let with = history_of(store, &step.id, Some(&dv("dv_one")), None).await?;
    ensure!(
        with == History {
            device_recent: 1,
            ..expected
        },
        "history with the claimed device: {with:?}"
    );
    ensure!(
        step_reads(store, &au("au_one_nobody"), Some(&dv("dv_one")), None)
            .await?
            .is_none(),
        "an unknown authentication reads as none"
    );
    Ok(())
}

/// One authentication of [`a_long_history_reads_as_its_rows_say`], as the oracle sees it.
struct PastPurchase {
    id: AuthenticationId,
    currency: Currency,
    amount: i64,
    created_at: i64,
    /// Whether a device step assessed it (it has a risk score).
    assessed: bool,
    ip: Option<String>,
    state: &'static str,
    attempts: i64,
    finished_at: Option<i64>,
    language: &'static str,
    timezone: &'static str,
}

/// What the device step of `id` must read from `past` (the card's every authentication), by
/// the rules of [`History`], computed row by row.
fn expected_history(
    past: &[PastPurchase],
    id: &AuthenticationId,
    currency: &Currency,
    ip: &str,
) -> History {
    let (short_since, long_since) = (NOW - 3600, NOW - 86_400);
    let others = || past.iter().filter(|p| &p.id != id);
    let count = |keep: &dyn Fn(&PastPurchase) -> bool| {
        i64::try_from(others().filter(|p| keep(p)).count()).expect("a small count")
    };
    let successes = || others().filter(|p| p.state == "succeeded");
    let last = successes().max_by_key(|p| (p.finished_at, p.created_at, p.id.as_str()));
    History {
        card_recent: count(&|p| p.created_at >= short_since && p.assessed),
        device_recent: 0,
        ip_recent: count(&|p| p.created_at >= short_since && p.ip.as_deref() == Some(ip)),
        failed_challenges: count(&|p| p.created_at >= long_since && p.state == "failed"),
        wrong_codes: others()
            .filter(|p| p.created_at >= long_since)
            .map(|p| p.attempts)
            .sum(),
        open_report: false,
        usual_max_amount: successes()
            .filter(|p| &p.currency == currency)
            .map(|p| p.amount)
            .max(),
        last_language: last.map(|p| p.language.into()),
        last_timezone: last.map(|p| p.timezone.into()),
    }
}

/// A card with hundreds of authentications in three currencies over more than a day, in every
/// state, with wrong codes, and its latest successes finished in the same second (two of them
/// created in the same second too): the one read answers what its rows say, seen from a new
/// purchase in each currency and from purchases already assessed, concluded or failed (each
/// left out of its own history).
async fn a_long_history_reads_as_its_rows_say(store: &dyn Store) -> Result<(), Failure> {
    const LANGUAGES: [(&str, &str); 4] = [
        ("ja-JP", "Asia/Tokyo"),
        ("en-US", "America/New_York"),
        ("fr-FR", "Europe/Paris"),
        ("de-DE", "Europe/Berlin"),
    ];
    let (m, k) = merchant("m_long");
    store.insert_merchant(&m, &k).await?;
    store.insert_cardholder(&cardholder("ch_long")).await?;
    let currencies = ["JPY", "USD", "EUR"].map(|c| Currency::new(c).expect("a currency"));
    let mut past = Vec::new();
    let mut purchases: Vec<(String, i64, usize)> = (0..360)
        .map(|n: i64| (format!("au_long_{n:03}"), NOW - 100_000 + n * 275, 0))
        .collect();
    // Created and finished in the same second as each other, and last of all successes.
    purchases.push(("au_long_tie_a".into(), NOW - 100, 1));
    purchases.push(("au_long_tie_b".into(), NOW - 100, 2));
    for (n, (id, created_at, language)) in purchases.into_iter().enumerate() {
        let currency = currencies[n % 3];
        let amount = 100 + i64::try_from(n * 7919 % 90_000).expect("a small amount");
        let a = Authentication {
            currency,
            amount: Amount::new(amount).expect("an amount"),
            created_at,
            ..authentication(&id, "m_long", Some("ch_long"))
        };
        store.insert_authentication(&a, None).await?;
        let kind = if id.contains("tie") { 0 } else { n % 6 };
        let language = if id.contains("tie") { language } else { n % 4 };
        let ip = format!("198.51.100.{}", n % 3);
        let mut assessment = step(&ip);
        assessment.browser = BrowserInfo::parse(
            Some(LANGUAGES[language].0),
            Some(LANGUAGES[language].1),
            Some("test"),
        );
        let mut row = PastPurchase {
            id: a.id.clone(),
            currency,
            amount,
            created_at,
            assessed: kind != 5,
            ip: (kind != 5).then(|| ip.clone()),
            state: "pending",
            attempts: 0,
            finished_at: None,
            language: LANGUAGES[language].0,
            timezone: LANGUAGES[language].1,
        };
        match kind {
            0..=2 => {
                // The latest ones all finish in one second.
                let finished_at = if n >= 330 { NOW - 2 } else { created_at + 5 };
                let next = DeviceNext::Conclude {
                    end: Final::Succeeded,
                    outcome: outcome(TransStatus::Authenticated, "t"),
                };
                ensure!(
                    store
                        .record_device_step(&a.id, finished_at, &assessment, &next, None, &[])
                        .await?,
                    "{id} succeeds"
                );
                row.state = "succeeded";
                row.finished_at = Some(finished_at);
            }
            3 | 4 => {
                let code = CodeIssue {
                    digest: vec![9; 32],
                    expires_at: NOW + 600,
                };
                let next = DeviceNext::Challenge(code);
                ensure!(
                    store
                        .record_device_step(&a.id, created_at, &assessment, &next, None, &[])
                        .await?,
                    "{id} is challenged"
                );
                // Every code allowed, wrong (it fails), or two of them.
                let wrong = if kind == 3 { LIMITS.max_attempts } else { 2 };
                let failure = outcome(TransStatus::NotAuthenticated, "t");
                for _ in 0..wrong {
                    store
                        .reject_code(&a.id, created_at + 10, &LIMITS, &failure, &mail("x"), &[])
                        .await?;
                }
                row.attempts = wrong;
                (row.state, row.finished_at) = if kind == 3 {
                    ("failed", Some(created_at + 10))
                } else {
                    ("challenging", None)
                };
            }
            _ => {}
        }
        past.push(row);
    }
    for currency in &currencies {
        let id = format!("au_long_next_{}", currency.as_str().to_lowercase());
        let next = Authentication {
            currency: *currency,
            ..authentication(&id, "m_long", Some("ch_long"))
        };
        store.insert_authentication(&next, None).await?;
        let read = history_of(store, &next.id, None, Some("198.51.100.1")).await?;
        let expected = expected_history(&past, &next.id, currency, "198.51.100.1");
        ensure!(
            read == expected,
            "a new purchase in {}: read {read:?}, its rows say {expected:?}",
            currency.as_str()
        );
    }
    ensure!(
        past.iter()
            .any(|p| p.state == "failed" && p.created_at >= NOW - 86_400)
            && past
                .iter()
                .any(|p| p.assessed && p.created_at >= NOW - 3600),
        "the history has failures and device steps inside the windows"
    );
    for seen_from in ["au_long_tie_b", "au_long_357", "au_long_358", "au_long_359"] {
        let own = past
            .iter()
            .find(|p| p.id.as_str() == seen_from)
            .ok_or_else(|| Failure(format!("{seen_from} is no past purchase")))?;
        let ip = own.ip.clone().unwrap_or_default();
        let read = history_of(store, &own.id, None, Some(&ip)).await?;
        let expected = expected_history(&past, &own.id, &own.currency, &ip);
        ensure!(
            read == expected,
            "{seen_from} ({}): read {read:?}, its rows say {expected:?}",
            own.state
        );
    }
    Ok(())
}

async fn fraud_reports_revoke_the_cards_trust(store: &dyn Store) -> Result<(), Failure> {
    let id = challenging(store, "fraud").await?;
    let device = Device {
        id: dv("dv_fraud"),
        merchant_id: mid("m_fraud"),
        fingerprint: "{}".into(),
        public_key: None,
        created_at: NOW,
        expires_at: NOW + 1000,
        revoked_at: None,
    };
    let (card, other_card) = (ch("ch_fraud"), ch("ch_fraud2"));
    let trusted = outcome(TransStatus::Authenticated, "t");
    let accept = |trust| Acceptance {
        digest: &[9; 32],
        outcome: &trusted,
        trust: Some(trust),
        events: &[],
    };
    ensure!(
        store
            .accept_code(
                &id,
                NOW,
                &LIMITS,
                &accept(TrustWrite {
                    device: DeviceWrite::New(&device),
                    cardholder_id: &card,
                    expires_at: NOW + 1000,
                    alert: None,
                }),
            )
            .await?
            == TRUSTED,
        "first card trusts the device"
    );
    // A second card in the same browser: the device is refreshed, not replaced.
    let second = challenging(store, "fraud2").await?;
    ensure!(
        store
            .accept_code(
                &second,
                NOW + 2,
                &LIMITS,
                &accept(TrustWrite {
                    device: DeviceWrite::Refresh {
                        id: &device.id,
                        fingerprint: "{\"v\":1}",
                        public_key: None,
                        expires_at: NOW + 2000,
                    },
                    cardholder_id: &other_card,
                    expires_at: NOW + 2000,
                    alert: None,
                }),
            )
            .await?
            == TRUSTED,
        "second card trusts the same device"
    );
    let refreshed = store.device(&device.id).await?;
    ensure!(
        refreshed
            .as_ref()
            .map(|d| (d.fingerprint.as_str(), d.expires_at, d.created_at))
            == Some(("{\"v\":1}", NOW + 2000, NOW)),
        "refreshed: fingerprint replaced, expiry slid, creation kept: {refreshed:?}"
    );
    let report = FraudReport {
        id: fr("fr_1"),
        cardholder_id: ch("ch_fraud"),
        authentication_id: id.clone(),
        created_at: NOW + 5,
        resolved_at: None,
    };
    let open = |report: &FraudReport, case: &str| {
        (cases::case_of(case, report, "m_fraud"), mail("case_open"))
    };
    let (case, case_mail) = open(&report, "pc_fraud1");
    let opening = CaseOpening {
        case: &case,
        mail: &case_mail,
        events: &[],
    };
    ensure!(store.report_fraud(&report, &opening).await?, "first report");
    let again = FraudReport {
        id: fr("fr_2"),
        ..report.clone()
    };
    let (case, case_mail) = open(&again, "pc_fraud2");
    let opening = CaseOpening {
        case: &case,
        mail: &case_mail,
        events: &[],
    };
    ensure!(
        !store.report_fraud(&again, &opening).await?,
        "the same purchase reported twice is one report"
    );
    ensure!(
        store
            .trust(&device.id, &card)
            .await?
            .and_then(|t| t.revoked_at)
            == Some(NOW + 5),
        "the card's trust is revoked"
    );
    ensure!(
        store
            .trust(&device.id, &other_card)
            .await?
            .is_some_and(|t| t.is_live(NOW + 5)),
        "another card's trust in the same browser stays"
    );
    ensure!(
        store
            .device(&device.id)
            .await?
            .is_some_and(|d| d.is_live(NOW + 5)),
        "the browser's device stays"
    );
    ensure!(
        store.report_for(&id).await?.as_ref() == Some(&report),
        "report for"
    );
    let other = authentication("au_other", "m_fraud", Some("ch_fraud"));
    store.insert_authentication(&other, None).await?;
    ensure!(
        history_of(store, &other.id, None, None).await?.open_report,
        "open report in history"
    );
    ensure!(
        store.reports(true).await?.iter().any(|r| r.id == "fr_1"),
        "listed as open"
    );
    ensure!(
        store.resolve_report(&fr("fr_1"), NOW + 10).await?,
        "resolve"
    );
    ensure!(
        !store.resolve_report(&fr("fr_1"), NOW + 11).await?,
        "resolve twice"
    );
    ensure!(
        !history_of(store, &other.id, None, None).await?.open_report,
        "resolved"
    );
    ensure!(
        !store.reports(true).await?.iter().any(|r| r.id == "fr_1"),
        "not open any more"
    );
    ensure!(
        store.revoke_trust(&ch("ch_fraud"), NOW).await? == 0,
        "nothing left to revoke"
    );
    Ok(())
}

/// A correct code whose acceptance commits after a fraud report on its card (its challenge
/// started before the report: the two met at the same moment) still authenticates the
/// purchase, but trusts no browser and queues no new-browser alert: the report revoked the
/// card's trust in every browser, and it must not come back before the issuer resolves the
/// report. Called in that order, the store methods are the race's losing interleaving.
async fn a_code_accepted_after_a_report_trusts_no_browser(
    store: &dyn Store,
) -> Result<(), Failure> {
    let id = challenging(store, "late").await?;
    let card = ch("ch_late");
    let device = |n: &str| Device {
        id: dv(&format!("dv_late_{n}")),
        merchant_id: mid("m_late"),
        fingerprint: "{}".into(),
        public_key: None,
        created_at: NOW,
        expires_at: NOW + 1000,
        revoked_at: None,
    };
    let reported = authentication("au_late_reported", "m_late", Some("ch_late"));
    store.insert_authentication(&reported, None).await?;
    let report = FraudReport {
        id: fr("fr_late"),
        cardholder_id: card.clone(),
        authentication_id: reported.id.clone(),
        created_at: NOW + 5,
        resolved_at: None,
    };
    let (case, case_mail) = (
        cases::case_of("pc_late", &report, "m_late"),
        mail("case_open"),
    );
    let opening = CaseOpening {
        case: &case,
        mail: &case_mail,
        events: &[],
    };
    ensure!(store.report_fraud(&report, &opening).await?, "reported");

    let owed = store.mail_owed().await?;
    let (first, alert) = (device("1"), mail("alert_new_device"));
    let accepted = store
        .accept_code(
            &id,
            NOW + 6,
            &LIMITS,
            &Acceptance {
                digest: &[9; 32],
                outcome: &outcome(TransStatus::Authenticated, "t"),
                trust: Some(TrustWrite {
                    device: DeviceWrite::New(&first),
                    cardholder_id: &card,
                    expires_at: NOW + 1000,
                    alert: Some(&alert),
                }),
                events: &[],
            },
        )
        .await?;
    ensure!(
        accepted == Accept::Accepted { trusted: false },
        "the code is accepted, no browser trusted: {accepted:?}"
    );
    ensure!(
        store
            .authentication(&id)
            .await?
            .is_some_and(|a| a.state() == State::Succeeded),
        "the purchase is authenticated"
    );
    let trust = store.trust(&first.id, &card).await?;
    ensure!(
        trust.is_none(),
        "no browser trusted while the report is open: {trust:?}"
    );
    ensure!(
        store.device(&first.id).await?.is_none(),
        "nor a device stored for it"
    );
    ensure!(
        store.mail_owed().await? == owed,
        "nor a new-browser alert queued"
    );
    ensure!(
        store
            .authentication(&id)
            .await?
            .and_then(|a| a.assessment().and_then(|step| step.device_id.clone()))
            .is_none(),
        "the authentication names no device that was not stored"
    );

    // Once the issuer resolves the report, a code trusts a browser again.
    ensure!(
        store.resolve_report(&report.id, NOW + 20).await?,
        "resolved"
    );
    let again = authentication("au_late_again", "m_late", Some("ch_late"));
    store.insert_authentication(&again, None).await?;
    let code = CodeIssue {
        digest: vec![9; 32],
        expires_at: NOW + 600,
    };
    ensure!(
        store
            .record_device_step(
                &again.id,
                NOW + 21,
                &step("192.0.2.1"),
                &DeviceNext::Challenge(code),
                None,
                &[],
            )
            .await?,
        "challenged again"
    );
    let second = device("2");
    let accepted = store
        .accept_code(
            &again.id,
            NOW + 22,
            &LIMITS,
            &Acceptance {
                digest: &[9; 32],
                outcome: &outcome(TransStatus::Authenticated, "t"),
                trust: Some(TrustWrite {
                    device: DeviceWrite::New(&second),
                    cardholder_id: &card,
                    expires_at: NOW + 1000,
                    alert: Some(&alert),
                }),
                events: &[],
            },
        )
        .await?;
    ensure!(accepted == TRUSTED, "{accepted:?}");
    ensure!(
        store
            .trust(&second.id, &card)
            .await?
            .is_some_and(|t| t.is_live(NOW + 22)),
        "trusted after the report's resolution"
    );
    ensure!(
        store.mail_owed().await? == owed + 1,
        "with its new-browser alert"
    );
    Ok(())
}

async fn outbox_claims_are_exclusive(store: &Arc<dyn Store>) -> Result<(), Failure> {
    // Drain whatever earlier checks queued.
    for m in store.claim_mail(NOW + 100_000, 60, 1000).await? {
        store.mail_sent(m.id, m.attempts, NOW).await?;
    }
    for n in 0..20 {
        store.enqueue_mail(&mail(&format!("bulk{n}")), NOW).await?;
    }
    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let store = Arc::clone(store);
        tasks.spawn(async move { store.claim_mail(NOW, 60, 5).await });
    }
    let mut ids = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        ids.extend(
            joined
                .map_err(|e| Failure(e.to_string()))??
                .into_iter()
                .map(|m| m.id),
        );
    }
    let total = ids.len();
    ids.sort_unstable();
    ids.dedup();
    ensure!(
        total == 20 && ids.len() == 20,
        "20 mails claimed once each: {total} claims, {} distinct",
        ids.len()
    );
    ensure!(
        store.claim_mail(NOW + 59, 60, 100).await?.is_empty(),
        "leased mails are not due"
    );
    // After the lease a mail is claimable again, and the stale claim can no longer settle it.
    let again = store.claim_mail(NOW + 60, 60, 1).await?;
    ensure!(
        again.len() == 1 && again[0].attempts == 2,
        "reclaimed after lease: {again:?}"
    );
    let m = &again[0];
    ensure!(
        !store.mail_sent(m.id, 1, NOW).await?,
        "a stale claim must not mark it sent"
    );
    ensure!(
        !store.mail_failed(m.id, 1, Some(NOW), "x").await?,
        "nor failed"
    );
    ensure!(
        store
            .mail_failed(m.id, 2, Some(NOW + 500), "smtp down")
            .await?,
        "retry later"
    );
    ensure!(
        store
            .claim_mail(NOW + 499, 60, 100)
            .await?
            .iter()
            .all(|x| x.id != m.id),
        "not due before retry_at"
    );
    let retried = store.claim_mail(NOW + 500, 60, 100).await?;
    let Some(r) = retried.iter().find(|x| x.id == m.id) else {
        return Err(Failure("due again at retry_at".into()));
    };
    ensure!(
        store.mail_failed(r.id, r.attempts, None, "gave up").await?,
        "give up"
    );
    ensure!(
        store
            .claim_mail(NOW + 100_000, 60, 100)
            .await?
            .iter()
            .all(|x| x.id != m.id),
        "a given-up mail is never claimed again"
    );
    store.deliver_to_mailbox(&again[0], NOW).await?;
    let inbox = store.mailbox(10).await?;
    ensure!(
        inbox.first().map(|x| x.subject.clone()) == Some(again[0].subject.clone()),
        "mailbox holds the delivered mail"
    );
    Ok(())
}

/// An idempotency key stores its authentication with it, and a second use stores nothing.
async fn idempotency_keys_bind_one_authentication(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = merchant("m_idem");
    store.insert_merchant(&m, &k).await?;
    let key = |authentication_id: &str| IdempotencyKey {
        merchant_id: m.id.clone(),
        key: "order-7-attempt".into(),
        request_hash: vec![3; 32],
        authentication_id: au(authentication_id),
        created_at: NOW,
    };
    ensure!(
        store
            .idempotency_key(&m.id, "order-7-attempt")
            .await?
            .is_none(),
        "no key before its first use"
    );
    store
        .insert_authentication_with_key(
            &authentication("au_idem1", m.id.as_str(), None),
            &key("au_idem1"),
            None,
        )
        .await?;
    ensure!(
        store.idempotency_key(&m.id, "order-7-attempt").await? == Some(key("au_idem1")),
        "the key reads back as stored"
    );
    let second = store
        .insert_authentication_with_key(
            &authentication("au_idem2", m.id.as_str(), None),
            &key("au_idem2"),
            None,
        )
        .await;
    ensure!(
        matches!(second, Err(StoreError::Conflict)),
        "a used key is a conflict: {second:?}"
    );
    ensure!(
        store.authentication(&au("au_idem2")).await?.is_none(),
        "nothing of the refused request is stored"
    );
    let (other, other_key) = merchant("m_idem_other");
    store.insert_merchant(&other, &other_key).await?;
    ensure!(
        store
            .idempotency_key(&other.id, "order-7-attempt")
            .await?
            .is_none(),
        "keys are per merchant"
    );
    Ok(())
}

/// While an authentication of an order is live, another of the same merchant and order is
/// refused and stores nothing, even when twenty race; a finished one blocks nothing.
async fn an_order_has_one_live_authentication(store: &Arc<dyn Store>) -> Result<(), Failure> {
    let (m, k) = merchant("m_order");
    store.insert_merchant(&m, &k).await?;
    let (other, other_key) = merchant("m_order_other");
    store.insert_merchant(&other, &other_key).await?;
    let shared = OrderRef::parse("order-shared".into()).expect("an order reference");
    let of_order = |id: &str, merchant: &str| Authentication {
        order_ref: shared.clone(),
        ..authentication(id, merchant, None)
    };
    let live = || store.live_authentication_for_order(&m.id, &shared);
    ensure!(live().await?.is_none(), "no live authentication yet");
    store
        .insert_authentication(&of_order("au_order1", "m_order"), None)
        .await?;
    ensure!(
        live().await?.map(|a| a.id) == Some(au("au_order1")),
        "the first is the order's live authentication"
    );
    let second = store
        .insert_authentication(&of_order("au_order2", "m_order"), None)
        .await;
    ensure!(
        matches!(second, Err(StoreError::OrderInProgress)),
        "a second live one is refused: {second:?}"
    );
    let keyed = IdempotencyKey {
        merchant_id: m.id.clone(),
        key: "order-shared-2".into(),
        request_hash: vec![4; 32],
        authentication_id: au("au_order3"),
        created_at: NOW,
    };
    let third = store
        .insert_authentication_with_key(&of_order("au_order3", "m_order"), &keyed, None)
        .await;
    ensure!(
        matches!(third, Err(StoreError::OrderInProgress)),
        "with a key too: {third:?}"
    );
    ensure!(
        store.authentication(&au("au_order2")).await?.is_none()
            && store.authentication(&au("au_order3")).await?.is_none()
            && store
                .idempotency_key(&m.id, "order-shared-2")
                .await?
                .is_none(),
        "nothing of a refused one is stored"
    );
    store
        .insert_authentication(&of_order("au_order_other", "m_order_other"), None)
        .await?;

    // Cancelled, the first no longer blocks.
    ensure!(
        store
            .conclude(
                &au("au_order1"),
                NOW + 1,
                State::Pending,
                Final::Cancelled,
                &outcome(TransStatus::NotAuthenticated, "tok-n"),
                None,
                &[]
            )
            .await?,
        "the first is cancelled"
    );
    ensure!(live().await?.is_none(), "a finished one is not live");

    let mut tasks = JoinSet::new();
    for n in 0..20 {
        let store = Arc::clone(store);
        let racing = of_order(&format!("au_order_race{n}"), "m_order");
        tasks.spawn(async move { store.insert_authentication(&racing, None).await });
    }
    let (mut stored, mut refused) = (0, 0);
    while let Some(inserted) = tasks.join_next().await {
        match inserted.expect("the task ran") {
            Ok(()) => stored += 1,
            Err(StoreError::OrderInProgress) => refused += 1,
            Err(other) => return Err(other.into()),
        }
    }
    ensure!(
        (stored, refused) == (1, 19),
        "one of twenty racing inserts is stored: {stored} stored, {refused} refused"
    );
    ensure!(live().await?.is_some(), "the winner is live");
    Ok(())
}

/// A sandbox merchant's mail is kept for it alone and never enters the outbox.
async fn sandbox_mail_is_kept_per_merchant(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = merchant("m_sandbox_mail");
    store.insert_merchant(&m, &k).await?;
    let kept = NewMail {
        sandbox: Some(SandboxMailbox {
            merchant_id: m.id.clone(),
            authentication_id: au("au_sandbox_1"),
        }),
        ..mail("sandbox_code")
    };
    store.enqueue_mail(&kept, NOW).await?;
    let outbox = store.claim_mail(NOW + 1_000_000, 60, 1000).await?;
    ensure!(
        outbox.iter().all(|x| x.kind != "sandbox_code"),
        "sandbox mail is never sent"
    );
    let inbox = store.sandbox_mail(&m.id, 10).await?;
    ensure!(inbox.len() == 1, "one kept mail, not {}", inbox.len());
    ensure!(
        inbox[0].kind == "sandbox_code"
            && inbox[0].authentication_id == Some(au("au_sandbox_1"))
            && inbox[0].merchant_id.as_ref() == Some(&m.id),
        "the kept mail names its merchant and authentication: {:?}",
        inbox[0]
    );
    ensure!(
        store.sandbox_mail(&mid("m_idem"), 10).await?.is_empty(),
        "another merchant reads none of it"
    );
    Ok(())
}

/// Marks every mail owed so far sent, so that a check sees only its own; answers those mails.
async fn drain_outbox(store: &dyn Store) -> Result<Vec<Mail>, Failure> {
    let mails = store.claim_mail(NOW + 100_000_000, 60, 100_000).await?;
    for m in &mails {
        store.mail_sent(m.id, m.attempts, NOW).await?;
    }
    Ok(mails)
}

/// Kinds of `mails`, in order.
fn kinds(mails: &[Mail]) -> Vec<&str> {
    mails.iter().map(|m| m.kind.as_str()).collect()
}

/// A mail's thread (its `Message-ID`s' source) comes back from the claim as it was queued, and
/// so does a mail without one.
async fn mail_keeps_its_thread(store: &dyn Store) -> Result<(), Failure> {
    drain_outbox(store).await?;
    let auth = AuthenticationId::from_static("au_thread");
    let threads = [
        Some(MailThread::code(&auth, 2)),
        Some(MailThread::after_code(&auth)),
        None,
    ];
    for thread in &threads {
        let queued = NewMail {
            thread: thread.clone(),
            ..mail("code")
        };
        store.enqueue_mail(&queued, NOW).await?;
    }
    let claimed = store.claim_mail(NOW, 60, 10).await?;
    let back: Vec<_> = claimed.iter().map(|m| m.thread.clone()).collect();
    ensure!(back == threads, "threads as queued: {back:?}");
    let one = store.mail(claimed[0].id).await?.map(|m| m.thread);
    ensure!(one == Some(threads[0].clone()), "by id too: {one:?}");
    Ok(())
}

/// A code queued behind a burst of alerts is claimed first, and a claim answers codes first.
async fn codes_are_claimed_before_alerts(store: &dyn Store) -> Result<(), Failure> {
    drain_outbox(store).await?;
    for n in 0..5 {
        store
            .enqueue_mail(&mail(&format!("alert_{n}")), NOW - 10 + n)
            .await?;
    }
    store.enqueue_mail(&mail("code"), NOW).await?;
    let first = store.claim_mail(NOW, 60, 1).await?;
    ensure!(
        kinds(&first) == ["code"],
        "the code comes first: {:?}",
        kinds(&first)
    );
    let rest = store.claim_mail(NOW, 60, 2).await?;
    ensure!(
        kinds(&rest) == ["alert_0", "alert_1"],
        "then the alerts, oldest first: {:?}",
        kinds(&rest)
    );
    store.enqueue_mail(&mail("alert_late"), NOW).await?;
    store.enqueue_mail(&mail("code"), NOW).await?;
    let batch = store.claim_mail(NOW, 60, 10).await?;
    ensure!(
        kinds(&batch) == ["code", "alert_2", "alert_3", "alert_4", "alert_late"],
        "a batch answers its code first: {:?}",
        kinds(&batch)
    );
    Ok(())
}

/// An alert about a card, for the dedupe checks.
fn alert(kind: &str, card: &str) -> NewMail {
    NewMail {
        dedupe: Some(Dedupe {
            cardholder_id: ch(card),
            window: 3600,
        }),
        ..mail(kind)
    }
}

/// At most one alert of a kind per card per window, even from concurrent transactions; other
/// kinds, other cards, codes and sandbox mail are not held back.
async fn alerts_are_deduplicated_per_card_and_window(
    store: &Arc<dyn Store>,
) -> Result<(), Failure> {
    drain_outbox(store.as_ref()).await?;
    for card in ["ch_dedupe", "ch_dedupe_other", "ch_dedupe_race"] {
        store.insert_cardholder(&cardholder(card)).await?;
    }
    store
        .enqueue_mail(&alert("alert_rejected", "ch_dedupe"), NOW)
        .await?;
    store
        .enqueue_mail(&alert("alert_rejected", "ch_dedupe"), NOW + 10)
        .await?;
    store
        .enqueue_mail(&alert("alert_rejected", "ch_dedupe"), NOW + 3599)
        .await?;
    store
        .enqueue_mail(&alert("alert_failed", "ch_dedupe"), NOW + 20)
        .await?;
    store
        .enqueue_mail(&alert("alert_rejected", "ch_dedupe_other"), NOW + 30)
        .await?;
    store.enqueue_mail(&mail("code"), NOW + 40).await?;
    store.enqueue_mail(&mail("code"), NOW + 41).await?;
    let queued = store.claim_mail(NOW + 3599, 60, 100).await?;
    ensure!(
        kinds(&queued)
            == [
                "code",
                "code",
                "alert_rejected",
                "alert_failed",
                "alert_rejected"
            ],
        "one alert of each kind per card, every code: {:?}",
        kinds(&queued)
    );
    // A window is measured from the alert that opened it; a dropped one does not extend it.
    store
        .enqueue_mail(&alert("alert_rejected", "ch_dedupe"), NOW + 3600)
        .await?;
    let next = store.claim_mail(NOW + 3600, 60, 100).await?;
    ensure!(
        kinds(&next) == ["alert_rejected"],
        "the next window's alert is queued: {:?}",
        kinds(&next)
    );

    let mut tasks = JoinSet::new();
    for _ in 0..8 {
        let store = Arc::clone(store);
        tasks.spawn(async move {
            store
                .enqueue_mail(&alert("alert_rejected", "ch_dedupe_race"), NOW)
                .await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| Failure(e.to_string()))??;
    }
    let raced = store.claim_mail(NOW + 3600, 60, 100).await?;
    ensure!(
        raced.len() == 1,
        "eight concurrent alerts for one card queue one: {:?}",
        kinds(&raced)
    );

    let (m, k) = merchant("m_sandbox_dedupe");
    store.insert_merchant(&m, &k).await?;
    let kept = NewMail {
        sandbox: Some(SandboxMailbox {
            merchant_id: m.id.clone(),
            authentication_id: au("au_sandbox_dedupe"),
        }),
        ..alert("alert_rejected", "ch_dedupe_other")
    };
    store.enqueue_mail(&kept, NOW + 50).await?;
    store.enqueue_mail(&kept, NOW + 60).await?;
    ensure!(
        store.sandbox_mail(&m.id, 10).await?.len() == 2,
        "a sandbox merchant keeps every alert it causes"
    );
    Ok(())
}

/// A claim renewed while its mail is being sent is not claimable by another worker; once
/// another worker has claimed the mail (the lease ran out), the old claim cannot be renewed.
async fn a_renewed_claim_holds_and_a_stale_one_cannot_renew(
    store: &dyn Store,
) -> Result<(), Failure> {
    drain_outbox(store).await?;
    store.enqueue_mail(&mail("renewed"), NOW).await?;
    let [m] = &store.claim_mail(NOW, 60, 10).await?[..] else {
        return Err(Failure("one mail claimed".into()));
    };
    ensure!(
        store.renew_mail(m.id, m.attempts, NOW + 150).await?,
        "the current claim renews"
    );
    ensure!(
        store.claim_mail(NOW + 60, 60, 10).await?.is_empty(),
        "a renewed claim outlasts its first lease"
    );
    ensure!(
        store.claim_mail(NOW + 149, 60, 10).await?.is_empty(),
        "and holds until its new end"
    );
    let [again] = &store.claim_mail(NOW + 150, 60, 10).await?[..] else {
        return Err(Failure("claimable once the renewed lease ran out".into()));
    };
    ensure!(again.attempts == m.attempts + 1, "a new claim: {again:?}");
    ensure!(
        !store.renew_mail(m.id, m.attempts, NOW + 300).await?,
        "the stale claim cannot renew"
    );
    ensure!(
        store.claim_mail(NOW + 209, 60, 10).await?.is_empty(),
        "and did not extend the new one"
    );
    ensure!(
        store.mail_sent(again.id, again.attempts, NOW + 160).await?,
        "the current claim settles"
    );
    ensure!(
        !store
            .renew_mail(again.id, again.attempts, NOW + 300)
            .await?,
        "a sent mail's claim cannot renew"
    );
    Ok(())
}

/// A mail sent or given up keeps no body (a code lives only while it is owed); one scheduled
/// for a retry keeps its bodies for the next attempt.
async fn settled_mail_is_scrubbed(store: &dyn Store) -> Result<(), Failure> {
    drain_outbox(store).await?;
    store.enqueue_mail(&mail("scrub_sent"), NOW).await?;
    store.enqueue_mail(&mail("scrub_failed"), NOW).await?;
    let claimed = store.claim_mail(NOW, 60, 10).await?;
    let [sent, failed] = &claimed[..] else {
        return Err(Failure(format!("two mails claimed: {:?}", kinds(&claimed))));
    };
    store.mail_sent(sent.id, sent.attempts, NOW).await?;
    ensure!(
        store
            .mail_failed(failed.id, failed.attempts, Some(NOW + 5), "busy")
            .await?,
        "retry"
    );
    let retried = store.mail(failed.id).await?;
    ensure!(
        retried
            .as_ref()
            .is_some_and(|r| !r.text.is_empty() && !r.html.is_empty()),
        "a mail to retry keeps its bodies: {retried:?}"
    );
    let [again] = &store.claim_mail(NOW + 5, 60, 10).await?[..] else {
        return Err(Failure("due again".into()));
    };
    ensure!(again.text == failed.text, "and delivers them: {again:?}");
    ensure!(
        store
            .mail_failed(again.id, again.attempts, None, "gave up")
            .await?,
        "give up"
    );
    for id in [sent.id, failed.id] {
        let row = store.mail(id).await?;
        ensure!(
            row.as_ref()
                .is_some_and(|r| r.text.is_empty() && r.html.is_empty() && !r.subject.is_empty()),
            "a settled mail keeps no body: {row:?}"
        );
    }
    Ok(())
}
async fn requests_are_counted_once_each(store: &Arc<dyn Store>) -> Result<(), Failure> {
    let mut tasks = JoinSet::new();
    for _ in 0..50 {
        let store = Arc::clone(store);
        tasks.spawn(async move { store.count_request("widget:192.0.2.9", NOW).await });
    }
    let mut counts = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        counts.push(joined.map_err(|e| Failure(e.to_string()))??);
    }
    counts.sort_unstable();
    ensure!(
        counts == (1..=50).collect::<Vec<i64>>(),
        "50 concurrent requests must see the counts 1 to 50 once each: {counts:?}"
    );
    // Counts taken back and counts made at once compose: 50 - 20 + 20, then one more.
    let mut tasks = JoinSet::new();
    for n in 0..40 {
        let store = Arc::clone(store);
        tasks.spawn(async move {
            if n % 2 == 0 {
                store.uncount_request("widget:192.0.2.9", NOW).await
            } else {
                store.count_request("widget:192.0.2.9", NOW).await.map(drop)
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| Failure(e.to_string()))??;
    }
    ensure!(
        store.count_request("widget:192.0.2.9", NOW).await? == 51,
        "20 taken back and 20 counted at once leave 50"
    );
    ensure!(
        store.requests_counted("widget:192.0.2.9", NOW).await? == 51,
        "a read sees the count"
    );
    ensure!(
        store.requests_counted("widget:192.0.2.9", NOW).await? == 51,
        "and counts nothing"
    );
    ensure!(
        store.requests_counted("widget:192.0.2.9", NOW + 60).await? == 0
            && store.requests_counted("widget:192.0.2.10", NOW).await? == 0,
        "a window or bucket never counted reads zero"
    );
    store.uncount_request("widget:192.0.2.9", NOW + 60).await?;
    ensure!(
        store.count_request("widget:192.0.2.9", NOW + 60).await? == 1,
        "a new window starts at one, taking back from nothing left nothing"
    );
    ensure!(
        store.count_request("create:k_other", NOW).await? == 1,
        "buckets are counted apart"
    );
    ensure!(
        store.forget_requests(NOW + 60).await? == 2,
        "the finished windows are forgotten"
    );
    ensure!(
        store.requests_counted("widget:192.0.2.9", NOW).await? == 0,
        "a forgotten window reads zero"
    );
    store.uncount_request("widget:192.0.2.9", NOW).await?;
    ensure!(
        store.count_request("widget:192.0.2.9", NOW).await? == 1,
        "a forgotten window counts from one again, taking back from it left nothing"
    );
    Ok(())
}
