//! Persistence behind one trait, so SQLite (embedded) and PostgreSQL (shared by several verifier
//! instances) behave the same.
//!
//! Every change that must not race is a single conditional statement whose `WHERE` clause states
//! the precondition (the state it leaves, the attempts left, the cooldown passed), so two
//! requests can never both make it: the database decides, and the loser sees `false`. Mail that
//! belongs to a state change is inserted into the outbox in the same transaction.
//!
//! # Layout
//!
//! One SQL source serves both databases, which share one schema shape (the same tables,
//! columns, names and constraints; only the DDL types differ between `migrations/sqlite` and
//! `migrations/postgres`):
//!
//! - `sql.rs`: the statements both dialects run, as named constants with `$N` placeholders.
//! - `sql_store.rs`: [`SqlStore`], the one `impl` [`Store`], over an enum of the two pools;
//!   each method's body is written once and compiled once per pool type, so every statement
//!   has one set of binds.
//! - `writes.rs`: the inserts several methods make inside their transaction, and migrating.
//! - `cases.rs`, `browsers.rs`: parts of the store with their own trait ([`CaseStore`],
//!   [`BrowserStore`]) and their own statements, over the same [`SqlStore`].
//! - `rows.rs`: reading the model types from either database's rows.
//! - `webhooks.rs`: [`WebhookStore`] — webhook endpoints, their sealed secrets and the event
//!   outbox — with its own statements (both claims included), and the helper a state change
//!   queues its events with.
//! - `sqlite.rs`, `postgres.rs`: what only that dialect does (below), and its `open`.
//! - `inline.rs`: SQLite's hot path — a frictionless purchase's reads run in the requesting
//!   task on rusqlite read connections, its writes are committed in batches by one writer
//!   thread, with the same SQL and the same row decoders — and the process's one write turn.
//!   `sql_store.rs`'s `db_hot!` routes a statement there on SQLite and to `pg_hot.rs`'s
//!   connections on PostgreSQL, with one bind list.
//! - `pg_hot.rs`: PostgreSQL's hot path — the same statements on a small set of connections
//!   of the store's own, given back without a test round trip; one whose statement was
//!   interrupted is drained (pinged) before it is given back, and closed if that fails.
//! - `admin.rs`: [`AdminStore`], what the issuer's admin API adds: its tokens, and changing
//!   and unenrolling cards, replacing a merchant's origins.
//! - `conformance` (feature `conformance`): the suite every backend must pass.
//!
//! # Where the dialects differ
//!
//! - **Connecting**: SQLite opens one file in WAL mode; PostgreSQL connections sized by
//!   [`StoreOptions`] (the configuration's `database_connections`), with TLS from the URL.
//! - **The hot path**: on SQLite the statements of a frictionless purchase (inserting the
//!   authentication, which finds its card by reference; the device step's one read of
//!   everything it decides on, and its one-statement update) run on connections of the store's
//!   own instead of through sqlx's connection threads: reads in the requesting task, writes in
//!   group commits of one writer thread (`inline.rs`); on PostgreSQL on a small set of
//!   connections of the store's own, given back without the test round trip sqlx's pool makes
//!   on every release (`pg_hot.rs`).
//! - **Starting a write transaction**: SQLite's `BEGIN IMMEDIATE` takes the write lock up front;
//!   PostgreSQL's plain `BEGIN` (READ COMMITTED) re-checks a locked row's `WHERE` instead.
//! - **Migrating**: each dialect has its own migration files (their DDL types differ), and
//!   PostgreSQL takes an advisory lock so instances starting together migrate once (SQLite's
//!   write lock does that already).
//! - **Claiming mail and webhook events**: PostgreSQL skips rows another worker has locked
//!   (`FOR UPDATE SKIP LOCKED`), which SQLite, with one writer at a time, neither has nor needs.
//! - **Counting requests** for the rate limits: PostgreSQL counts in its `rate_limits` table,
//!   shared by every instance, on connections of their own; SQLite, which serves one verifier
//!   process, counts in that process's memory (`request_counts.rs`) instead of queueing a write
//!   per request for its one writer.

