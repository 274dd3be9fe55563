-- An order has at most one live authentication per merchant: creating a second one while the
-- first is pending or challenging is refused (409 order_in_progress), so a result token cannot
-- be matched to another authentication of the same order made with another card.
--
-- Databases from before this rule may already hold several live authentications of one order
-- (typically an abandoned checkout and its retry). Every one but the newest is marked
-- `legacy_duplicate`: it stays as it is (the flow still expires or finishes it as before) but
-- is left out of the rule, which new rows, always FALSE, never are.
ALTER TABLE authentications ADD COLUMN legacy_duplicate BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE authentications SET legacy_duplicate = TRUE
WHERE state IN ('pending', 'challenging')
  AND EXISTS (
      SELECT 1 FROM authentications newer
      WHERE newer.merchant_id = authentications.merchant_id
        AND newer.order_ref = authentications.order_ref
        AND newer.state IN ('pending', 'challenging')
        AND (newer.created_at > authentications.created_at
             OR (newer.created_at = authentications.created_at AND newer.id > authentications.id)));
-- The rule itself: one statement's uniqueness check, which holds under any concurrency. It is
-- also the index the create flow looks the live authentication of an order up by.
CREATE UNIQUE INDEX authentications_live_order ON authentications (merchant_id, order_ref)
WHERE state IN ('pending', 'challenging') AND NOT legacy_duplicate;
