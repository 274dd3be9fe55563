-- Tokens of the issuer's admin API (`mamori admin token create`). Only the SHA-256 digest of a
-- token is kept: a dump of this table authenticates nobody. `last_used_at` is coarse (written
-- at most once a minute per token); a revoked token stays listed with its revocation time.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    digest       BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
