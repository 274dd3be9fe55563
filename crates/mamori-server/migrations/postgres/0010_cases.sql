-- The same as `migrations/sqlite/0010_cases.sql`, with PostgreSQL types.
-- A protection case per fraud report: the charge's facts as they were when it was reported
-- (later changes to the merchant's name or the authentication do not rewrite them), the case's
-- state and the issuer's last note. Risk reasons are a JSON array of stable names, as in
-- `authentications.risk_reasons`; `method`, `status` and `reason` are the result token's codes,
-- NULL for a purchase that never reached an outcome.
CREATE TABLE protection_cases (
    id                TEXT PRIMARY KEY,
    report_id         TEXT NOT NULL UNIQUE REFERENCES fraud_reports (id),
    authentication_id TEXT NOT NULL REFERENCES authentications (id),
    cardholder_id     TEXT NOT NULL REFERENCES cardholders (id),
    merchant_id       TEXT NOT NULL REFERENCES merchants (id),
    merchant_name     TEXT NOT NULL,
    amount            BIGINT NOT NULL,
    currency          TEXT NOT NULL,
    purchased_at      BIGINT NOT NULL,
    browser           TEXT NOT NULL,
    method            TEXT,
    status            TEXT,
    reason            TEXT,
    risk_reasons      TEXT NOT NULL,
    state             TEXT NOT NULL,
    note              TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
-- The issuer's queue, by state; the cardholder's page, by card.
CREATE INDEX protection_cases_by_state ON protection_cases (state, created_at);
CREATE INDEX protection_cases_by_cardholder ON protection_cases (cardholder_id, created_at);
