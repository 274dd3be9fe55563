-- Tokens of the issuer's admin API: the same table as migrations/sqlite/0012_admin.sql, with
-- PostgreSQL types. Only the SHA-256 digest of a token is kept.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    digest       BYTEA NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
