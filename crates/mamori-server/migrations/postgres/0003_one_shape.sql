-- The same shape as the SQLite schema, so both dialects run the same statements.

-- `seq` becomes the primary key, as it must be in SQLite (which numbers only that column by
-- itself); `kid` stays unique.
ALTER TABLE merchant_keys DROP CONSTRAINT merchant_keys_pkey;
ALTER TABLE merchant_keys ADD PRIMARY KEY (seq);
ALTER TABLE merchant_keys ADD UNIQUE (kid);
