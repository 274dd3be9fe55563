//! The webhook part of the suite: endpoints and their secrets, events queued with the change
//! that causes them or not at all, exclusive and fenced claims, and `410 Gone`.

use std::collections::BTreeSet;
use std::sync::Arc;

use mamori_core::token::TransStatus;
use tokio::task::JoinSet;

use super::{
    Failure, LIMITS, NOW, au, authentication, challenging, mail, merchant, mid, outcome, step,
};
use crate::model::Final;
use crate::store::{DeviceNext, Store};
use crate::webhooks::{NewEvent, Owner};

/// Runs the webhook checks; each drains the events it queues, so they can run in any order
/// after the rest of the suite (which queues none).
pub(super) async fn run_all(store: &Arc<dyn Store>) -> Result<(), Failure> {
    endpoints_keep_their_secrets_through_a_rotation(store.as_ref()).await?;
    events_are_queued_with_their_change_or_not_at_all(store.as_ref()).await?;
    event_claims_are_exclusive_and_fenced(store).await?;
    a_deferred_claim_fences_out_nothing_of_the_next(store.as_ref()).await?;
    gone_disables_the_endpoint_and_gives_up_the_rest(store.as_ref()).await?;
    settled_events_are_pruned_in_batches(store.as_ref()).await?;
    Ok(())
}

/// An event for `owner` with a body naming `n`.
fn event(owner: &Owner, n: usize) -> NewEvent {
    NewEvent {
        owner: owner.clone(),
        message_id: format!("msg_conformance_{}_{n}", owner.as_str()),
        event_type: "authentication.finished",
        body: format!("{{\"n\":{n}}}"),
    }
}

async fn endpoints_keep_their_secrets_through_a_rotation(store: &dyn Store) -> Result<(), Failure> {
    let owner = Owner::Issuer;
    ensure!(
        store.webhook(&owner, NOW).await?.is_none(),
        "no endpoint yet"
    );
    ensure!(
        !store
            .rotate_webhook_secret(&owner, &[2; 80], NOW, NOW + 86_400)
            .await?,
        "no endpoint, nothing to rotate"
    );
    store
        .set_webhook(&owner, "https://issuer.example/hooks", &[1; 80], NOW)
        .await?;
    let endpoint = store
        .webhook(&owner, NOW)
        .await?
        .ok_or(Failure("set".into()))?;
    ensure!(
        endpoint.url == "https://issuer.example/hooks",
        "{endpoint:?}"
    );
    ensure!(endpoint.disabled.is_none(), "a new endpoint is live");
    ensure!(endpoint.secrets.len() == 1, "{endpoint:?}");
    ensure!(
        store
            .rotate_webhook_secret(&owner, &[2; 80], NOW + 10, NOW + 86_400)
            .await?,
        "rotate"
    );
    let during = store
        .webhook(&owner, NOW + 86_399)
        .await?
        .ok_or(Failure("rotated".into()))?;
    let sealed: Vec<_> = during.secrets.iter().map(|s| s.sealed[0]).collect();
    ensure!(
        sealed == [2, 1],
        "both sign during the overlap, newest first: {sealed:?}"
    );
    ensure!(
        during.secrets[1].expires_at == Some(NOW + 86_400),
        "{:?}",
        during.secrets
    );
    let after = store
        .webhook(&owner, NOW + 86_400)
        .await?
        .ok_or(Failure("rotated".into()))?;
    ensure!(
        after.secrets.len() == 1 && after.secrets[0].sealed[0] == 2,
        "{after:?}"
    );
    // Setting the endpoint again replaces every secret.
    store
        .set_webhook(&owner, "https://issuer.example/v2", &[3; 80], NOW + 20)
        .await?;
    let reset = store
        .webhook(&owner, NOW + 20)
        .await?
        .ok_or(Failure("reset".into()))?;
    ensure!(
        reset.secrets.len() == 1 && reset.secrets[0].sealed[0] == 3,
        "{reset:?}"
    );
    ensure!(store.remove_webhook(&owner).await?, "remove");
    ensure!(store.webhook(&owner, NOW).await?.is_none(), "removed");
    ensure!(
        !store.remove_webhook(&owner).await?,
        "nothing left to remove"
    );
    Ok(())
}

