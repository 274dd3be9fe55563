-- One device per browser at a merchant, and trust per (device, card): several cards share a
-- browser without evicting each other, and a report revokes one card's trust only.
--
-- A device gains the public key of its device-bound key (NULL: trusted before keys, or a
-- browser without WebCrypto/IndexedDB) and loses its card, which moves to `device_trust`.
-- Each old device becomes a device without a key and one trust row for its card, with the
-- device's dates and revocation.
ALTER TABLE devices ADD COLUMN public_key BYTEA;

CREATE TABLE device_trust (
    device_id     TEXT NOT NULL REFERENCES devices (id),
    cardholder_id TEXT NOT NULL REFERENCES cardholders (id),
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    PRIMARY KEY (device_id, cardholder_id)
);
INSERT INTO device_trust (device_id, cardholder_id, created_at, expires_at, revoked_at)
    SELECT id, cardholder_id, created_at, expires_at, revoked_at FROM devices;
-- A report revokes a card's trust.
CREATE INDEX device_trust_by_cardholder ON device_trust (cardholder_id);

-- Drops its index `devices_by_cardholder` with it.
ALTER TABLE devices DROP COLUMN cardholder_id;
