//! The admin API's part of the suite ([`crate::store::AdminStore`]): tokens by digest, their
//! coarse last use and revocation, changing cards (a change of address with its notice and
//! contact epoch) and unenrolling them, replacing origins.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{
    Acceptance, DeviceWrite, Failure, LIMITS, NOW, TRUSTED, TransStatus, TrustWrite, ch,
    challenging, drain_outbox, dv, fr, mail, merchant, mid, outcome,
};
use crate::mail::templates::ADDRESS_CHANGED;
use crate::model::{AdminTokenId, CardStatus, Ceilings, Device, FraudReport, Locale, NewMail};
use crate::store::{
    AddressMove, AdminToken, CardholderChange, CaseOpening, Store, StoreError, Succession,
};

/// Runs the admin checks.
pub(super) async fn run_all(store: &Arc<dyn Store>) -> Result<(), Failure> {
    tokens_are_found_by_digest_and_revoked_once(store.as_ref()).await?;
    a_change_sets_only_what_it_names(store.as_ref()).await?;
    a_change_of_address_is_noticed_once_and_moves_the_epoch(store.as_ref()).await?;
    racing_changes_of_address_notice_once(store).await?;
    the_issuers_change_tells_the_former_address(store.as_ref()).await?;
    unenrolling_keeps_the_row_and_frees_the_reference(store).await?;
    enrolling_again_tells_the_last_predecessor(store.as_ref()).await?;
    origins_are_replaced_whole(store.as_ref()).await?;
    Ok(())
}

fn token(id: &str, digest: u8) -> AdminToken {
    AdminToken {
        id: AdminTokenId::parse(id).expect("an admin token id"),
        name: format!("name of {id}"),
        digest: vec![digest; 32],
        created_at: NOW,
        last_used_at: None,
        revoked_at: None,
    }
}

async fn tokens_are_found_by_digest_and_revoked_once(store: &dyn Store) -> Result<(), Failure> {
    let (first, second) = (token("at_one", 1), token("at_two", 2));
    store.insert_admin_token(&first).await?;
    store.insert_admin_token(&second).await?;
    ensure!(
        matches!(
            store.insert_admin_token(&token("at_three", 1)).await,
            Err(StoreError::Conflict)
        ),
        "a digest is unique"
    );
    ensure!(
        store.admin_token_by_digest(&[1; 32]).await? == Some(first.clone()),
        "found by digest"
    );
    ensure!(
        store.admin_token_by_digest(&[3; 32]).await?.is_none(),
        "an unknown digest finds nothing"
    );
    ensure!(
        store.admin_tokens().await? == vec![first.clone(), second.clone()],
        "listed oldest first"
    );

    // The last use is written at most once per window.
    ensure!(
        store
            .touch_admin_token(&first.id, NOW + 5, NOW + 5 - 60)
            .await?,
        "first use recorded"
    );
    ensure!(
        !store
            .touch_admin_token(&first.id, NOW + 30, NOW + 30 - 60)
            .await?,
        "a use within the minute writes nothing"
    );
    ensure!(
        store
            .touch_admin_token(&first.id, NOW + 70, NOW + 70 - 60)
            .await?,
        "a use a minute later is recorded"
    );
    let used = store.admin_token_by_digest(&[1; 32]).await?;
    ensure!(
        used.as_ref().and_then(|t| t.last_used_at) == Some(NOW + 70),
        "last use: {used:?}"
    );

    ensure!(
        store.revoke_admin_token(&first.id, NOW + 80).await?,
        "revoke"
    );
    ensure!(
        !store.revoke_admin_token(&first.id, NOW + 90).await?,
        "revoke twice"
    );
    ensure!(
        !store
            .revoke_admin_token(&AdminTokenId::parse("at_nope").expect("an id"), NOW)
            .await?,
        "revoke an unknown token"
    );
    let revoked = store.admin_token_by_digest(&[1; 32]).await?;
    ensure!(
        revoked.as_ref().and_then(|t| t.revoked_at) == Some(NOW + 80),
        "revocation time kept: {revoked:?}"
    );
    ensure!(
        !store
            .touch_admin_token(&first.id, NOW + 200, NOW + 140)
            .await?,
        "a revoked token's use is not recorded"
    );
    ensure!(
        store.admin_token_by_digest(&[2; 32]).await? == Some(second),
        "the other token is untouched"
    );
    Ok(())
}