async fn events_are_queued_with_their_change_or_not_at_all(
    store: &dyn Store,
) -> Result<(), Failure> {
    let (with, key) = merchant("m_hooked");
    store.insert_merchant(&with, &key).await?;
    let (without, key) = merchant("m_unhooked");
    store.insert_merchant(&without, &key).await?;
    let hooked = Owner::Merchant(with.id.clone());
    let read = |id| async move { store.merchant(&mid(id)).await };
    ensure!(
        read("m_hooked").await?.is_some_and(|m| !m.webhook),
        "no endpoint yet"
    );
    store
        .set_webhook(&hooked, "https://shop.example/hooks", &[1; 80], NOW)
        .await?;
    // Read again at once: a store that keeps merchant rows forgets them when it sets one.
    ensure!(
        read("m_hooked").await?.is_some_and(|m| m.webhook),
        "a merchant row says it has a live endpoint"
    );
    ensure!(
        read("m_unhooked").await?.is_some_and(|m| !m.webhook),
        "and says so when it has none"
    );

    // A device step that concludes queues its event; the same step lost to a concurrent one
    // queues nothing.
    let a = authentication("au_hooked", "m_hooked", None);
    store.insert_authentication(&a, None).await?;
    let done = outcome(TransStatus::Authenticated, "t");
    let next = DeviceNext::Conclude {
        end: Final::Succeeded,
        outcome: done.clone(),
    };
    let finished = NewEvent::authentication_finished(&a, Final::Succeeded, &done, NOW)
        .map_err(|e| Failure(e.to_string()))?;
    let events = [finished.clone()];
    ensure!(
        store
            .record_device_step(&a.id, NOW, &step("192.0.2.1"), &next, None, &events)
            .await?,
        "the step happens"
    );
    let again = [event(&hooked, 99)];
    ensure!(
        !store
            .record_device_step(&a.id, NOW, &step("192.0.2.1"), &next, None, &again)
            .await?,
        "a second step does not"
    );
    let claimed = store.claim_webhook_events(NOW, 60, 10).await?;
    ensure!(
        claimed.len() == 1,
        "one event, from the step that happened: {claimed:?}"
    );
    ensure!(
        claimed[0].message_id == finished.message_id
            && claimed[0].body == finished.body
            && claimed[0].owner == hooked
            && claimed[0].attempts == 1,
        "{claimed:?}"
    );
    ensure!(
        store
            .webhook_delivered(claimed[0].id, claimed[0].claim, NOW)
            .await?,
        "delivered"
    );

    // An owner without an endpoint gets no row, in a state change or on its own.
    let b = authentication("au_unhooked", "m_unhooked", None);
    store.insert_authentication(&b, None).await?;
    let unhooked = [
        event(&Owner::Merchant(without.id.clone()), 1),
        event(&Owner::Issuer, 1),
    ];
    ensure!(
        store
            .conclude(
                &b.id,
                NOW,
                b.state(),
                Final::Cancelled,
                &done,
                None,
                &unhooked
            )
            .await?,
        "cancelled"
    );
    store.enqueue_event(&event(&Owner::Issuer, 2), NOW).await?;
    let none = store.claim_webhook_events(NOW, 60, 10).await?;
    ensure!(none.is_empty(), "no endpoint, no event: {none:?}");

    // The last wrong code queues the failure's events with the failure; earlier ones none.
    let id = challenging(store, "hooks_wrong").await?;
    let failed = [event(&hooked, 7)];
    for _ in 0..LIMITS.max_attempts {
        store
            .reject_code(&id, NOW, &LIMITS, &done, &mail("alert_failed"), &failed)
            .await?;
    }
    let claimed = store.claim_webhook_events(NOW, 60, 10).await?;
    ensure!(
        claimed.len() == 1,
        "once, on the last wrong code: {claimed:?}"
    );
    ensure!(
        store
            .webhook_delivered(claimed[0].id, claimed[0].claim, NOW)
            .await?,
        "delivered"
    );
    // Wrong codes past the end change nothing, and queue nothing.
    store
        .reject_code(
            &au("au_hooks_wrong"),
            NOW,
            &LIMITS,
            &done,
            &mail("x"),
            &failed,
        )
        .await?;
    ensure!(
        store.claim_webhook_events(NOW, 60, 10).await?.is_empty(),
        "nothing more"
    );
    ensure!(store.remove_webhook(&hooked).await?, "clean up");
    Ok(())
}

