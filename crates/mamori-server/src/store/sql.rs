//! The statements both dialects run, as named constants with `$N` placeholders (sqlx's SQLite
//! driver reads `$N` as PostgreSQL does, and a number used twice is one parameter).
//!
//! Each constant's doc lists its parameters in bind order; [`super::sql_store`] binds them in
//! that order, once for both databases. The statements only one dialect runs live in
//! [`super::sqlite`] and [`super::postgres`].

/// A trivial query, to see that the database answers.
pub(super) const PING: &str = "SELECT 1";

// Migrations (the files themselves are per dialect: their DDL types differ).

/// The table where a database remembers how many migrations it applied.
pub(super) const CREATE_SCHEMA_VERSION: &str =
    "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)";
/// How many migrations were applied (`NULL` when none).
pub(super) const SCHEMA_VERSION: &str = "SELECT MAX(version) FROM schema_version";
/// `$1` the migration's number, from 1.
pub(super) const RECORD_MIGRATION: &str = "INSERT INTO schema_version (version) VALUES ($1)";

// Merchants and their keys.

/// `$1` id, `$2` name, `$3` sandbox, `$4` created_at.
pub(super) const INSERT_MERCHANT: &str =
    "INSERT INTO merchants (id, name, sandbox, created_at) VALUES ($1, $2, $3, $4)";
/// `$1` merchant_id, `$2` origin.
pub(super) const INSERT_MERCHANT_ORIGIN: &str =
    "INSERT INTO merchant_origins (merchant_id, origin) VALUES ($1, $2)";

/// Merchants joined with their origins, one row per origin (one row with a `NULL` origin for a
/// merchant without any), ordered so that a merchant's rows are adjacent and its origins
/// sorted; `$tail` filters and orders.
macro_rules! merchant_rows {
    ($tail:literal) => {
        concat!(
            "SELECT m.id, m.name, m.sandbox, m.created_at, o.origin, ",
            "EXISTS (SELECT 1 FROM webhook_endpoints w ",
            "WHERE w.owner = m.id AND w.disabled_at IS NULL) AS webhook ",
            "FROM merchants m LEFT JOIN merchant_origins o ON o.merchant_id = m.id ",
            $tail
        )
    };
}
/// `$1` id.
pub(super) const MERCHANT: &str = merchant_rows!("WHERE m.id = $1 ORDER BY o.origin");
/// No parameters; oldest first.
pub(super) const MERCHANTS: &str = merchant_rows!("ORDER BY m.created_at, m.id, o.origin");

/// `$1` kid, `$2` merchant_id, `$3` secret, `$4` created_at, `$5` retire_at.
pub(super) const INSERT_MERCHANT_KEY: &str = "INSERT INTO merchant_keys (kid, merchant_id, secret, created_at, retire_at) \
     VALUES ($1, $2, $3, $4, $5)";
/// `$1` merchant_id; newest first, `seq` ordering two keys of the same second.
pub(super) const MERCHANT_KEYS: &str = "SELECT kid, merchant_id, secret, created_at, retire_at FROM merchant_keys \
     WHERE merchant_id = $1 ORDER BY created_at DESC, seq DESC";
/// `$1` kid.
pub(super) const KEY_BY_KID: &str =
    "SELECT kid, merchant_id, secret, created_at, retire_at FROM merchant_keys WHERE kid = $1";
/// `$1` retire_at, `$2` merchant_id: keeps an earlier retirement already scheduled.
pub(super) const RETIRE_KEYS: &str = "UPDATE merchant_keys SET retire_at = $1 \
     WHERE merchant_id = $2 AND (retire_at IS NULL OR retire_at > $1)";

// Cardholders, devices and the trust between them.

/// `$1` id, `$2` card_ref, `$3` last4, `$4` email, `$5` locale, `$6` status,
/// `$7` frictionless_ceilings, `$8` created_at, `$9` contact_epoch.
pub(super) const INSERT_CARDHOLDER: &str = "INSERT INTO cardholders (id, card_ref, last4, email, locale, status, \
     frictionless_ceilings, created_at, contact_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// `$1` id.
