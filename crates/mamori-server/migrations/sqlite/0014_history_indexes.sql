-- The device step's history (`DEVICE_STEP_READS`) as index seeks: each count walks only the
-- entries inside its window and reads nothing but the index, and the two reads that are not
-- bounded by time (the card's largest success in a currency, its latest success) stop at the
-- first entry they find. Without these, a step read every row of the card's history.

-- The card's windowed counts (recent device steps, failures, wrong codes) by creation time,
-- with the columns they test, so no table row is looked up. It serves whatever the index it
-- replaces served (same leading columns).
DROP INDEX authentications_by_card;
CREATE INDEX authentications_card_history
ON authentications (cardholder_id, created_at, risk_score, state, attempts);

-- The card's usual amount: MAX(amount) of its successes in one currency is the last entry
-- of its range. Partial, so only successes are in it.
CREATE INDEX authentications_card_success_amount
ON authentications (cardholder_id, currency, amount)
WHERE state = 'succeeded';

-- The card's latest success, in the order the statement picks it (finished_at, then
-- created_at, then id, all descending: SQLite sorts NULL lowest, so a descending walk meets
-- it last, as `NULLS LAST` asks).
CREATE INDEX authentications_card_success_end
ON authentications (cardholder_id, finished_at, created_at, id)
WHERE state = 'succeeded';