async fn event_claims_are_exclusive_and_fenced(store: &Arc<dyn Store>) -> Result<(), Failure> {
    let owner = Owner::Merchant(mid("m_claims"));
    store
        .set_webhook(&owner, "https://claims.example/", &[1; 80], NOW)
        .await?;
    for n in 0..20 {
        store.enqueue_event(&event(&owner, n), NOW).await?;
    }
    // Two claimers at once, three at a time, until nothing is due: each event exactly once.
    let mut tasks = JoinSet::new();
    for _ in 0..2 {
        let store = Arc::clone(store);
        tasks.spawn(async move {
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_webhook_events(NOW, 60, 3).await?;
                if batch.is_empty() {
                    return Ok::<_, crate::store::StoreError>(mine);
                }
                mine.extend(batch);
            }
        });
    }
    let mut claimed = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        claimed.extend(joined.map_err(|e| Failure(e.to_string()))??);
    }
    let ids: BTreeSet<_> = claimed.iter().map(|e| e.id).collect();
    ensure!(
        claimed.len() == 20 && ids.len() == 20,
        "each once: {}",
        claimed.len()
    );

    let first = &claimed[0];
    ensure!(
        store
            .renew_webhook_event(first.id, first.claim, NOW + 120)
            .await?,
        "the current claim renews"
    );
    ensure!(
        store
            .claim_webhook_events(NOW + 59, 60, 50)
            .await?
            .is_empty(),
        "nothing is due while every claim holds"
    );
    // After the leases lapse (the renewed one later), the rest are claimed again, attempt 2.
    let lapsed = store.claim_webhook_events(NOW + 100, 60, 50).await?;
    ensure!(lapsed.len() == 19, "{}", lapsed.len());
    ensure!(lapsed.iter().all(|e| e.attempts == 2), "{lapsed:?}");
    let second = &lapsed[0];
    ensure!(
        !store
            .webhook_delivered(second.id, second.claim - 1, NOW + 100)
            .await?,
        "a stale claim settles nothing"
    );
    ensure!(
        !store
            .renew_webhook_event(second.id, second.claim - 1, NOW + 500)
            .await?,
        "nor renews"
    );
    ensure!(
        store
            .webhook_failed(second.id, second.claim, Some(NOW + 1_000), "HTTP 500")
            .await?,
        "the current claim fails it"
    );
    for e in &lapsed[1..] {
        ensure!(
            store.webhook_delivered(e.id, e.claim, NOW + 100).await?,
            "delivered"
        );
    }
    ensure!(
        store
            .webhook_delivered(first.id, first.claim, NOW + 100)
            .await?,
        "delivered by its renewed claim"
    );
    ensure!(
        store
            .claim_webhook_events(NOW + 999, 60, 50)
            .await?
            .is_empty(),
        "the failed one waits for its retry"
    );
    let retry = store.claim_webhook_events(NOW + 1_000, 60, 50).await?;
    ensure!(retry.len() == 1 && retry[0].id == second.id, "{retry:?}");
    ensure!(
        store
            .webhook_failed(second.id, retry[0].claim, None, "HTTP 500")
            .await?,
        "given up"
    );
    let endpoint = store
        .webhook(&owner, NOW)
        .await?
        .ok_or(Failure("endpoint".into()))?;
    ensure!(
        endpoint.pending == 0 && endpoint.given_up == 1,
        "{endpoint:?}"
    );
    ensure!(
        store
            .claim_webhook_events(NOW + 100_000, 60, 50)
            .await?
            .is_empty(),
        "nothing left"
    );
    ensure!(store.remove_webhook(&owner).await?, "clean up");
    Ok(())
}