pub(super) const CARDHOLDER: &str = "SELECT * FROM cardholders WHERE id = $1";
/// `$1` card_ref.
pub(super) const CARDHOLDER_BY_REF: &str = "SELECT * FROM cardholders WHERE card_ref = $1";
/// No parameters; oldest first.
pub(super) const CARDHOLDERS: &str = "SELECT * FROM cardholders ORDER BY created_at, id";
/// `$1` status, `$2` id; an unenrolled card stays unenrolled.
pub(super) const SET_CARD_STATUS: &str =
    "UPDATE cardholders SET status = $1 WHERE id = $2 AND status <> 'unenrolled'";

/// `$1` id, `$2` merchant_id, `$3` fingerprint, `$4` public_key, `$5` created_at,
/// `$6` expires_at, `$7` revoked_at.
pub(super) const INSERT_DEVICE: &str = "INSERT INTO devices (id, merchant_id, fingerprint, public_key, created_at, \
     expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
/// `$1` id.
pub(super) const DEVICE: &str = "SELECT * FROM devices WHERE id = $1";
/// `$1` fingerprint, `$2` expires_at, `$3` public_key (`NULL`: keep the stored one), `$4` id:
/// a successful challenge in that browser.
pub(super) const REFRESH_DEVICE: &str = "UPDATE devices SET fingerprint = $1, expires_at = $2, \
     public_key = COALESCE($3, public_key) WHERE id = $4";

/// `$1` device_id, `$2` cardholder_id.
pub(super) const TRUST: &str =
    "SELECT * FROM device_trust WHERE device_id = $1 AND cardholder_id = $2";
/// `$1` device_id, `$2` cardholder_id, `$3` now, `$4` expires_at: trusts the device for the
/// card, or slides a trust's expiry. A trust that had lapsed (expired or revoked) starts anew.
pub(super) const UPSERT_TRUST: &str = "INSERT INTO device_trust (device_id, cardholder_id, created_at, expires_at, \
     revoked_at) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (device_id, cardholder_id) DO UPDATE SET \
     created_at = CASE WHEN device_trust.revoked_at IS NULL AND device_trust.expires_at > $3 \
         THEN device_trust.created_at ELSE excluded.created_at END, \
     expires_at = excluded.expires_at, revoked_at = NULL";
/// `$1` cardholder_id: takes the card's row lock, changing nothing. A fraud report takes it
/// before it revokes the card's trust, and a code's acceptance before it reads whether the card
/// has an open report ([`OPEN_REPORTS`]), each in its transaction, which holds the lock to its
/// end. Otherwise, under PostgreSQL's READ COMMITTED, each could miss the other's uncommitted
/// row — the acceptance the report, the report the acceptance's trust — and a browser would stay
/// trusted after the report that revoked every one. With the lock, whichever comes second waits
/// for the first's commit, and its next statement (a new snapshot) sees what the first wrote.
/// The read of the report must be a statement after this one: a statement that waits for a row
/// lock re-checks that row, but reads other tables as they were when it started. SQLite runs
/// write transactions one at a time, which orders them already, so it runs no lock there (see
/// `super::writes::LockCard`).
///
/// The acceptance takes the lock before [`ACCEPT_CODE`], so blocking or unenrolling the card,
/// which update the same row (unenrolling before it revokes the card's trust), is ordered
/// against it the same way: the acceptance either finds the card no longer active, or commits
/// its trust before the unenrolment revokes it.
pub(super) const LOCK_CARD: &str = "UPDATE cardholders SET status = status WHERE id = $1";
/// `$1` cardholder_id: how many of the card's fraud reports are open (not resolved).
pub(super) const OPEN_REPORTS: &str =
    "SELECT COUNT(*) FROM fraud_reports WHERE cardholder_id = $1 AND resolved_at IS NULL";
/// `$1` now, `$2` cardholder_id: the card's trust not revoked yet, in every browser.
pub(super) const REVOKE_TRUST: &str =
    "UPDATE device_trust SET revoked_at = $1 WHERE cardholder_id = $2 AND revoked_at IS NULL";

// Authentications.

