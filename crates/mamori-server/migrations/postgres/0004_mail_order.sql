-- Codes before alerts, and at most one alert of a kind per card per window.

-- The claim takes due mail by priority (0 a code, 1 anything else), then by when it fell due,
-- so a burst of alerts cannot hold back a code. Rows queued before this migration get theirs
-- from their kind.
ALTER TABLE outbox ADD COLUMN priority BIGINT NOT NULL DEFAULT 1;
UPDATE outbox SET priority = 0 WHERE kind = 'code';
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (priority, next_attempt_at, id)
    WHERE sent_at IS NULL AND NOT failed;

-- The last alert of each kind queued for a card, and until when it holds back the next one.
CREATE TABLE alert_windows (
    cardholder_id TEXT NOT NULL REFERENCES cardholders (id),
    kind          TEXT NOT NULL,
    ends_at       BIGINT NOT NULL,
    PRIMARY KEY (cardholder_id, kind)
);
