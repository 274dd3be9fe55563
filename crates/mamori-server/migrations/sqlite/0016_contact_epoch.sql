-- A card's contact epoch: how many times the issuer has changed its address. Each change raises
-- it by one in the transaction that changes the address, and it never goes down, so it never
-- repeats for a card. Self-service links are signed over it (not over the address, which can
-- come back: A -> B -> A), so a change ends every link mailed before it. Existing cards start
-- at 0; the links mailed before this migration were signed over the address and no longer
-- open (see the module docs of `tokens`).
ALTER TABLE cardholders ADD COLUMN contact_epoch INTEGER NOT NULL DEFAULT 0;

-- An unenrolled card's reference as it was before unenrolling rewrote it (see
-- `store::admin`): enrolling the card again finds its former rows, and tells the newest one's
-- address, by this index instead of by scanning every card. Only unenrolled cards are in it.
ALTER TABLE cardholders ADD COLUMN former_card_ref TEXT;
UPDATE cardholders SET former_card_ref = substr(card_ref, 1, instr(card_ref, ':unenrolled:') - 1)
WHERE status = 'unenrolled' AND instr(card_ref, ':unenrolled:') > 0;
CREATE INDEX cardholders_former_card_ref ON cardholders (former_card_ref, created_at)
WHERE former_card_ref IS NOT NULL;