/// `$1` id, `$2` merchant_id, `$3` cardholder_id, `$4` amount, `$5` currency, `$6` order_ref,
/// `$7` challenge_preference, `$8` client_secret_hash, `$9` state, `$10` created_at,
/// `$11` expires_at, `$12` risk_reasons, `$13` attempts, `$14` resends, `$15` sandbox_card,
/// `$16` card_ref.
///
/// The cardholder is `$3` when the caller knows it; otherwise the card enrolled under the
/// reference `$16`, looked up by the same statement, so that creating an authentication takes
/// one round trip rather than a read of the card and then the insert. An unknown reference or
/// a `NULL` one (a sandbox card) stores no cardholder, as a `NULL` `$3` did.
///
/// Inserts nothing (no row affected) when the merchant has a live authentication of the same
/// order: the conflict target is the partial unique index `authentications_live_order`
/// (migration 0006), whose predicate it repeats. The index decides, so two concurrent inserts
/// cannot both pass as two `NOT EXISTS` checks could under READ COMMITTED: in PostgreSQL the
/// second waits for the first's transaction and then does nothing; SQLite writes one at a time.
pub(super) const INSERT_AUTHENTICATION: &str = "INSERT INTO authentications (id, merchant_id, cardholder_id, amount, currency, \
     order_ref, challenge_preference, client_secret_hash, state, created_at, expires_at, \
     risk_reasons, attempts, resends, sandbox_card) \
     VALUES ($1, $2, COALESCE($3, (SELECT id FROM cardholders WHERE card_ref = $16)), \
     $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
     ON CONFLICT (merchant_id, order_ref) \
     WHERE state IN ('pending', 'challenging') AND NOT legacy_duplicate DO NOTHING";
/// `$1` id.
pub(super) const AUTHENTICATION: &str = "SELECT * FROM authentications WHERE id = $1";
/// `$1` now, `$2` how many: unfinished authentications whose lifetime is over, the longest
/// overdue first (the partial index `authentications_live_expiry`).
pub(super) const DUE_FOR_EXPIRY: &str = "SELECT * FROM authentications \
     WHERE state IN ('pending', 'challenging') AND expires_at <= $1 \
     ORDER BY expires_at LIMIT $2";
/// `$1` merchant_id, `$2` order_ref: the live authentication the index of
/// [`INSERT_AUTHENTICATION`] holds for that order, if any.
pub(super) const LIVE_AUTHENTICATION_FOR_ORDER: &str = "SELECT * FROM authentications \
     WHERE merchant_id = $1 AND order_ref = $2 \
     AND state IN ('pending', 'challenging') AND NOT legacy_duplicate";

/// `$1` merchant_id, `$2` key, `$3` request_hash, `$4` authentication_id, `$5` created_at.
pub(super) const INSERT_IDEMPOTENCY_KEY: &str = "INSERT INTO idempotency_keys (merchant_id, key, request_hash, authentication_id, \
     created_at) VALUES ($1, $2, $3, $4, $5)";
/// `$1` merchant_id, `$2` key.
pub(super) const IDEMPOTENCY_KEY: &str =
    "SELECT * FROM idempotency_keys WHERE merchant_id = $1 AND key = $2";