async fn a_change_sets_only_what_it_names(store: &dyn Store) -> Result<(), Failure> {
    let card = super::cardholder("ch_change");
    store.insert_cardholder(&card).await?;
    let notice = mail(ADDRESS_CHANGED);
    let changed = move_address(store, &card.id, &card.email, "new@example.com", &notice).await?;
    let expected = super::Cardholder {
        email: "new@example.com".into(),
        contact_epoch: card.contact_epoch + 1,
        ..card.clone()
    };
    ensure!(
        changed.as_ref() == Some(&expected),
        "email only: {changed:?}"
    );
    let rest = CardholderChange {
        locale: Some(Locale::En),
        ceilings: Some(Ceilings::parse("USD:100").expect("ceilings")),
    };
    let changed = store.change_cardholder(&card.id, &rest, None).await?;
    ensure!(
        changed.as_ref().map(|c| (
            c.email.as_str(),
            c.locale,
            c.frictionless_ceilings.to_string()
        )) == Some(("new@example.com", Locale::En, "USD:100".into())),
        "locale and ceilings: {changed:?}"
    );
    ensure!(
        changed.as_ref().map(|c| c.contact_epoch) == Some(card.contact_epoch + 1),
        "locale and ceilings leave the contact epoch: {changed:?}"
    );
    ensure!(
        store.cardholder(&card.id).await? == changed,
        "the answer is what is stored"
    );
    ensure!(
        store
            .change_cardholder(&ch("ch_nobody"), &rest, None)
            .await?
            .is_none(),
        "an unknown card"
    );
    Ok(())
}

/// Moves the card `id` from the address `from` to `to` with `notice`, changing nothing else.
async fn move_address(
    store: &dyn Store,
    id: &super::CardholderId,
    from: &str,
    to: &str,
    notice: &NewMail,
) -> Result<Option<super::Cardholder>, StoreError> {
    let moved = AddressMove {
        from,
        to,
        notice,
        now: NOW + 5,
    };
    store
        .change_cardholder(id, &CardholderChange::default(), Some(moved))
        .await
}

/// A change of address with its notice: made only from the address read, with exactly its
/// notice, and a contact epoch that grows with every move, A → B → A included; the same address
/// rewritten, or only a language, moves nothing and queues nothing.
async fn a_change_of_address_is_noticed_once_and_moves_the_epoch(
    store: &dyn Store,
) -> Result<(), Failure> {
    drain_outbox(store).await?;
    let card = super::cardholder("ch_move");
    store.insert_cardholder(&card).await?;
    let notice = mail(ADDRESS_CHANGED);

    let moved = move_address(store, &card.id, &card.email, "b@example.com", &notice).await?;
    ensure!(
        moved.as_ref().map(|c| (c.email.as_str(), c.contact_epoch)) == Some(("b@example.com", 1)),
        "A -> B: {moved:?}"
    );
    let mails = drain_outbox(store).await?;
    ensure!(
        mails.len() == 1 && mails[0].kind == ADDRESS_CHANGED,
        "exactly the notice: {mails:?}"
    );

    // A change made from an address the card no longer has: nothing changes, nothing is queued.
    let stale = move_address(store, &card.id, &card.email, "c@example.com", &notice).await?;
    ensure!(stale.is_none(), "from a stale address: {stale:?}");
    ensure!(
        store.cardholder(&card.id).await? == moved,
        "the stale change wrote nothing"
    );
    ensure!(drain_outbox(store).await?.is_empty(), "and queued nothing");

    // The same address again, or only a language: no move, no epoch, no mail.
    let same = move_address(store, &card.id, "b@example.com", "b@example.com", &notice).await?;
    let language = CardholderChange {
        locale: Some(Locale::En),
        ..CardholderChange::default()
    };
    let language = store.change_cardholder(&card.id, &language, None).await?;
    ensure!(
        same.as_ref().map(|c| c.contact_epoch) == Some(1)
            && language.as_ref().map(|c| (c.contact_epoch, c.locale)) == Some((1, Locale::En)),
        "no move: {same:?} {language:?}"
    );
    ensure!(
        drain_outbox(store).await?.is_empty(),
        "no mail without a move"
    );

    // Back to the first address: the epoch does not come back with it.
    let back = move_address(store, &card.id, "b@example.com", &card.email, &notice).await?;
    ensure!(
        back.as_ref().map(|c| (c.email.as_str(), c.contact_epoch))
            == Some((card.email.as_str(), 2)),
        "B -> A: {back:?}"
    );
    ensure!(
        drain_outbox(store).await?.len() == 1,
        "one notice for B -> A"
    );

    // An unenrolled card is not moved, and its notice is not queued.
    ensure!(
        store.unenrol_cardholder(&card.id, NOW + 6).await?,
        "unenrolled"
    );
    let gone = move_address(store, &card.id, &card.email, "d@example.com", &notice).await?;
    ensure!(gone.is_none(), "an unenrolled card: {gone:?}");
    ensure!(drain_outbox(store).await?.is_empty(), "no notice for it");
    Ok(())
}