mod admin;
mod browsers;
mod cases;
#[cfg(feature = "conformance")]
pub mod conformance;
mod hot;
mod inline;
mod pg_hot;
mod postgres;
mod request_counts;
mod rows;
mod sql;
mod sql_store;
mod sqlite;
mod webhooks;
mod writes;

use std::sync::Arc;

use async_trait::async_trait;
use mamori_core::device_key::PublicKey;

use crate::config::{Bounded, DatabaseConnections};
use crate::model::{
    Assessment, Authentication, AuthenticationId, CardStatus, Cardholder, CardholderId, Device,
    DeviceId, DeviceTrust, Final, FraudReport, IdempotencyKey, KeyId, Mail, MailboxMessage,
    Merchant, MerchantId, MerchantKey, NewMail, OrderRef, Outcome, ReportId, State,
};
use crate::risk::History;
use crate::webhooks::NewEvent;

pub use admin::{AddressMove, AdminStore, AdminToken, CardholderChange, Succession};
pub use browsers::{BrowserStore, TrustedBrowser};
pub use cases::{CaseMove, CaseOpening, CaseStore};
/// The PostgreSQL hot path's connection set, checked against a real server by the
/// PostgreSQL suite.
#[cfg(feature = "conformance")]
pub use pg_hot::checks as pg_hot_checks;
pub use postgres::PostgresStore;
pub use sql_store::SqlStore;
pub use sqlite::SqliteStore;
pub use webhooks::WebhookStore;

/// What a store is opened with besides its URL: the configuration's `database_connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// PostgreSQL: the connections an instance opens for everything but the rate-limit counts,
    /// split as [`PostgresStore::open_with`] says. SQLite ignores it: its connections are one
    /// writer and read connections of its own.
    pub connections: DatabaseConnections,
}

impl Default for StoreOptions {
    /// 10 connections: with the 2 for rate-limit counts, eight instances fit PostgreSQL's
    /// default `max_connections` (100) with room for an operator's sessions.
    fn default() -> Self {
        Self {
            connections: Bounded::constant::<10>(),
        }
    }
}

/// Opens the store a database URL names, with the default [`StoreOptions`]; see [`open_with`].
///
/// # Errors
///
/// As [`open_with`].
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_with(url, &StoreOptions::default()).await
}

/// Opens the store a database URL names: `sqlite://path` (created if missing), or
/// `postgres://…` / `postgresql://…` (an existing database, shared by every instance), sized
/// by `options`.
///
/// # Errors
///
/// [`StoreError::Database`] for any other scheme, and whatever the backend's `open` returns.
pub async fn open_with(url: &str, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Arc::new(SqliteStore::open(url).await?)),
        Some("postgres" | "postgresql") => {
            Ok(Arc::new(PostgresStore::open_with(url, options).await?))
        }
        _ => Err(StoreError::Database(
            "database_url must start with sqlite:, postgres: or postgresql:".into(),
        )),
    }
}

/// A store operation failed for a reason the caller cannot fix by changing its input.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique key is already taken (a card enrolled twice, an id reused).
    Conflict,
    /// The merchant already has a live (pending or challenging) authentication of the same
    /// order; nothing was stored.
    OrderInProgress,
    /// The database refused or could not be reached; the detail is for logs only.
    Database(String),
    /// No database connection was free within the acquire timeout: the database is
    /// saturated for now, and a retry later may succeed. The detail is for logs only.
    Unavailable(String),
    /// A row holds a value this version cannot read (written by a newer version, or edited by
    /// hand), such as an id that does not parse as its kind.
    Corrupt(&'static str),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Conflict => f.write_str("a unique key is already taken"),
            Self::OrderInProgress => f.write_str("the order has a live authentication"),
            Self::Database(detail) => write!(f, "database error: {detail}"),
            Self::Unavailable(detail) => write!(f, "database unavailable: {detail}"),
            Self::Corrupt(what) => write!(f, "unreadable value in column {what}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// A freshly issued code, by digest only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeIssue {
    /// `mamori_core::otp::digest` of the code.
    pub digest: Vec<u8>,
    /// When the code stops matching.
    pub expires_at: i64,
}

/// What the device step leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceNext {
    /// Final right away: frictionless success or rejection.
    Conclude {
        /// How it ends.
        end: Final,
        /// The result.
        outcome: Outcome,
    },
    /// A code was sent; the authentication is now challenging.
    Challenge(CodeIssue),
}

