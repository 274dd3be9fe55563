-- One device per browser at a merchant, and trust per (device, card): several cards share a
-- browser without evicting each other, and a report revokes one card's trust only.
--
-- A device gains the public key of its device-bound key (NULL: trusted before keys, or a
-- browser without WebCrypto/IndexedDB) and loses its card, which moves to `device_trust`.
-- Each old device becomes a device without a key and one trust row for its card, with the
-- device's dates and revocation.
--
-- SQLite cannot drop a column that has a foreign key, so the table is rebuilt; `device_trust`
-- is created against the new table, and the rename carries its reference over.
CREATE TABLE devices_new (
    id          TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    fingerprint TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    public_key  BLOB
);
INSERT INTO devices_new (id, merchant_id, fingerprint, created_at, expires_at, revoked_at)
    SELECT id, merchant_id, fingerprint, created_at, expires_at, revoked_at FROM devices;

CREATE TABLE device_trust (
    device_id     TEXT NOT NULL REFERENCES devices_new (id),
    cardholder_id TEXT NOT NULL REFERENCES cardholders (id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    PRIMARY KEY (device_id, cardholder_id)
);
INSERT INTO device_trust (device_id, cardholder_id, created_at, expires_at, revoked_at)
    SELECT id, cardholder_id, created_at, expires_at, revoked_at FROM devices;
-- A report revokes a card's trust.
CREATE INDEX device_trust_by_cardholder ON device_trust (cardholder_id);

DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