/// Deferring a claim gives its attempt back, not its fence: the event's next claim is fenced
/// by a value no earlier claim had, so the deferred claim's holder (its lease run out, its
/// attempt still under way) can neither renew, settle, defer nor give up the new claim.
async fn a_deferred_claim_fences_out_nothing_of_the_next(store: &dyn Store) -> Result<(), Failure> {
    let owner = Owner::Issuer;
    let url = "https://issuer.example/deferred";
    store.set_webhook(&owner, url, &[1; 80], NOW).await?;
    store.enqueue_event(&event(&owner, 900), NOW).await?;
    let first = store.claim_webhook_events(NOW, 60, 10).await?;
    ensure!(first.len() == 1 && first[0].attempts == 1, "{first:?}");
    let first = &first[0];
    ensure!(
        store
            .webhook_deferred(first.id, first.claim, NOW + 10, "cannot sign")
            .await?,
        "the claim defers"
    );
    let next = store.claim_webhook_events(NOW + 10, 60, 10).await?;
    ensure!(
        next.len() == 1 && next[0].id == first.id && next[0].attempts == 1,
        "due again, the deferred attempt uncounted: {next:?}"
    );
    let next = &next[0];
    ensure!(next.claim != first.claim, "a fence of its own: {next:?}");
    let stale = (first.id, first.claim);
    ensure!(
        !store
            .renew_webhook_event(stale.0, stale.1, NOW + 500)
            .await?,
        "the deferred claim renews nothing"
    );
    ensure!(
        !store.webhook_delivered(stale.0, stale.1, NOW + 20).await?,
        "nor marks the next claim delivered"
    );
    ensure!(
        !store
            .webhook_failed(stale.0, stale.1, None, "HTTP 500")
            .await?,
        "nor fails it"
    );
    ensure!(
        !store
            .webhook_deferred(stale.0, stale.1, NOW + 20, "cannot sign")
            .await?,
        "nor defers it"
    );
    ensure!(
        !store
            .webhook_gone(stale.0, stale.1, NOW + 20, "HTTP 410 Gone", url, NOW)
            .await?,
        "nor disables the endpoint"
    );
    let endpoint = store
        .webhook(&owner, NOW + 20)
        .await?
        .ok_or(Failure("endpoint".into()))?;
    ensure!(
        endpoint.disabled.is_none() && endpoint.pending == 1,
        "{endpoint:?}"
    );
    ensure!(
        store
            .webhook_delivered(next.id, next.claim, NOW + 20)
            .await?,
        "the current claim settles it"
    );
    ensure!(store.remove_webhook(&owner).await?, "clean up");
    Ok(())
}

async fn gone_disables_the_endpoint_and_gives_up_the_rest(
    store: &dyn Store,
) -> Result<(), Failure> {
    let (m, key) = merchant("m_gone");
    store.insert_merchant(&m, &key).await?;
    let owner = Owner::Merchant(m.id.clone());
    store
        .set_webhook(&owner, "https://gone.example/", &[1; 80], NOW)
        .await?;
    for n in 0..3 {
        store.enqueue_event(&event(&owner, n), NOW).await?;
    }
    let live = store
        .live_webhook(&owner, NOW)
        .await?
        .ok_or(Failure("a live endpoint".into()))?;
    ensure!(
        live.url == "https://gone.example/"
            && live.created_at == NOW
            && live.secrets.len() == 1
            && live.secrets[0].sealed == [1; 80],
        "what delivery reads: {live:?}"
    );
    let claimed = store.claim_webhook_events(NOW, 60, 1).await?;
    ensure!(claimed.len() == 1, "{claimed:?}");
    ensure!(
        !store
            .webhook_gone(
                claimed[0].id,
                5,
                NOW,
                "HTTP 410 Gone",
                "https://gone.example/",
                NOW
            )
            .await?,
        "a stale claim disables nothing"
    );
    ensure!(
        !store
            .webhook_gone(
                claimed[0].id,
                claimed[0].claim,
                NOW,
                "HTTP 410 Gone",
                "https://old.example/",
                NOW
            )
            .await?,
        "an answer from a URL the endpoint no longer has disables nothing"
    );
    ensure!(
        !store
            .webhook_gone(
                claimed[0].id,
                claimed[0].claim,
                NOW,
                "HTTP 410 Gone",
                "https://gone.example/",
                NOW - 1
            )
            .await?,
        "nor one from an earlier setting of the same URL"
    );
    let endpoint = store
        .webhook(&owner, NOW)
        .await?
        .ok_or(Failure("endpoint".into()))?;
    ensure!(
        endpoint.disabled.is_none() && endpoint.pending == 3 && endpoint.given_up == 0,
        "still live, every event owed: {endpoint:?}"
    );
    let again = store.claim_webhook_events(NOW, 60, 1).await?;
    ensure!(
        again.len() == 1 && again[0].id == claimed[0].id && again[0].attempts == 2,
        "the event is due again at once: {again:?}"
    );
    ensure!(
        store
            .webhook_gone(
                again[0].id,
                again[0].claim,
                NOW + 1,
                "HTTP 410 Gone",
                "https://gone.example/",
                NOW
            )
            .await?,
        "410 disables"
    );
    let endpoint = store
        .webhook(&owner, NOW)
        .await?
        .ok_or(Failure("endpoint".into()))?;
    let disabled = endpoint
        .disabled
        .clone()
        .ok_or(Failure("disabled".into()))?;
    ensure!(
        disabled.at == NOW + 1 && disabled.reason == "HTTP 410 Gone",
        "{disabled:?}"
    );
    ensure!(
        endpoint.pending == 0 && endpoint.given_up == 3,
        "{endpoint:?}"
    );
    ensure!(
        store
            .claim_webhook_events(NOW + 100_000, 60, 10)
            .await?
            .is_empty(),
        "nothing due"
    );
    ensure!(
        store.live_webhook(&owner, NOW + 1).await?.is_none(),
        "delivery reads no disabled endpoint"
    );
    ensure!(
        store.merchant(&m.id).await?.is_some_and(|m| !m.webhook),
        "the merchant row no longer has a live endpoint"
    );
    store.enqueue_event(&event(&owner, 10), NOW).await?;
    ensure!(
        store
            .claim_webhook_events(NOW + 100_000, 60, 10)
            .await?
            .is_empty(),
        "a disabled endpoint gets nothing new"
    );
    // Set again, it is live: new events are queued, the given-up ones stay given up.
    store
        .set_webhook(&owner, "https://gone.example/v2", &[1; 80], NOW + 2)
        .await?;
    store.enqueue_event(&event(&owner, 11), NOW + 2).await?;
    let live = store.claim_webhook_events(NOW + 2, 60, 10).await?;
    ensure!(live.len() == 1 && live[0].body == "{\"n\":11}", "{live:?}");
    ensure!(store.remove_webhook(&owner).await?, "clean up");
    Ok(())
}

