-- A webhook event's claims, counted: each claim raises it by one and it never goes down, so
-- its value fences that claim alone (renewing and settling match it). `attempts` could not:
-- an attempt deferred through no fault of the endpoint is given back, so the next claim had
-- the deferred one's count, and the deferred claim's holder, still at work after its lease ran
-- out, could have settled the new claim. `attempts` stays the count of attempts that drive
-- retries and giving up. Existing rows start at their attempts: any value works as long as it
-- only grows.
ALTER TABLE webhook_events ADD COLUMN claims BIGINT NOT NULL DEFAULT 0;
UPDATE webhook_events SET claims = attempts;