/// A correct code and what comes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acceptance<'a> {
    /// The digest the entered code hashes to; it must be the current one.
    pub digest: &'a [u8],
    /// The result.
    pub outcome: &'a Outcome,
    /// The browser the code trusts, if any (none in a sandbox).
    pub trust: Option<TrustWrite<'a>>,
    /// Webhook events to queue for their owners' live endpoints.
    pub events: &'a [NewEvent],
}

/// What [`Store::accept_code`] made of a correct code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accept {
    /// The authentication succeeded. `trusted`: the browser of [`Acceptance::trust`] is now
    /// trusted for the card, and its alert queued; `false` when none was asked for, or when the
    /// card has an open fraud report, which keeps every browser of the card untrusted until
    /// the issuer resolves it.
    Accepted {
        /// Whether a browser was trusted.
        trusted: bool,
    },
    /// Nothing changed: the code was used or replaced, the attempts or the authentication's
    /// lifetime ran out, or the issuer blocked the card meanwhile.
    Refused,
}

/// The device a correct code writes: a new one, or the one the device step identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceWrite<'a> {
    /// A browser not identified: a new device.
    New(&'a Device),
    /// The identified device, refreshed from this purchase.
    Refresh {
        /// Which.
        id: &'a DeviceId,
        /// The fingerprint presented at this purchase, replacing the stored one.
        fingerprint: &'a str,
        /// A key registered with the code, replacing the stored one; `None` keeps it.
        public_key: Option<&'a PublicKey>,
        /// The slid expiry.
        expires_at: i64,
    },
}

impl DeviceWrite<'_> {
    /// The device written.
    pub fn id(&self) -> &DeviceId {
        match self {
            Self::New(device) => &device.id,
            Self::Refresh { id, .. } => id,
        }
    }
}

/// A correct code's trust: the device, and the card's trust in it until `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustWrite<'a> {
    /// The device to insert or refresh.
    pub device: DeviceWrite<'a>,
    /// The card now trusting it.
    pub cardholder_id: &'a CardholderId,
    /// When the trust lapses (the device's expiry too).
    pub expires_at: i64,
    /// The alert that a browser is newly trusted, if it is: queued with the trust, so never
    /// for a trust not written.
    pub alert: Option<&'a NewMail>,
}

/// The answer to a wrong code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrongCode {
    /// Counted; this many entries are left.
    Counted {
        /// Entries left before the authentication fails.
        attempts_left: i64,
    },
    /// That was the last allowed entry: the authentication has failed.
    Failed,
    /// The authentication was not challenging any more (finished or expired meanwhile).
    NotChallenging,
}

/// A new resend was refused or made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// The new code replaced the old one.
    Sent,
    /// The authentication was not challenging, had no resend left, or the cooldown had not
    /// passed; the caller reads the row to say which.
    Refused,
}

/// Limits a conditional update checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Wrong entries allowed per authentication.
    pub max_attempts: i64,
    /// Resends allowed per authentication.
    pub max_resends: i64,
    /// Seconds between two sends.
    pub resend_cooldown: i64,
}

/// What the device step reads, given before anything is read: see
/// [`Store::device_step_reads`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepQuery<'a> {
    /// The authentication whose step it is; it is left out of every count.
    pub authentication_id: &'a AuthenticationId,
    /// The device the browser's token names, once the token's signature and times hold (its
    /// audience is the authentication's merchant, checked after the read).
    pub claimed_device: Option<&'a DeviceId>,
    /// The client's address.
    pub ip: Option<&'a str>,
    /// Counts cover `[now - short_window, now]` …
    pub short_since: i64,
    /// … and failures `[now - long_window, now]`.
    pub long_since: i64,
}

/// Everything the device step decides on, read in one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepReads {
    /// The authentication.
    pub authentication: Authentication,
    /// Its cardholder, if its card is enrolled.
    pub cardholder: Option<Cardholder>,
    /// The claimed device, revoked or not, of whichever merchant: whether it identifies the
    /// browser is the flow's question.
    pub claimed_device: Option<Device>,
    /// The card's trust in the claimed device, lapsed or not.
    pub claimed_trust: Option<DeviceTrust>,
    /// The counts the risk engine weighs, on the authentication's card and currency, the
    /// client's address and the claimed device. `device_recent` counts the claimed device,
    /// which the risk engine may weigh only once the browser is identified as it.
    pub history: History,
}

