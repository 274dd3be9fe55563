-- The same shape as the PostgreSQL schema, so both dialects run the same statements.

-- Merchant keys get the explicit `seq` PostgreSQL has (SQLite's queries used the implicit
-- rowid): the order of two keys created in the same second. A column cannot become the rowid in
-- place, so the table is rebuilt, each key keeping its rowid as its `seq`. `seq` is the primary
-- key, as SQLite numbers only that column by itself; `kid` stays unique.
CREATE TABLE merchant_keys_new (
    kid         TEXT NOT NULL UNIQUE,
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    secret      BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    retire_at   INTEGER
);
INSERT INTO merchant_keys_new (kid, seq, merchant_id, secret, created_at, retire_at)
    SELECT kid, rowid, merchant_id, secret, created_at, retire_at FROM merchant_keys;
DROP TABLE merchant_keys;
ALTER TABLE merchant_keys_new RENAME TO merchant_keys;
CREATE INDEX merchant_keys_by_merchant ON merchant_keys (merchant_id, created_at);

-- The worker's scan touches only rows still owed a delivery.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND NOT failed;