/// Two changes of one card's address made from the same read, at once: one wins, with its one
/// notice; the other changes nothing.
async fn racing_changes_of_address_notice_once(store: &Arc<dyn Store>) -> Result<(), Failure> {
    drain_outbox(store.as_ref()).await?;
    let card = super::cardholder("ch_race_move");
    store.insert_cardholder(&card).await?;
    let mut tasks = JoinSet::new();
    for n in 0..4 {
        let store = Arc::clone(store);
        let card = card.clone();
        tasks.spawn(async move {
            let notice = mail(ADDRESS_CHANGED);
            let to = format!("n{n}@example.com");
            move_address(store.as_ref(), &card.id, &card.email, &to, &notice).await
        });
    }
    let mut won = 0;
    while let Some(done) = tasks.join_next().await {
        won += usize::from(done.map_err(|e| Failure(e.to_string()))??.is_some());
    }
    ensure!(won == 1, "{won} changes won");
    let stored = store.cardholder(&card.id).await?;
    ensure!(
        stored.as_ref().map(|c| c.contact_epoch) == Some(1),
        "one move: {stored:?}"
    );
    let mails = drain_outbox(store.as_ref()).await?;
    ensure!(mails.len() == 1, "one notice: {mails:?}");
    Ok(())
}

/// `change` made to `card` by [`crate::admin::change_cardholder`].
async fn issuer_change(
    store: &dyn Store,
    card: &super::Cardholder,
    email: Option<&str>,
    change: CardholderChange,
) -> Result<super::Cardholder, Failure> {
    crate::admin::change_cardholder(store, &card.id, email, &change, NOW + 7)
        .await
        .map_err(|e| Failure(format!("change: {e}")))
}

/// The operation the admin API calls: a new address queues one notice to the former
/// one, naming no address; an address equal once normalised, or a language alone, queues none
/// and leaves the epoch.
async fn the_issuers_change_tells_the_former_address(store: &dyn Store) -> Result<(), Failure> {
    drain_outbox(store).await?;
    let card = super::cardholder("ch_issuer_move");
    store.insert_cardholder(&card).await?;
    let respelled = Some("ch_issuer_move@EXAMPLE.com");
    let same = issuer_change(store, &card, respelled, CardholderChange::default()).await?;
    ensure!(
        same.contact_epoch == 0 && same.email == card.email,
        "the same address, its domain in capitals: {same:?}"
    );
    let language = CardholderChange {
        locale: Some(Locale::En),
        ceilings: Some(Ceilings::parse("USD:100").expect("ceilings")),
    };
    let language = issuer_change(store, &card, None, language).await?;
    ensure!(language.contact_epoch == 0, "language: {language:?}");
    ensure!(
        drain_outbox(store).await?.is_empty(),
        "no notice without a new address"
    );

    let thief = Some("jiro.thief@example.org");
    let moved = issuer_change(store, &card, thief, CardholderChange::default()).await?;
    ensure!(
        (moved.email.as_str(), moved.contact_epoch) == ("jiro.thief@example.org", 1),
        "moved: {moved:?}"
    );
    let mails = drain_outbox(store).await?;
    let [notice] = mails.as_slice() else {
        return Err(Failure(format!("one notice: {mails:?}")));
    };
    ensure!(
        notice.kind == ADDRESS_CHANGED && notice.recipient == card.email,
        "to the former address: {notice:?}"
    );
    ensure!(
        !notice.text.contains('@')
            && !notice.html.contains('@')
            && !notice.subject.contains('@')
            && notice.text.contains(&card.last4),
        "the card, and no address: {notice:?}"
    );
    Ok(())
}

