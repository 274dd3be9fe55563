-- Webhook endpoints (one per owner: `issuer`, or a merchant id), their signing secrets, and
-- the outbox of events owed to them (see `webhooks`).
--
-- A secret is stored encrypted under a key derived from the master secret (`secret`), so a
-- copy of the database alone cannot sign a delivery. During a rotation the old secret signs
-- beside the new one until `expires_at`.
CREATE TABLE webhook_endpoints (
    owner           TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    disabled_at     INTEGER,
    disabled_reason TEXT
);

CREATE TABLE webhook_secrets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    owner      TEXT NOT NULL REFERENCES webhook_endpoints (owner) ON DELETE CASCADE,
    secret     BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX webhook_secrets_by_owner ON webhook_secrets (owner);

-- One row per event and endpoint: `message_id` is the `webhook-id` of every attempt, `body`
-- the exact bytes signed each time. `given_up` is set after the last retry, and for every
-- pending event of an endpoint that answered 410 Gone.
CREATE TABLE webhook_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      TEXT NOT NULL UNIQUE,
    owner           TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    delivered_at    INTEGER,
    given_up        INTEGER NOT NULL,
    last_error      TEXT
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at, id)
    WHERE delivered_at IS NULL AND NOT given_up;
CREATE INDEX webhook_events_by_owner ON webhook_events (owner, id);
