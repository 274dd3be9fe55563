//! Webhook endpoints, their sealed secrets, and the outbox of events owed to them
//! ([`WebhookStore`]), with the statements both dialects run; and [`QueueEvents`], which a
//! state change uses to queue its events in its own transaction.
//!
//! One endpoint per owner (the issuer, or a merchant). An event is queued by one
//! `INSERT … SELECT` over the owner's endpoint that is live (not disabled), so an owner without
//! one gets no row at all. Delivery follows the mail outbox: a claim raises the attempt count
//! and sets a lease (PostgreSQL skips rows another worker has locked), and a `410 Gone`
//! disables the endpoint and gives up its pending events in one transaction. Unlike mail,
//! renewals and settling are fenced by a count of claims (`claims`), not by the attempt count:
//! a deferred attempt is given back, so the attempt count can repeat, and a fence that repeats
//! would let a claim whose lease ran out settle the claim after it.

use async_trait::async_trait;
use sqlx::{PgConnection, Row, SqliteConnection};

use super::StoreError;
use super::rows::db;
use super::sql_store::{BeginWrite, Pool, SqlStore, db_read, db_write};
use super::writes::Writes;
use crate::model::NewMail;
use crate::webhooks::{Disabled, Endpoint, Event, LiveEndpoint, NewEvent, Owner, SealedSecret};

/// `$1` owner, `$2` url, `$3` now: a new endpoint, or the owner's endpoint pointed elsewhere
/// and live again.
const SET_ENDPOINT: &str = "INSERT INTO webhook_endpoints (owner, url, created_at) \
     VALUES ($1, $2, $3) ON CONFLICT (owner) DO UPDATE SET url = excluded.url, \
     created_at = excluded.created_at, disabled_at = NULL, disabled_reason = NULL";
/// `$1` owner.
const DELETE_SECRETS: &str = "DELETE FROM webhook_secrets WHERE owner = $1";
/// `$1` owner, `$2` sealed secret, `$3` now: only for an endpoint that exists.
const INSERT_SECRET: &str = "INSERT INTO webhook_secrets (owner, secret, created_at) \
     SELECT owner, $2, $3 FROM webhook_endpoints WHERE owner = $1";
/// `$1` owner, `$2` the end of the overlap: every secret signing later than that stops then.
const EXPIRE_SECRETS: &str = "UPDATE webhook_secrets SET expires_at = $2 \
     WHERE owner = $1 AND (expires_at IS NULL OR expires_at > $2)";
/// The endpoint `$1` names (with `$columns` of it, `w`, and `$filter` on it) and the secrets
/// that sign at `$2`, newest first: one row per secret, or one row of `NULL` secret columns
/// when none signs. One statement, so the endpoint and its secrets come from one snapshot: a
/// read that a change of both (setting the endpoint again replaces its URL and its secrets)
/// meets half-way sees all of it or none. [`read_secrets`] decodes the secret columns.
macro_rules! with_live_secrets {
    ($columns:literal, $filter:literal) => {
        concat!(
            "SELECT ",
            $columns,
            ", s.secret AS secret, s.created_at AS secret_created_at, ",
            "s.expires_at AS secret_expires_at FROM webhook_endpoints w ",
            "LEFT JOIN webhook_secrets s ON s.owner = w.owner ",
            "AND (s.expires_at IS NULL OR s.expires_at > $2) ",
            "WHERE w.owner = $1",
            $filter,
            " ORDER BY s.id DESC"
        )
    };
}
/// `$1` owner, `$2` now: the endpoint, how many of its events are owed and given up (each
/// row repeats the counts), and its secrets as [`with_live_secrets!`].
const ENDPOINT: &str = with_live_secrets!(
    "w.owner, w.url, w.created_at, w.disabled_at, w.disabled_reason, \
     (SELECT COUNT(*) FROM webhook_events e WHERE e.owner = w.owner \
         AND e.delivered_at IS NULL AND NOT e.given_up) AS pending, \
     (SELECT COUNT(*) FROM webhook_events e WHERE e.owner = w.owner AND e.given_up) AS given_up",
    ""
);
/// `$1` owner, `$2` now: the endpoint if live, without counting its events (one primary-key
/// row), and its secrets as [`with_live_secrets!`].
const LIVE_ENDPOINT: &str = with_live_secrets!("w.url, w.created_at", " AND w.disabled_at IS NULL");
/// `$1` owner, `$2` why: every event still owed to the owner, given up.
const GIVE_UP_OWNER: &str = "UPDATE webhook_events SET given_up = TRUE, claimed_until = NULL, \
     last_error = $2 WHERE owner = $1 AND delivered_at IS NULL AND NOT given_up";
