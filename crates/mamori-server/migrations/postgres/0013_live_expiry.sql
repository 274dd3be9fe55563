-- The unfinished authentications by when they expire: the verifier's sweeper expires each one
-- whose lifetime is over (and tells its merchant's webhook endpoint), without waiting for a
-- request to read it. Only live rows are in it, so it stays as small as the purchases under
-- way, whatever the table's size.
CREATE INDEX authentications_live_expiry ON authentications (expires_at)
WHERE state IN ('pending', 'challenging');