async fn unenrolling_keeps_the_row_and_frees_the_reference(
    store: &Arc<dyn Store>,
) -> Result<(), Failure> {
    let id = challenging(store.as_ref(), "unenrol").await?;
    let card = ch("ch_unenrol");
    let device = Device {
        id: dv("dv_unenrol"),
        merchant_id: mid("m_unenrol"),
        fingerprint: "{}".into(),
        public_key: None,
        created_at: NOW,
        expires_at: NOW + 1000,
        revoked_at: None,
    };
    let trusted = outcome(TransStatus::Authenticated, "t");
    let accept = Acceptance {
        digest: &[9; 32],
        outcome: &trusted,
        trust: Some(TrustWrite {
            device: DeviceWrite::New(&device),
            cardholder_id: &card,
            expires_at: NOW + 1000,
            alert: None,
        }),
        events: &[],
    };
    ensure!(
        store.accept_code(&id, NOW, &LIMITS, &accept).await? == TRUSTED,
        "the card trusts a browser"
    );
    // Two unenrolments race: one wins, the other changes nothing.
    let mut races = JoinSet::new();
    for _ in 0..2 {
        let store = Arc::clone(store);
        let card = card.clone();
        races.spawn(async move { store.unenrol_cardholder(&card, NOW + 10).await });
    }
    let mut won = 0;
    while let Some(done) = races.join_next().await {
        if done.map_err(|e| Failure(e.to_string()))?? {
            won += 1;
        }
    }
    ensure!(won == 1, "{won} unenrolments won");

    let row = store.cardholder(&card).await?;
    ensure!(
        row.as_ref().map(|c| c.status) == Some(CardStatus::Unenrolled),
        "the row stays, unenrolled: {row:?}"
    );
    let trust = store.trust(&device.id, &card).await?;
    ensure!(
        trust.and_then(|t| t.revoked_at) == Some(NOW + 10),
        "its trust in every browser is revoked"
    );
    // A report link mailed before unenrolment still works, and the report is kept.
    let report = FraudReport {
        id: fr("fr_unenrol"),
        cardholder_id: card.clone(),
        authentication_id: id.clone(),
        created_at: NOW + 11,
        resolved_at: None,
    };
    let case = super::cases::case_of("pc_unenrol", &report, "m_unenrol");
    let opening = CaseOpening {
        case: &case,
        mail: &super::mail("case_open"),
        events: &[],
    };
    ensure!(store.report_fraud(&report, &opening).await?, "reported");
    ensure!(
        store.report(&report.id).await? == Some(report.clone()),
        "a report by id"
    );
    ensure!(
        store.report(&fr("fr_nothing")).await?.is_none(),
        "an unknown report"
    );
    ensure!(
        store.cardholder_by_ref("ref-ch_unenrol").await?.is_none(),
        "the reference finds nothing"
    );
    ensure!(
        store.authentication(&id).await?.is_some() && store.report(&report.id).await?.is_some(),
        "its authentications and reports stay"
    );
    ensure!(
        !store.set_card_status(&card, CardStatus::Active).await?,
        "an unenrolled card cannot be unblocked"
    );
    ensure!(
        store
            .change_cardholder(&card, &CardholderChange::default(), None)
            .await?
            .is_none(),
        "an unenrolled card cannot be changed"
    );
    // The same card enrolled again is a new cardholder.
    let again = super::Cardholder {
        id: ch("ch_unenrol_again"),
        ..super::cardholder("ch_unenrol")
    };
    store.insert_cardholder(&again).await?;
    ensure!(
        store.cardholder_by_ref("ref-ch_unenrol").await? == Some(again),
        "enrolled again under the same reference"
    );
    ensure!(
        !store.unenrol_cardholder(&ch("ch_nobody"), NOW).await?,
        "an unknown card"
    );
    Ok(())
}