async fn settled_events_are_pruned_in_batches(store: &dyn Store) -> Result<(), Failure> {
    // Later than every other check's events, which the first prune clears away.
    let t = NOW + 10_000_000;
    store.prune_webhook_events(t, 1_000_000).await?;
    let (m, key) = merchant("m_prune");
    store.insert_merchant(&m, &key).await?;
    let owner = Owner::Merchant(m.id.clone());
    store
        .set_webhook(&owner, "https://prune.example/", &[1; 80], t)
        .await?;
    for n in 0..4 {
        store.enqueue_event(&event(&owner, n), t).await?;
    }
    let claimed = store.claim_webhook_events(t, 60, 10).await?;
    ensure!(claimed.len() == 4, "{claimed:?}");
    let [early, late, given_up, pending] = [0, 1, 2, 3].map(|n| &claimed[n]);
    ensure!(
        store
            .webhook_delivered(early.id, early.claim, t + 10)
            .await?,
        "early"
    );
    ensure!(
        store
            .webhook_delivered(late.id, late.claim, t + 100)
            .await?,
        "late"
    );
    ensure!(
        store
            .webhook_failed(given_up.id, given_up.claim, None, "x")
            .await?,
        "given up"
    );
    ensure!(
        store
            .webhook_failed(pending.id, pending.claim, Some(t + 5), "x")
            .await?,
        "pending"
    );
    ensure!(
        store.prune_webhook_events(t + 50, 1).await? == 1,
        "one per batch"
    );
    ensure!(
        store.prune_webhook_events(t + 50, 1).await? == 1,
        "the other one"
    );
    ensure!(
        store.prune_webhook_events(t + 50, 1).await? == 0,
        "nothing else settled before the cut-off"
    );
    let endpoint = store
        .webhook(&owner, t)
        .await?
        .ok_or(Failure("endpoint".into()))?;
    ensure!(
        endpoint.pending == 1 && endpoint.given_up == 0,
        "the pending event stays; the given-up one went: {endpoint:?}"
    );
    ensure!(
        store.prune_webhook_events(t + 101, 10).await? == 1,
        "delivered later, pruned later"
    );
    let due = store.claim_webhook_events(t + 5, 60, 10).await?;
    ensure!(
        due.len() == 1 && due[0].id == pending.id,
        "an owed event is never pruned: {due:?}"
    );
    ensure!(store.remove_webhook(&owner).await?, "clean up");
    Ok(())
}
