-- The verifier's schema. Times are seconds since the Unix epoch; amounts are minor units.

CREATE TABLE merchants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    sandbox     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE merchant_origins (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    origin      TEXT NOT NULL,
    PRIMARY KEY (merchant_id, origin)
);

CREATE TABLE merchant_keys (
    kid         TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    secret      BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retire_at   INTEGER
);
CREATE INDEX merchant_keys_by_merchant ON merchant_keys (merchant_id, created_at);

CREATE TABLE cardholders (
    id                   TEXT PRIMARY KEY,
    card_ref             TEXT NOT NULL UNIQUE,
    last4                TEXT NOT NULL,
    email                TEXT NOT NULL,
    locale               TEXT NOT NULL,
    status               TEXT NOT NULL,
    frictionless_ceiling INTEGER NOT NULL,
    created_at           INTEGER NOT NULL
);

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    cardholder_id TEXT NOT NULL REFERENCES cardholders (id),
    merchant_id   TEXT NOT NULL REFERENCES merchants (id),
    fingerprint   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);
CREATE INDEX devices_by_cardholder ON devices (cardholder_id);

CREATE TABLE authentications (
    id                   TEXT PRIMARY KEY,
    merchant_id          TEXT NOT NULL REFERENCES merchants (id),
    cardholder_id        TEXT REFERENCES cardholders (id),
    amount               INTEGER NOT NULL,
    currency             TEXT NOT NULL,
    order_ref            TEXT NOT NULL,
    challenge_preference TEXT NOT NULL,
    client_secret_hash   BLOB NOT NULL,
    state                TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER NOT NULL,
    risk_score           INTEGER,
    risk_reasons         TEXT NOT NULL,
    device_id            TEXT,
    fingerprint          TEXT,
    ip                   TEXT,
    language             TEXT,
    timezone             TEXT,
    user_agent           TEXT,
    code_digest          BLOB,
    code_expires_at      INTEGER,
    attempts             INTEGER NOT NULL,
    resends              INTEGER NOT NULL,
    last_sent_at         INTEGER,
    status               TEXT,
    eci                  TEXT,
    method               TEXT,
    reason               TEXT,
    result_token         TEXT,
    finished_at          INTEGER
);
CREATE INDEX authentications_by_card ON authentications (cardholder_id, created_at);
CREATE INDEX authentications_by_device ON authentications (device_id, created_at);
CREATE INDEX authentications_by_ip ON authentications (ip, created_at);

CREATE TABLE fraud_reports (
    id                TEXT PRIMARY KEY,
    cardholder_id     TEXT NOT NULL REFERENCES cardholders (id),
    authentication_id TEXT NOT NULL UNIQUE REFERENCES authentications (id),
    created_at        INTEGER NOT NULL,
    resolved_at       INTEGER
);
CREATE INDEX fraud_reports_by_card ON fraud_reports (cardholder_id, resolved_at);

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    sent_at         INTEGER,
    failed          INTEGER NOT NULL,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (sent_at, failed, next_attempt_at);

CREATE TABLE mailbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT NOT NULL,
    recipient    TEXT NOT NULL,
    subject      TEXT NOT NULL,
    text_body    TEXT NOT NULL,
    html_body    TEXT NOT NULL,
    delivered_at INTEGER NOT NULL
);