/// A card enrolled again after unenrolment: its last unenrolled predecessor is found (not a
/// card whose reference only starts like it), and the enrolment stores the card with its
/// notice only while that predecessor is still the last; nothing when the reference is
/// enrolled.
async fn enrolling_again_tells_the_last_predecessor(store: &dyn Store) -> Result<(), Failure> {
    drain_outbox(store).await?;
    let first = super::cardholder("ch_succ");
    let notice = mail(ADDRESS_CHANGED);
    let after = |predecessor, notice| Succession {
        predecessor,
        notice,
        now: NOW,
    };
    ensure!(
        store
            .unenrolled_predecessor(&first.card_ref)
            .await?
            .is_none(),
        "never enrolled: no predecessor"
    );
    ensure!(
        store.enrol_cardholder(&first, after(None, None)).await?,
        "a first enrolment"
    );
    ensure!(
        store.cardholder(&first.id).await?.as_ref() == Some(&first),
        "stored as given"
    );
    ensure!(drain_outbox(store).await?.is_empty(), "nothing to tell");
    ensure!(
        store.unenrol_cardholder(&first.id, NOW).await?,
        "unenrolled"
    );
    // A card whose reference merely starts like this one's, unenrolled later.
    let lookalike = super::Cardholder {
        created_at: NOW + 5,
        ..super::cardholder("ch_succ_x")
    };
    store.insert_cardholder(&lookalike).await?;
    ensure!(
        store.unenrol_cardholder(&lookalike.id, NOW).await?,
        "unenrolled"
    );
    let found = store.unenrolled_predecessor(&first.card_ref).await?;
    ensure!(
        found.as_ref().map(|c| &c.id) == Some(&first.id),
        "the predecessor: {found:?}"
    );

    // Enrolled in the same second as the first, with an id that sorts before it: only the
    // order of the unenrolments may decide which is the last.
    let second = super::Cardholder {
        id: ch("ch_a_succ_2"),
        email: "thief@example.org".into(),
        created_at: first.created_at,
        ..first.clone()
    };
    ensure!(
        !store
            .enrol_cardholder(&second, after(None, Some(&notice)))
            .await?,
        "read before the first unenrolment: stale"
    );
    ensure!(
        store.cardholder(&second.id).await?.is_none() && drain_outbox(store).await?.is_empty(),
        "a stale enrolment stores and queues nothing"
    );
    ensure!(
        store
            .enrol_cardholder(&second, after(Some(&first.id), Some(&notice)))
            .await?,
        "enrolled again"
    );
    let mails = drain_outbox(store).await?;
    ensure!(
        mails.len() == 1 && mails[0].kind == ADDRESS_CHANGED,
        "with its notice: {mails:?}"
    );
    let third = super::Cardholder {
        id: ch("ch_succ_3"),
        created_at: NOW + 2,
        ..first.clone()
    };
    let enrolled = store
        .enrol_cardholder(&third, after(Some(&first.id), Some(&notice)))
        .await;
    ensure!(
        matches!(enrolled, Err(StoreError::Conflict)),
        "the reference is enrolled: {enrolled:?}"
    );
    ensure!(
        drain_outbox(store).await?.is_empty(),
        "no notice for a conflict"
    );
    ensure!(
        store.unenrol_cardholder(&second.id, NOW).await?,
        "unenrolled"
    );
    let found = store.unenrolled_predecessor(&first.card_ref).await?;
    ensure!(
        found.as_ref().map(|c| &c.id) == Some(&second.id),
        "the last unenrolled predecessor, whatever its time and id: {found:?}"
    );
    Ok(())
}

async fn origins_are_replaced_whole(store: &dyn Store) -> Result<(), Failure> {
    let (m, k) = merchant("m_origins");
    store.insert_merchant(&m, &k).await?;
    let origins = vec![
        "https://c.example".to_owned(),
        "https://d.example:8443".to_owned(),
    ];
    ensure!(store.replace_origins(&m.id, &origins).await?, "replaced");
    let stored = store.merchant(&m.id).await?.map(|m| {
        let mut origins = m.origins;
        origins.sort();
        origins
    });
    ensure!(stored == Some(origins), "stored: {stored:?}");
    ensure!(
        !store
            .replace_origins(&mid("m_nobody"), &["https://e.example".to_owned()])
            .await?,
        "an unknown merchant"
    );
    ensure!(
        store.merchant(&mid("m_nobody")).await?.is_none(),
        "nothing made for an unknown merchant"
    );
    Ok(())
}