/// The persistent state of the verifier.
///
/// Times are seconds since the Unix epoch, passed in by the caller (the store has no clock, so
/// tests control time). Methods returning `bool` answer whether their conditional change
/// happened.
#[async_trait]
pub trait Store:
    AdminStore + BrowserStore + CaseStore + WebhookStore + Send + Sync + 'static
{
    /// Succeeds when the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Adds a merchant with its first key.
    async fn insert_merchant(
        &self,
        merchant: &Merchant,
        key: &MerchantKey,
    ) -> Result<(), StoreError>;
    /// The merchant with this id.
    async fn merchant(&self, id: &MerchantId) -> Result<Option<Merchant>, StoreError>;
    /// Every merchant, oldest first.
    async fn merchants(&self) -> Result<Vec<Merchant>, StoreError>;
    /// The merchant's keys, newest first, including retired ones.
    async fn merchant_keys(&self, merchant_id: &MerchantId)
    -> Result<Vec<MerchantKey>, StoreError>;
    /// The key with this `kid`, retired or not.
    async fn key_by_kid(&self, kid: &KeyId) -> Result<Option<MerchantKey>, StoreError>;
    /// Adds `key` as the merchant's newest key and retires every older key at `retire_at`
    /// (an earlier retirement already scheduled is kept).
    async fn rotate_key(&self, key: &MerchantKey, retire_at: i64) -> Result<(), StoreError>;

    /// Stores a card as given, telling no one; [`StoreError::Conflict`] if its `card_ref` is
    /// enrolled already. For seeding (the demo, benchmarks, tests): the issuer's enrolment is
    /// [`AdminStore::enrol_cardholder`], which tells a card's former address when it is
    /// enrolled again elsewhere.
    async fn insert_cardholder(&self, cardholder: &Cardholder) -> Result<(), StoreError>;
    /// The cardholder with this id.
    async fn cardholder(&self, id: &CardholderId) -> Result<Option<Cardholder>, StoreError>;
    /// The cardholder whose card reference this is.
    async fn cardholder_by_ref(&self, card_ref: &str) -> Result<Option<Cardholder>, StoreError>;
    /// Every cardholder, oldest first.
    async fn cardholders(&self) -> Result<Vec<Cardholder>, StoreError>;
    /// Blocks or unblocks a card; `false` for an unknown or unenrolled card.
    async fn set_card_status(
        &self,
        id: &CardholderId,
        status: CardStatus,
    ) -> Result<bool, StoreError>;

    /// The device with this id, revoked or not.
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError>;
    /// The card's trust in the device, lapsed or not.
    async fn trust(
        &self,
        device_id: &DeviceId,
        cardholder_id: &CardholderId,
    ) -> Result<Option<DeviceTrust>, StoreError>;
    /// Revokes the card's trust in every browser, where not revoked yet; answers how many.
    /// Other cards' trust in the same browsers stays.
    async fn revoke_trust(&self, cardholder_id: &CardholderId, now: i64)
    -> Result<u64, StoreError>;

    /// Stores a new authentication (state `pending`); [`StoreError::OrderInProgress`] (and
    /// nothing stored) when the merchant has a live authentication of the same order, even one
    /// past its `expires_at` that nobody has expired yet.
    ///
    /// Its cardholder is `authentication.cardholder_id` when that is set; otherwise the card
    /// enrolled under `card_ref`, if any, found by the insert itself (no card for an unknown
    /// reference or none), so a caller that has only the card's reference need not read the
    /// card first.
    async fn insert_authentication(
        &self,
        authentication: &Authentication,
        card_ref: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Stores a new authentication and the idempotency key that created it, in one transaction;
    /// [`StoreError::Conflict`] (and nothing stored) when the merchant used the key already,
    /// [`StoreError::OrderInProgress`] and the cardholder as [`Store::insert_authentication`].
    async fn insert_authentication_with_key(
        &self,
        authentication: &Authentication,
        key: &IdempotencyKey,
        card_ref: Option<&str>,
    ) -> Result<(), StoreError>;
    /// The merchant's idempotency key of this value, if used.
    async fn idempotency_key(
        &self,
        merchant_id: &MerchantId,
        key: &str,
    ) -> Result<Option<IdempotencyKey>, StoreError>;
    /// The authentication with this id.
    async fn authentication(
        &self,
        id: &AuthenticationId,
    ) -> Result<Option<Authentication>, StoreError>;
    /// The merchant's live authentication of `order_ref`, the one that makes
    /// [`Store::insert_authentication`] answer [`StoreError::OrderInProgress`].
    async fn live_authentication_for_order(
        &self,
        merchant_id: &MerchantId,
        order_ref: &OrderRef,
    ) -> Result<Option<Authentication>, StoreError>;
    /// Up to `limit` unfinished authentications whose lifetime is over at `now`, the longest
    /// overdue first: what the expiry sweeper ends.
    async fn due_for_expiry(&self, now: i64, limit: i64)
    -> Result<Vec<Authentication>, StoreError>;
    /// The authentication `query` names, with everything its device step decides on, in one
    /// statement (one round trip, one snapshot); `None` for an unknown authentication.
    async fn device_step_reads(
        &self,
        query: &StepQuery<'_>,
    ) -> Result<Option<StepReads>, StoreError>;

    /// Records the device step: `pending` and not expired → the state `next` says, with `mail`
    /// and `events` queued in the same transaction. With neither it is one self-committing
    /// statement (the frictionless path), so a caller passes events only for an owner with a
    /// live endpoint ([`Merchant::webhook`]).
    async fn record_device_step(
        &self,
        id: &AuthenticationId,
        now: i64,
        step: &Assessment,
        next: &DeviceNext,
        mail: Option<&NewMail>,
        events: &[NewEvent],
    ) -> Result<bool, StoreError>;
    /// A correct code: `challenging`, the code's digest current and unexpired, attempts left,
    /// card active, authentication not expired → `succeeded`; the code can never match again.
    /// The device, the trust and its alert, and the events of `accept` are stored in the same
    /// transaction — the trust only while the card has no open fraud report, whichever of the
    /// report and the acceptance started first (see [`Store::report_fraud`]).
    async fn accept_code(
        &self,
        id: &AuthenticationId,
        now: i64,
        limits: &Limits,
        accept: &Acceptance<'_>,
    ) -> Result<Accept, StoreError>;
    /// A wrong code: counts it, and on the last allowed entry moves to `failed` with
    /// `failure` as the outcome and queues `alert` and `failure_events` — one statement
    /// decides both.
    async fn reject_code(
        &self,
        id: &AuthenticationId,
        now: i64,
        limits: &Limits,
        failure: &Outcome,
        alert: &NewMail,
        failure_events: &[NewEvent],
    ) -> Result<WrongCode, StoreError>;
    /// Replaces the code: `challenging`, not expired, a resend left, cooldown passed.
    async fn resend_code(
        &self,
        id: &AuthenticationId,
        now: i64,
        code: &CodeIssue,
        limits: &Limits,
        mail: &NewMail,
    ) -> Result<Resend, StoreError>;
    /// Ends the authentication: `from` → `to` (`Expired` only once `expires_at` has passed,
    /// anything else only before), queuing `mail` and `events` in the same transaction.
    // The transition, its outcome and what it queues are each one argument of the one
    // conditional change.
    #[allow(clippy::too_many_arguments)]
    async fn conclude(
        &self,
        id: &AuthenticationId,
        now: i64,
        from: State,
        to: Final,
        outcome: &Outcome,
        mail: Option<&NewMail>,
        events: &[NewEvent],
    ) -> Result<bool, StoreError>;

    /// Records a report, opens its case (queuing the case's mail) and revokes the card's trust
    /// in every browser, in one transaction. `false` when this authentication was reported
    /// already (nothing changes, no mail).
    ///
    /// An acceptance of a code on the same card at the same moment cannot bring a trust back:
    /// the two take the card's row lock before they look at each other's rows, so one waits for
    /// the other, and either the report revokes the trust the acceptance wrote, or the
    /// acceptance sees the open report and trusts no browser ([`Store::accept_code`]).
    async fn report_fraud(
        &self,
        report: &FraudReport,
        opening: &CaseOpening<'_>,
    ) -> Result<bool, StoreError>;
    /// Reports, oldest first; only unresolved ones when `open_only`.
    async fn reports(&self, open_only: bool) -> Result<Vec<FraudReport>, StoreError>;
    /// The report about this authentication, if any.
    async fn report_for(
        &self,
        authentication_id: &AuthenticationId,
    ) -> Result<Option<FraudReport>, StoreError>;
    /// Marks an open report resolved.
    async fn resolve_report(&self, id: &ReportId, now: i64) -> Result<bool, StoreError>;

    /// Counts one request in `bucket`'s window starting at `window_start` and answers the
    /// window's count so far, this request included: one statement, so concurrent requests on
    /// any instance each see a different count.
    async fn count_request(&self, bucket: &str, window_start: i64) -> Result<i64, StoreError>;
    /// Takes back one request counted in `bucket`'s window starting at `window_start` (a
    /// count reserved before work whose outcome is not to be counted): one statement, so it
    /// composes with concurrent counts on any instance. Nothing for a window with no count
    /// left (never counted, or forgotten).
    async fn uncount_request(&self, bucket: &str, window_start: i64) -> Result<(), StoreError>;
    /// The count of `bucket`'s window starting at `window_start`, without counting anything:
    /// zero for a window never counted (or forgotten).
    async fn requests_counted(&self, bucket: &str, window_start: i64) -> Result<i64, StoreError>;
    /// Forgets the counts of windows that started before `before`; answers how many.
    async fn forget_requests(&self, before: i64) -> Result<u64, StoreError>;

    /// Queues a mail on its own (not tied to a state change); an alert is dropped as in a
    /// state change's transaction when its card had one of its kind within the window.
    async fn enqueue_mail(&self, mail: &NewMail, now: i64) -> Result<(), StoreError>;
    /// Claims up to `limit` due mails for `lease` seconds, codes before anything else, and
    /// answers them in that order: each claimed row's attempt count goes up by one, and no
    /// other caller can claim it until the lease ends.
    async fn claim_mail(&self, now: i64, lease: i64, limit: i64) -> Result<Vec<Mail>, StoreError>;
    /// Extends a claim to `claimed_until` while its delivery is under way, so that no other
    /// worker claims the mail and sends it a second time. `false` once the claim is no longer
    /// current (`attempts` fences it, as in [`Self::mail_sent`]): another worker claimed the
    /// mail after this lease ran out, or it was settled.
    async fn renew_mail(
        &self,
        id: i64,
        attempts: i64,
        claimed_until: i64,
    ) -> Result<bool, StoreError>;
    /// Marks a claimed mail delivered and erases its bodies (a code lives in the database
    /// only while it is in flight). `attempts` fences a claim whose lease ran out.
    async fn mail_sent(&self, id: i64, attempts: i64, now: i64) -> Result<bool, StoreError>;
    /// Releases a claimed mail after a failed delivery: retried at `retry_at`, or given up
    /// when `None`, which erases its bodies as [`Self::mail_sent`] does.
    async fn mail_failed(
        &self,
        id: i64,
        attempts: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<bool, StoreError>;

    /// How many mails the outbox owes (neither sent nor given up): its backlog.
    async fn mail_owed(&self) -> Result<i64, StoreError>;

    /// The outbox row with this id, sent, given up or owed: what an operator looking into a
    /// delivery sees (a settled row's bodies are empty).
    async fn mail(&self, id: i64) -> Result<Option<Mail>, StoreError>;

    /// Delivers a mail to the demo mailbox.
    async fn deliver_to_mailbox(&self, mail: &Mail, now: i64) -> Result<(), StoreError>;
    /// The demo mailbox, newest first.
    async fn mailbox(&self, limit: i64) -> Result<Vec<MailboxMessage>, StoreError>;
    /// A sandbox merchant's kept mail, newest first.
    async fn sandbox_mail(
        &self,
        merchant_id: &MerchantId,
        limit: i64,
    ) -> Result<Vec<MailboxMessage>, StoreError>;
}
