-- Frictionless ceilings per currency (`JPY:50000,USD:500`, see `model::Ceilings`): one amount
-- meant nothing once a card could pay in another currency. Every ceiling stored so far was set
-- in yen, the only currency the enrolment tools spoke of, so each becomes a JPY ceiling, and
-- purchases in any other currency are challenged until the issuer sets one for it.
ALTER TABLE cardholders ADD COLUMN frictionless_ceilings TEXT NOT NULL DEFAULT '';
UPDATE cardholders SET frictionless_ceilings = 'JPY:' || CAST(frictionless_ceiling AS TEXT);
ALTER TABLE cardholders DROP COLUMN frictionless_ceiling;
