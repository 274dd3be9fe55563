-- The verifier's schema for PostgreSQL: the same tables as migrations/sqlite/0001_initial.sql,
-- with PostgreSQL types. Times are seconds since the Unix epoch; amounts are minor units.

CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    sandbox     BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE merchant_origins (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    origin      TEXT NOT NULL,
    PRIMARY KEY (merchant_id, origin)
);

-- `seq` stands in for SQLite's rowid: it orders two keys created in the same second.
CREATE TABLE merchant_keys (
    kid         TEXT PRIMARY KEY,
    seq         BIGINT GENERATED ALWAYS AS IDENTITY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    secret      BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    retire_at   BIGINT
);
CREATE INDEX merchant_keys_by_merchant ON merchant_keys (merchant_id, created_at);

CREATE TABLE cardholders (
    id                   TEXT PRIMARY KEY,
    card_ref             TEXT NOT NULL UNIQUE,
    last4                TEXT NOT NULL,
    email                TEXT NOT NULL,
    locale               TEXT NOT NULL,
    status               TEXT NOT NULL,
    frictionless_ceiling BIGINT NOT NULL,
    created_at           BIGINT NOT NULL
);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    cardholder_id TEXT NOT NULL REFERENCES cardholders (id),
    merchant_id   TEXT NOT NULL REFERENCES merchants (id),
    fingerprint   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX devices_by_cardholder ON devices (cardholder_id);

CREATE TABLE authentications (
    id                   TEXT PRIMARY KEY,
    merchant_id          TEXT NOT NULL REFERENCES merchants (id),
    cardholder_id        TEXT REFERENCES cardholders (id),
    amount               BIGINT NOT NULL,
    currency             TEXT NOT NULL,
    order_ref            TEXT NOT NULL,
    challenge_preference TEXT NOT NULL,
    client_secret_hash   BYTEA NOT NULL,
    state                TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    risk_score           BIGINT,
    risk_reasons         TEXT NOT NULL,
    device_id            TEXT,
    fingerprint          TEXT,
    ip                   TEXT,
    language             TEXT,
    timezone             TEXT,
    user_agent           TEXT,
    code_digest          BYTEA,
    code_expires_at      BIGINT,
    attempts             BIGINT NOT NULL,
    resends              BIGINT NOT NULL,
    last_sent_at         BIGINT,
    status               TEXT,
    eci                  TEXT,
    method               TEXT,
    reason               TEXT,
    result_token         TEXT,
    finished_at          BIGINT
);
CREATE INDEX authentications_by_card ON authentications (cardholder_id, created_at);
CREATE INDEX authentications_by_device ON authentications (device_id, created_at);
CREATE INDEX authentications_by_ip ON authentications (ip, created_at);

CREATE TABLE fraud_reports (
    id                TEXT PRIMARY KEY,
    cardholder_id     TEXT NOT NULL REFERENCES cardholders (id),
    authentication_id TEXT NOT NULL UNIQUE REFERENCES authentications (id),
    created_at        BIGINT NOT NULL,
    resolved_at       BIGINT
);
CREATE INDEX fraud_reports_by_card ON fraud_reports (cardholder_id, resolved_at);

CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    sent_at         BIGINT,
    failed          BOOLEAN NOT NULL,
    last_error      TEXT
);
-- The worker's scan touches only rows still owed a delivery.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND NOT failed;

CREATE TABLE mailbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text_body    TEXT NOT NULL,
    html_body    TEXT NOT NULL,
    delivered_at BIGINT NOT NULL
);
