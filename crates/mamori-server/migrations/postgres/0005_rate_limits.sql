-- Request counts per bucket (a merchant key, a client address) and window, shared by every
-- instance: one upsert counts a request and answers the window's total.
CREATE TABLE rate_limits (
    bucket TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
-- Finished windows are deleted by their start.
CREATE INDEX rate_limits_window ON rate_limits (window_start);