/// `$1` the authentication's id, `$2` the device id the browser's token claims, `$3` the
/// client's address, `$4` short_since, `$5` long_since.
///
/// Everything the device step decides on, in one round trip and one snapshot: the
/// authentication (`a.*`), its cardholder (`ch_…`), the claimed device (`dv_…`) and the card's
/// trust in it (`tr_…`), each `LEFT JOIN`ed so that a missing one reads as `NULL`s, and the
/// history counts as scalar subqueries on the authentication's own card and currency. Counts
/// cover `[now - short_window, now]` (`$4`) and failures `[now - long_window, now]` (`$5`), and
/// leave the authentication itself out. A `NULL` key (no card, no claimed device, no address)
/// matches no row, so its counts are zero and its lookups empty.
///
/// `device_recent` counts the *claimed* device: the flow weighs it only once the browser is
/// identified as that device (token for this merchant, device live, proof checked), and
/// counts zero otherwise. The last success is joined by the id one correlated subquery picks:
/// SQLite has no `LATERAL`, and a subquery per column could pick two rows finished in the same
/// second. `NULLS LAST` because PostgreSQL sorts `NULL` first in a descending order
/// where SQLite sorts it last; `SUM` is cast as PostgreSQL sums `BIGINT` into `NUMERIC`.
///
/// # Cost
///
/// A card's history grows for ever, so no part of this may read all of it (migration 0014):
///
/// - the card's windowed counts walk `authentications_card_history` from `$4` or `$5` on, and
///   the device's and the address's walk `authentications_by_device` / `_by_ip`; each index
///   holds every column its count tests, so no table row is read;
/// - `usual_max_amount` is the last entry of the card's range of successes in the currency in
///   `authentications_card_success_amount`, and the last success the first entry, in the
///   `ORDER BY`'s order, of the card's range in `authentications_card_success_end`.
///
/// The counts leave the authentication out by subtracting what it adds itself, tested on its
/// own row (`a`), rather than by `h.id <> a.id` on every counted row: the windowed indexes do
/// not hold `id` (SQLite's hold the rowid), so that test read each counted row from the table.
/// Both are exact, as `id` is unique: the subquery counts `a` once exactly when `a` matches its
/// conditions, which the `CASE` repeats on `a` (`a.cardholder_id IS NOT NULL` standing for
/// `h.cardholder_id = a.cardholder_id`). At the step's own assessment the authentication is
/// `pending`, with no risk score, device, address, attempts or final state, so it subtracts
/// nothing; the subtraction keeps the counts right when another state is read (the store's
/// contract, which the conformance suite checks). The two single-row reads keep `<> a.id`:
/// they stop at the first entry that passes it.
pub(super) const DEVICE_STEP_READS: &str = "SELECT a.*, \
     ch.id AS ch_id, ch.card_ref AS ch_card_ref, ch.last4 AS ch_last4, ch.email AS ch_email, \
     ch.locale AS ch_locale, ch.status AS ch_status, \
     ch.frictionless_ceilings AS ch_frictionless_ceilings, ch.created_at AS ch_created_at, \
     ch.contact_epoch AS ch_contact_epoch, \
     dv.id AS dv_id, dv.merchant_id AS dv_merchant_id, dv.fingerprint AS dv_fingerprint, \
     dv.public_key AS dv_public_key, dv.created_at AS dv_created_at, \
     dv.expires_at AS dv_expires_at, dv.revoked_at AS dv_revoked_at, \
     tr.device_id AS tr_device_id, tr.cardholder_id AS tr_cardholder_id, \
     tr.created_at AS tr_created_at, tr.expires_at AS tr_expires_at, \
     tr.revoked_at AS tr_revoked_at, \
     (SELECT COUNT(*) FROM authentications h \
         WHERE h.cardholder_id = a.cardholder_id AND h.created_at >= $4 \
         AND h.risk_score IS NOT NULL) \
     - CASE WHEN a.cardholder_id IS NOT NULL AND a.created_at >= $4 \
         AND a.risk_score IS NOT NULL THEN 1 ELSE 0 END AS card_recent, \
     (SELECT COUNT(*) FROM authentications h \
         WHERE h.device_id = $2 AND h.created_at >= $4) \
     - CASE WHEN a.device_id = $2 AND a.created_at >= $4 THEN 1 ELSE 0 END AS device_recent, \
     (SELECT COUNT(*) FROM authentications h \
         WHERE h.ip = $3 AND h.created_at >= $4) \
     - CASE WHEN a.ip = $3 AND a.created_at >= $4 THEN 1 ELSE 0 END AS ip_recent, \
     (SELECT COUNT(*) FROM authentications h \
         WHERE h.cardholder_id = a.cardholder_id AND h.created_at >= $5 \
         AND h.state = 'failed') \
     - CASE WHEN a.cardholder_id IS NOT NULL AND a.created_at >= $5 \
         AND a.state = 'failed' THEN 1 ELSE 0 END AS failed_challenges, \
     (SELECT CAST(COALESCE(SUM(h.attempts), 0) AS BIGINT) FROM authentications h \
         WHERE h.cardholder_id = a.cardholder_id AND h.created_at >= $5) \
     - CASE WHEN a.cardholder_id IS NOT NULL AND a.created_at >= $5 \
         THEN a.attempts ELSE 0 END AS wrong_codes, \
     (SELECT COUNT(*) FROM fraud_reports r \
         WHERE r.cardholder_id = a.cardholder_id AND r.resolved_at IS NULL) AS open_reports, \
     (SELECT MAX(h.amount) FROM authentications h \
         WHERE h.cardholder_id = a.cardholder_id AND h.state = 'succeeded' AND h.id <> a.id \
         AND h.currency = a.currency) AS usual_max_amount, \
     last.language AS last_language, last.timezone AS last_timezone \
     FROM authentications a \
     LEFT JOIN cardholders ch ON ch.id = a.cardholder_id \
     LEFT JOIN devices dv ON dv.id = $2 \
     LEFT JOIN device_trust tr ON tr.device_id = $2 AND tr.cardholder_id = a.cardholder_id \
     LEFT JOIN authentications last ON last.id = ( \
         SELECT l.id FROM authentications l \
         WHERE l.cardholder_id = a.cardholder_id AND l.state = 'succeeded' AND l.id <> a.id \
         ORDER BY l.finished_at DESC NULLS LAST, l.created_at DESC, l.id DESC LIMIT 1) \
     WHERE a.id = $1";