/// `$1` owner.
const DELETE_ENDPOINT: &str = "DELETE FROM webhook_endpoints WHERE owner = $1";
/// `$1` message_id, `$2` event_type, `$3` body, `$4` now, `$5` owner: one row when the owner
/// has a live endpoint, none otherwise.
const INSERT_EVENT: &str = "INSERT INTO webhook_events \
     (message_id, owner, event_type, body, created_at, attempts, next_attempt_at, given_up) \
     SELECT $1, owner, $2, $3, $4, 0, $4, FALSE FROM webhook_endpoints \
     WHERE owner = $5 AND disabled_at IS NULL";
/// Claims due events, oldest first: `$1` the lease's end, `$2` now, `$3` the batch size. As
/// the mail claim on SQLite: the write lock serialises claims; the outer conditions repeat
/// the inner ones.
const CLAIM_SQLITE: &str = "UPDATE webhook_events \
     SET attempts = attempts + 1, claims = claims + 1, claimed_until = $1 \
     WHERE id IN (SELECT id FROM webhook_events WHERE delivered_at IS NULL AND NOT given_up \
         AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
         ORDER BY next_attempt_at, id LIMIT $3) \
     AND delivered_at IS NULL AND NOT given_up \
     AND (claimed_until IS NULL OR claimed_until <= $2) \
     RETURNING id, message_id, owner, event_type, body, attempts, claims";
/// [`CLAIM_SQLITE`] for PostgreSQL: rows another worker has locked are skipped, not waited
/// for, so instances sharing the database claim disjoint batches.
const CLAIM_POSTGRES: &str = "WITH due AS MATERIALIZED ( \
         SELECT id FROM webhook_events WHERE delivered_at IS NULL AND NOT given_up \
         AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until <= $2) \
         ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
     UPDATE webhook_events SET attempts = webhook_events.attempts + 1, \
         claims = webhook_events.claims + 1, claimed_until = $1 \
     FROM due WHERE webhook_events.id = due.id \
     AND webhook_events.delivered_at IS NULL AND NOT webhook_events.given_up \
     AND (webhook_events.claimed_until IS NULL OR webhook_events.claimed_until <= $2) \
     RETURNING webhook_events.id, message_id, owner, event_type, body, attempts, claims";
/// `$1` claimed_until, `$2` id, `$3` the claim: only the current claim.
const RENEW_EVENT: &str = "UPDATE webhook_events SET claimed_until = $1 \
     WHERE id = $2 AND claims = $3 AND claimed_until IS NOT NULL \
     AND delivered_at IS NULL AND NOT given_up";
/// `$1` now, `$2` id, `$3` the claim.
const EVENT_DELIVERED: &str = "UPDATE webhook_events SET delivered_at = $1, claimed_until = NULL, \
     last_error = NULL WHERE id = $2 AND claims = $3 AND delivered_at IS NULL AND NOT given_up";
/// `$1` error, `$2` next attempt (`NULL`: give up), `$3` give up, `$4` id, `$5` the claim.
const EVENT_FAILED: &str = "UPDATE webhook_events SET claimed_until = NULL, last_error = $1, \
     next_attempt_at = COALESCE($2, next_attempt_at), given_up = $3 \
     WHERE id = $4 AND claims = $5 AND delivered_at IS NULL AND NOT given_up";
/// `$1` error, `$2` next attempt, `$3` id, `$4` the claim: released with its attempt
/// uncounted. `claims` stays: the next claim gets a fence of its own.
const EVENT_DEFERRED: &str = "UPDATE webhook_events SET claimed_until = NULL, last_error = $1, \
     next_attempt_at = $2, attempts = attempts - 1 \
     WHERE id = $3 AND claims = $4 AND delivered_at IS NULL AND NOT given_up";
/// `$1` the cut-off, `$2` the batch size: the oldest settled events from before the cut-off
/// (delivered then, or created then and given up), deleted. Oldest first by `id`, so a batch
/// finds its rows at the start of the table.
const PRUNE_EVENTS: &str = "DELETE FROM webhook_events WHERE id IN ( \
         SELECT id FROM webhook_events \
         WHERE delivered_at < $1 OR (given_up AND created_at < $1) ORDER BY id LIMIT $2)";
/// `$1` id, `$2` the claim: the owner of the event, while this claim holds it.
const CLAIMED_OWNER: &str = "SELECT owner FROM webhook_events \
     WHERE id = $1 AND claims = $2 AND delivered_at IS NULL AND NOT given_up";
