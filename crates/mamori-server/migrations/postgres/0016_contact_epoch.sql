-- A card's contact epoch: how many times the issuer has changed its address. Each change raises
-- it by one in the transaction that changes the address, and it never goes down, so it never
-- repeats for a card. Self-service links are signed over it (not over the address, which can
-- come back: A -> B -> A), so a change ends every link mailed before it. Existing cards start
-- at 0; the links mailed before this migration were signed over the address and no longer
-- open (see the module docs of `tokens`).
ALTER TABLE cardholders ADD COLUMN contact_epoch BIGINT NOT NULL DEFAULT 0;

-- An unenrolled card's reference as it was before unenrolling rewrote it (see
-- `store::admin`): enrolling the card again finds its last unenrolled row, and tells its
-- address, by this index instead of by scanning every card. Only unenrolled cards are in it.
ALTER TABLE cardholders ADD COLUMN former_card_ref TEXT;
UPDATE cardholders SET former_card_ref = substr(card_ref, 1, strpos(card_ref, ':unenrolled:') - 1)
WHERE status = 'unenrolled' AND strpos(card_ref, ':unenrolled:') > 0;
-- Only the last unenrolled card of a reference holds it (unenrolling hands it over), so that
-- the predecessor is one row, not the newest by a clock. For cards unenrolled before, the last
-- is taken to be the newest by creation time (then id).
UPDATE cardholders SET former_card_ref = NULL
WHERE former_card_ref IS NOT NULL AND EXISTS (SELECT 1 FROM cardholders newer
    WHERE newer.former_card_ref = cardholders.former_card_ref
    AND (newer.created_at > cardholders.created_at
         OR (newer.created_at = cardholders.created_at AND newer.id > cardholders.id)));
CREATE UNIQUE INDEX cardholders_former_card_ref ON cardholders (former_card_ref)
WHERE former_card_ref IS NOT NULL;