// The conditional updates: each `WHERE` is the guard that decides a race.

/// The device step's assessment and browser context, then `$tail`: `$1` id, `$2` now,
/// `$3` risk_score, `$4` risk_reasons, `$5` device_id, `$6` fingerprint, `$7` ip,
/// `$8` language, `$9` timezone, `$10` user_agent; only from `pending`, before expiry.
macro_rules! device_step {
    ($set:literal) => {
        concat!(
            "UPDATE authentications SET risk_score = $3, risk_reasons = $4, device_id = $5, ",
            "fingerprint = $6, ip = $7, language = $8, timezone = $9, user_agent = $10, ",
            $set,
            " WHERE id = $1 AND state = 'pending' AND expires_at > $2"
        )
    };
}
/// The device step concluding at once: `$1`–`$10` as `device_step!`, `$11` state,
/// `$12` status, `$13` eci, `$14` method, `$15` reason, `$16` result_token.
pub(super) const DEVICE_STEP_CONCLUDE: &str = device_step!(
    "state = $11, status = $12, eci = $13, method = $14, reason = $15, result_token = $16, \
     finished_at = $2"
);
/// The device step sending a code: `$1`–`$10` as `device_step!`, `$11` code_digest,
/// `$12` code_expires_at.
pub(super) const DEVICE_STEP_CHALLENGE: &str = device_step!(
    "state = 'challenging', code_digest = $11, code_expires_at = $12, last_sent_at = $2"
);

/// `$1` status, `$2` eci, `$3` method, `$4` reason, `$5` result_token, `$6` now,
/// `$7` the device the code trusts (or `NULL`), `$8` id, `$9` the entered code's digest,
/// `$10` max_attempts.
///
/// Clearing `code_digest` in the same statement is what makes the code single-use: a
/// concurrent acceptance waits for this row's write lock, and then no longer matches. The
/// fingerprint goes too: the trusted device now holds it. A card the issuer blocked or unenrolled
/// meanwhile matches nothing, so neither the success nor the trust that follows in the same
/// transaction is written (the flow then reads the card again and ends the purchase `R`).
pub(super) const ACCEPT_CODE: &str = "UPDATE authentications SET state = 'succeeded', code_digest = NULL, \
     fingerprint = NULL, status = $1, eci = $2, method = $3, reason = $4, result_token = $5, \
     finished_at = $6, device_id = COALESCE($7, device_id) \
     WHERE id = $8 AND state = 'challenging' AND code_digest = $9 \
     AND code_expires_at > $6 AND attempts < $10 AND expires_at > $6 \
     AND (cardholder_id IS NULL OR EXISTS (SELECT 1 FROM cardholders \
         WHERE cardholders.id = authentications.cardholder_id AND cardholders.status = 'active'))";