/// `$1` now, `$2` why, `$3` owner, `$4` url, `$5` created_at: only the endpoint as the
/// attempt found it, not one set again since.
const DISABLE_ENDPOINT: &str = "UPDATE webhook_endpoints SET disabled_at = $1, \
     disabled_reason = $2 WHERE owner = $3 AND url = $4 AND created_at = $5 \
     AND disabled_at IS NULL";

/// Endpoints, secrets and the event outbox. Times are seconds since the Unix epoch, passed in
/// by the caller; methods answering `bool` say whether their conditional change happened.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Points `owner`'s endpoint at `url` with `secret` (sealed) as its only secret, live
    /// again if it was disabled; created if it did not exist.
    async fn set_webhook(
        &self,
        owner: &Owner,
        url: &str,
        secret: &[u8],
        now: i64,
    ) -> Result<(), StoreError>;
    /// `owner`'s endpoint with the secrets that sign at `now`.
    async fn webhook(&self, owner: &Owner, now: i64) -> Result<Option<Endpoint>, StoreError>;
    /// What a delivery attempt needs of `owner`'s endpoint: its URL and the secrets that sign
    /// at `now`; `None` when it was removed or disabled. Reads none of the owner's events.
    async fn live_webhook(
        &self,
        owner: &Owner,
        now: i64,
    ) -> Result<Option<LiveEndpoint>, StoreError>;
    /// Adds `secret` (sealed) as the endpoint's newest; every other secret stops signing at
    /// `overlap_end`. `false` (nothing changed) when `owner` has no endpoint.
    async fn rotate_webhook_secret(
        &self,
        owner: &Owner,
        secret: &[u8],
        now: i64,
        overlap_end: i64,
    ) -> Result<bool, StoreError>;
    /// Removes `owner`'s endpoint and its secrets, and gives up the events still owed to it.
    /// `false` when there was none.
    async fn remove_webhook(&self, owner: &Owner) -> Result<bool, StoreError>;
    /// Queues `event` on its own (not tied to a state change): for its owner's live endpoint,
    /// nothing otherwise.
    async fn enqueue_event(&self, event: &NewEvent, now: i64) -> Result<(), StoreError>;
    /// Claims up to `limit` due events for `lease` seconds, oldest first: each claimed row's
    /// attempt count goes up by one, its claim ([`Event::claim`]) is one no earlier claim of it
    /// had, and no other caller can claim it until the lease ends.
    async fn claim_webhook_events(
        &self,
        now: i64,
        lease: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError>;
    /// Extends a claim to `claimed_until`; `false` once it is no longer current (`claim`
    /// fences it): the lease ran out and another worker claimed the event, or it was settled.
    async fn renew_webhook_event(
        &self,
        id: i64,
        claim: i64,
        claimed_until: i64,
    ) -> Result<bool, StoreError>;
    /// Marks a claimed event delivered; `claim` fences a claim whose lease ran out.
    async fn webhook_delivered(&self, id: i64, claim: i64, now: i64) -> Result<bool, StoreError>;
    /// Releases a claimed event after a failed attempt: tried again at `retry_at`, or given up
    /// when `None`.
    async fn webhook_failed(
        &self,
        id: i64,
        claim: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<bool, StoreError>;
    /// Releases a claimed event that was not sent, through no fault of the endpoint (this
    /// verifier cannot sign for it): tried again at `retry_at`, and the attempt does not count
    /// towards giving it up (the next claim has a fence of its own all the same).
    async fn webhook_deferred(
        &self,
        id: i64,
        claim: i64,
        retry_at: i64,
        error: &str,
    ) -> Result<bool, StoreError>;
    /// Deletes up to `limit` events settled before `before`: delivered then, or given up and
    /// created then. Answers how many went.
    async fn prune_webhook_events(&self, before: i64, limit: i64) -> Result<u64, StoreError>;
    /// The endpoint at `url`, set at `created_at`, answered `410 Gone` to this claimed event.
    /// If the owner's endpoint is still that one, in one transaction it is disabled with
    /// `reason` and every event owed to it, this one included, is given up: `true`. If it was
    /// set again meanwhile (an operator repointing it while the attempt was in flight), the
    /// old URL's answer says nothing about the new one: nothing is disabled or given up, and
    /// the event is due again at `now`, for the new URL. `false` then, and for a stale claim.
    async fn webhook_gone(
        &self,
        id: i64,
        claim: i64,
        now: i64,
        reason: &str,
        url: &str,
        created_at: i64,
    ) -> Result<bool, StoreError>;
}

/// Queues events inside the caller's transaction (a connection of either database).
pub(super) trait QueueEvents: Writes {
    /// Queues `event` for its owner's live endpoint: one `INSERT … SELECT`, which inserts
    /// nothing when the owner has no endpoint or it is disabled.
    async fn queue_event(&mut self, event: &NewEvent, now: i64) -> Result<(), StoreError>;

    /// [`Self::queue_event`] for each of `events`.
    async fn queue_events(&mut self, events: &[NewEvent], now: i64) -> Result<(), StoreError> {
        for event in events {
            self.queue_event(event, now).await?;
        }
        Ok(())
    }

    /// Queues what a state change owes, in the transaction that makes it: its mail, if any, and
    /// its events.
    async fn queue_owed(
        &mut self,
        mail: Option<&NewMail>,
        events: &[NewEvent],
        now: i64,
    ) -> Result<(), StoreError> {
        if let Some(mail) = mail {
            self.insert_mail(mail, now).await?;
        }
        self.queue_events(events, now).await
    }
}

/// Implements [`QueueEvents`] for `$connection`.
macro_rules! queue_events {
    ($connection:ty) => {
        impl QueueEvents for $connection {
            async fn queue_event(&mut self, event: &NewEvent, now: i64) -> Result<(), StoreError> {
                sqlx::query(INSERT_EVENT)
                    .bind(&event.message_id)
                    .bind(event.event_type)
                    .bind(&event.body)
                    .bind(now)
                    .bind(event.owner.as_str())
                    .execute(&mut *self)
                    .await
                    .map_err(db)?;
                Ok(())
            }
        }
    };
}

queue_events!(SqliteConnection);
queue_events!(PgConnection);

/// The secrets of the rows of a [`with_live_secrets!`] statement, in either dialect: one per
/// row, none from a row of `NULL` secret columns.
fn read_secrets<'r, R>(rows: &'r [R]) -> Result<Vec<SealedSecret>, StoreError>
where
    R: Row,
    &'static str: sqlx::ColumnIndex<R>,
    Vec<u8>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut secrets = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(sealed) = row.try_get("secret").map_err(db)? else {
            continue;
        };
        secrets.push(SealedSecret {
            sealed,
            created_at: row.try_get("secret_created_at").map_err(db)?,
            expires_at: row.try_get("secret_expires_at").map_err(db)?,
        });
    }
    Ok(secrets)
}

