-- The device step's history (`DEVICE_STEP_READS`) as index seeks: each count walks only the
-- entries inside its window and reads nothing but the index (an index-only scan, where the
-- visibility map allows), and the two reads that are not bounded by time (the card's largest
-- success in a currency, its latest success) stop at the first entry they find. Without these,
-- a step read every row of the card's history. They build inside the migration's transaction
-- (PostgreSQL cannot build `CONCURRENTLY` in one), so writes to the table wait while they do.

-- The card's windowed counts (recent device steps, failures, wrong codes) by creation time,
-- with the columns they test carried in the index. It serves whatever the index it replaces
-- served (same key).
DROP INDEX authentications_by_card;
CREATE INDEX authentications_card_history
ON authentications (cardholder_id, created_at) INCLUDE (risk_score, state, attempts);

-- The card's usual amount: MAX(amount) of its successes in one currency is the last entry
-- of its range. Partial, so only successes are in it.
CREATE INDEX authentications_card_success_amount
ON authentications (cardholder_id, currency, amount)
WHERE state = 'succeeded';

-- The card's latest success, declared in the order the statement picks it: PostgreSQL sorts
-- NULL highest, so a backward walk of an ascending index would meet a NULL finished_at first,
-- where the statement asks `DESC NULLS LAST`.
CREATE INDEX authentications_card_success_end
ON authentications (cardholder_id, finished_at DESC NULLS LAST, created_at DESC, id DESC)
WHERE state = 'succeeded';