/// `$1` max_attempts, `$2` status, `$3` eci, `$4` method, `$5` reason, `$6` result_token,
/// `$7` now, `$8` id; returns the new `attempts` and `state`.
///
/// One statement counts the entry and, when it was the last one allowed, fails the
/// authentication: no window in which a fifth wrong code is counted but not acted on.
/// Concurrent entries queue on the row's write lock and each re-checks `attempts < $1`.
pub(super) const REJECT_CODE: &str = "UPDATE authentications SET attempts = attempts + 1, \
     state = CASE WHEN attempts + 1 >= $1 THEN 'failed' ELSE state END, \
     code_digest = CASE WHEN attempts + 1 >= $1 THEN NULL ELSE code_digest END, \
     status = CASE WHEN attempts + 1 >= $1 THEN $2 ELSE status END, \
     eci = CASE WHEN attempts + 1 >= $1 THEN $3 ELSE eci END, \
     method = CASE WHEN attempts + 1 >= $1 THEN $4 ELSE method END, \
     reason = CASE WHEN attempts + 1 >= $1 THEN $5 ELSE reason END, \
     result_token = CASE WHEN attempts + 1 >= $1 THEN $6 ELSE result_token END, \
     finished_at = CASE WHEN attempts + 1 >= $1 THEN $7 ELSE finished_at END \
     WHERE id = $8 AND state = 'challenging' AND attempts < $1 AND expires_at > $7 \
     RETURNING attempts, state";

/// `$1` code_digest, `$2` code_expires_at, `$3` now, `$4` id, `$5` max_resends,
/// `$6` the latest send the cooldown allows (now − cooldown).
pub(super) const RESEND_CODE: &str = "UPDATE authentications SET code_digest = $1, code_expires_at = $2, \
     resends = resends + 1, last_sent_at = $3 \
     WHERE id = $4 AND state = 'challenging' AND expires_at > $3 AND resends < $5 \
     AND last_sent_at <= $6";

/// Ends an authentication, then `$expiry` says on which side of `expires_at` it must be:
/// `$1` to, `$2` status, `$3` eci, `$4` method, `$5` reason, `$6` result_token, `$7` now,
/// `$8` id, `$9` from.
macro_rules! conclude {
    ($expiry:literal) => {
        concat!(
            "UPDATE authentications SET state = $1, code_digest = NULL, status = $2, eci = $3, ",
            "method = $4, reason = $5, result_token = $6, finished_at = $7 ",
            "WHERE id = $8 AND state = $9 AND ",
            $expiry
        )
    };
}
/// Concludes as `Expired`, only once `expires_at` has passed; parameters as `conclude!`.
pub(super) const CONCLUDE_EXPIRED: &str = conclude!("expires_at <= $7");
/// Concludes as anything else, only before `expires_at`; parameters as `conclude!`.
pub(super) const CONCLUDE_LIVE: &str = conclude!("expires_at > $7");

// Fraud reports.

/// `$1` id, `$2` cardholder_id, `$3` authentication_id, `$4` created_at; inserts nothing when
/// the authentication was reported already.
pub(super) const INSERT_REPORT: &str = "INSERT INTO fraud_reports (id, cardholder_id, authentication_id, created_at, \
     resolved_at) VALUES ($1, $2, $3, $4, NULL) ON CONFLICT (authentication_id) DO NOTHING";
/// `$1` open_only; oldest first.
pub(super) const REPORTS: &str = "SELECT * FROM fraud_reports \
     WHERE NOT $1 OR resolved_at IS NULL ORDER BY created_at, id";
/// `$1` authentication_id.
pub(super) const REPORT_FOR: &str = "SELECT * FROM fraud_reports WHERE authentication_id = $1";
/// `$1` now, `$2` id; only an open report.
pub(super) const RESOLVE_REPORT: &str =
    "UPDATE fraud_reports SET resolved_at = $1 WHERE id = $2 AND resolved_at IS NULL";

// Mail. The claim differs per dialect (see the module docs of `store`).

/// `$1` kind, `$2` recipient, `$3` subject, `$4` text_body, `$5` html_body, `$6` now (created
/// and first due), `$7` priority, `$8` thread.
pub(super) const INSERT_OUTBOX: &str = "INSERT INTO outbox (kind, recipient, subject, text_body, html_body, created_at, \
     attempts, next_attempt_at, failed, priority, thread) \
     VALUES ($1, $2, $3, $4, $5, $6, 0, $6, FALSE, $7, $8)";