/// Reads an `owner` column.
fn read_owner(text: &str) -> Result<Owner, StoreError> {
    Owner::parse(text).ok_or(StoreError::Corrupt("webhook owner"))
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn set_webhook(
        &self,
        owner: &Owner,
        url: &str,
        secret: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        let written = db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(SET_ENDPOINT)
                .bind(owner.as_str())
                .bind(url)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query(DELETE_SECRETS)
                .bind(owner.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            sqlx::query(INSERT_SECRET)
                .bind(owner.as_str())
                .bind(secret)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)
        });
        // A merchant's kept row says whether it has a live endpoint.
        self.hot.forget();
        written
    }

    async fn webhook(&self, owner: &Owner, now: i64) -> Result<Option<Endpoint>, StoreError> {
        db_read!(self, |pool| {
            let rows = sqlx::query(ENDPOINT)
                .bind(owner.as_str())
                .bind(now)
                .fetch_all(pool)
                .await
                .map_err(db)?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            let disabled_at: Option<i64> = row.try_get("disabled_at").map_err(db)?;
            let reason: Option<String> = row.try_get("disabled_reason").map_err(db)?;
            Ok(Some(Endpoint {
                owner: read_owner(row.try_get("owner").map_err(db)?)?,
                url: row.try_get("url").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
                disabled: disabled_at.map(|at| Disabled {
                    at,
                    reason: reason.unwrap_or_default(),
                }),
                secrets: read_secrets(&rows)?,
                pending: row.try_get("pending").map_err(db)?,
                given_up: row.try_get("given_up").map_err(db)?,
            }))
        })
    }

    async fn live_webhook(
        &self,
        owner: &Owner,
        now: i64,
    ) -> Result<Option<LiveEndpoint>, StoreError> {
        db_read!(self, |pool| {
            let rows = sqlx::query(LIVE_ENDPOINT)
                .bind(owner.as_str())
                .bind(now)
                .fetch_all(pool)
                .await
                .map_err(db)?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            Ok(Some(LiveEndpoint {
                url: row.try_get("url").map_err(db)?,
                created_at: row.try_get("created_at").map_err(db)?,
                secrets: read_secrets(&rows)?,
            }))
        })
    }

    async fn rotate_webhook_secret(
        &self,
        owner: &Owner,
        secret: &[u8],
        now: i64,
        overlap_end: i64,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(EXPIRE_SECRETS)
                .bind(owner.as_str())
                .bind(overlap_end)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            let inserted = sqlx::query(INSERT_SECRET)
                .bind(owner.as_str())
                .bind(secret)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if inserted.rows_affected() != 1 {
                // No endpoint: the transaction rolls back as it drops.
                return Ok(false);
            }
            tx.commit().await.map_err(db)?;
            Ok(true)
        })
    }

    async fn remove_webhook(&self, owner: &Owner) -> Result<bool, StoreError> {
        let written = db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(GIVE_UP_OWNER)
                .bind(owner.as_str())
                .bind("endpoint removed")
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            // The secrets go with it (ON DELETE CASCADE).
            let removed = sqlx::query(DELETE_ENDPOINT)
                .bind(owner.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(removed.rows_affected() == 1)
        });
        // A merchant's kept row says whether it has a live endpoint.
        self.hot.forget();
        written
    }

    async fn enqueue_event(&self, event: &NewEvent, now: i64) -> Result<(), StoreError> {
        db_write!(self, |pool| {
            let mut connection = pool.acquire().await.map_err(db)?;
            connection.queue_event(event, now).await
        })
    }

    async fn claim_webhook_events(
        &self,
        now: i64,
        lease: i64,
        limit: i64,
    ) -> Result<Vec<Event>, StoreError> {
        let statement = match self.pool {
            Pool::Sqlite { .. } => CLAIM_SQLITE,
            Pool::Postgres { .. } => CLAIM_POSTGRES,
        };
        let mut events = db_write!(self, |pool| {
            sqlx::query(statement)
                .bind(now.saturating_add(lease))
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(|row| {
                    Ok(Event {
                        id: row.try_get("id").map_err(db)?,
                        message_id: row.try_get("message_id").map_err(db)?,
                        owner: read_owner(row.try_get("owner").map_err(db)?)?,
                        event_type: row.try_get("event_type").map_err(db)?,
                        body: row.try_get("body").map_err(db)?,
                        attempts: row.try_get("attempts").map_err(db)?,
                        claim: row.try_get("claims").map_err(db)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })?;
        // `RETURNING` promises no order; the claim's own is oldest first.
        events.sort_by_key(|event| event.id);
        Ok(events)
    }

    async fn renew_webhook_event(
        &self,
        id: i64,
        claim: i64,
        claimed_until: i64,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(RENEW_EVENT)
                .bind(claimed_until)
                .bind(id)
                .bind(claim)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn webhook_delivered(&self, id: i64, claim: i64, now: i64) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(EVENT_DELIVERED)
                .bind(now)
                .bind(id)
                .bind(claim)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn webhook_failed(
        &self,
        id: i64,
        claim: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(EVENT_FAILED)
                .bind(error)
                .bind(retry_at)
                .bind(retry_at.is_none())
                .bind(id)
                .bind(claim)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn webhook_deferred(
        &self,
        id: i64,
        claim: i64,
        retry_at: i64,
        error: &str,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(EVENT_DEFERRED)
                .bind(error)
                .bind(retry_at)
                .bind(id)
                .bind(claim)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }

    async fn prune_webhook_events(&self, before: i64, limit: i64) -> Result<u64, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(PRUNE_EVENTS)
                .bind(before)
                .bind(limit)
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected())
        })
    }

    async fn webhook_gone(
        &self,
        id: i64,
        claim: i64,
        now: i64,
        reason: &str,
        url: &str,
        created_at: i64,
    ) -> Result<bool, StoreError> {
        let written = db_write!(self, |pool| {
            let mut tx = pool.begin_write().await?;
            let Some(row) = sqlx::query(CLAIMED_OWNER)
                .bind(id)
                .bind(claim)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?
            else {
                return Ok(false);
            };
            let owner: String = row.try_get("owner").map_err(db)?;
            let disabled = sqlx::query(DISABLE_ENDPOINT)
                .bind(now)
                .bind(reason)
                .bind(&owner)
                .bind(url)
                .bind(created_at)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if disabled.rows_affected() == 0 {
                // Set again (or removed, or disabled by another attempt) since this attempt
                // read it: the event goes to whatever the endpoint is now, at once.
                sqlx::query(EVENT_FAILED)
                    .bind(format!("{reason} from {url}, since replaced"))
                    .bind(now)
                    .bind(false)
                    .bind(id)
                    .bind(claim)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
                tx.commit().await.map_err(db)?;
                return Ok(false);
            }
            // The endpoint's pending events, this one among them.
            sqlx::query(GIVE_UP_OWNER)
                .bind(&owner)
                .bind(reason)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(true)
        });
        // A merchant's kept row says whether it has a live endpoint.
        self.hot.forget();
        written
    }
}
