-- Sandbox merchants' test cards and their mail, and idempotent creation of authentications.

-- The test card of a sandbox merchant's authentication (see src/sandbox.rs); NULL otherwise.
ALTER TABLE authentications ADD COLUMN sandbox_card TEXT;

-- A sandbox merchant's mail, kept here for it to read with its key instead of being sent.
ALTER TABLE mailbox ADD COLUMN merchant_id TEXT REFERENCES merchants (id);
ALTER TABLE mailbox ADD COLUMN authentication_id TEXT;
CREATE INDEX mailbox_by_merchant ON mailbox (merchant_id, id);

-- `Idempotency-Key` of POST /v1/authentications: a retried request answers the authentication
-- the first one created.
CREATE TABLE idempotency_keys (
    merchant_id       TEXT NOT NULL REFERENCES merchants (id),
    key               TEXT NOT NULL,
    request_hash      BLOB NOT NULL,
    authentication_id TEXT NOT NULL REFERENCES authentications (id),
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