/// `$1` cardholder_id, `$2` kind, `$3` the new window's end, `$4` now: opens a card's alert
/// window for this kind, unless one is still open (then it changes nothing, and the alert is
/// dropped).
///
/// One statement decides, so two transactions queuing the same alert cannot both see the
/// window closed: in PostgreSQL the second waits for the first's row and then evaluates the
/// `WHERE` against the row the first committed; in SQLite write transactions run one at a time.
pub(super) const OPEN_ALERT_WINDOW: &str = "INSERT INTO alert_windows (cardholder_id, kind, ends_at) VALUES ($1, $2, $3) \
     ON CONFLICT (cardholder_id, kind) DO UPDATE SET ends_at = excluded.ends_at \
     WHERE alert_windows.ends_at <= $4";
/// The mail still owed, walking the partial index of due mail (`outbox_due`).
pub(super) const MAIL_OWED: &str =
    "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND NOT failed";
/// `$1` id; whatever its state.
pub(super) const OUTBOX_MAIL: &str = "SELECT id, kind, recipient, subject, text_body, html_body, attempts, thread FROM outbox WHERE id = $1";
/// `$1` the lease's new end, `$2` id, `$3` attempts: extends only the claim that is still
/// current (no other worker claimed the mail since, and it was not settled).
pub(super) const RENEW_MAIL: &str = "UPDATE outbox SET claimed_until = $1 \
     WHERE id = $2 AND attempts = $3 AND claimed_until IS NOT NULL \
     AND sent_at IS NULL AND NOT failed";
/// `$1` now, `$2` id, `$3` attempts: only the claim that is still current, whose bodies are
/// then erased.
pub(super) const MAIL_SENT: &str = "UPDATE outbox SET sent_at = $1, claimed_until = NULL, text_body = '', html_body = '', \
     last_error = NULL WHERE id = $2 AND attempts = $3 AND sent_at IS NULL";
/// `$1` error, `$2` retry_at (`NULL`: keep), `$3` failed for good, `$4` id, `$5` attempts. A
/// mail given up has its bodies erased as a sent one does: its code must not outlive it.
pub(super) const MAIL_FAILED: &str = "UPDATE outbox SET claimed_until = NULL, last_error = $1, \
     next_attempt_at = COALESCE($2, next_attempt_at), failed = $3, \
     text_body = CASE WHEN $3 THEN '' ELSE text_body END, \
     html_body = CASE WHEN $3 THEN '' ELSE html_body END \
     WHERE id = $4 AND attempts = $5 AND sent_at IS NULL";

/// `$1` kind, `$2` recipient, `$3` subject, `$4` text_body, `$5` html_body, `$6` delivered_at,
/// `$7` the sandbox merchant, `$8` its authentication (both `NULL` for the demo mailbox).
pub(super) const INSERT_MAILBOX: &str = "INSERT INTO mailbox (kind, recipient, subject, text_body, html_body, delivered_at, \
     merchant_id, authentication_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// `$1` limit; newest first.
pub(super) const MAILBOX: &str = "SELECT * FROM mailbox ORDER BY id DESC LIMIT $1";
/// `$1` merchant_id, `$2` limit; newest first.
pub(super) const SANDBOX_MAIL: &str =
    "SELECT * FROM mailbox WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2";

/// `$1` bucket, `$2` window_start: counts a request and answers the window's count.
pub(super) const COUNT_REQUEST: &str = "INSERT INTO rate_limits (bucket, window_start, hits) \
     VALUES ($1, $2, 1) ON CONFLICT (bucket, window_start) \
     DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits";
/// `$1` bucket, `$2` window_start: takes back one counted request (no row, or none left: nothing).
pub(super) const UNCOUNT_REQUEST: &str = "UPDATE rate_limits SET hits = hits - 1 \
     WHERE bucket = $1 AND window_start = $2 AND hits > 0";
/// `$1` bucket, `$2` window_start: the window's count, read only (no row: none).
pub(super) const REQUESTS_COUNTED: &str =
    "SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start = $2";
/// `$1` the oldest window start to keep.
pub(super) const FORGET_REQUESTS: &str = "DELETE FROM rate_limits WHERE window_start < $1";
