-- A card's contact epoch: how many times the issuer has changed its address. Each change raises
-- it by one in the transaction that changes the address, and it never goes down, so it never
-- repeats for a card. Self-service links are signed over it (not over the address, which can
-- come back: A -> B -> A), so a change ends every link mailed before it. Existing cards start
-- at 0; the links mailed before this migration were signed over the address and no longer
-- open (see the module docs of `tokens`).
ALTER TABLE cardholders ADD COLUMN contact_epoch INTEGER NOT NULL DEFAULT 0;
