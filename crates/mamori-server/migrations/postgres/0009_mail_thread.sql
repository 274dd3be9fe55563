-- Each queued mail's place among its purchase's mails (`mail::headers::MailThread`, as text):
-- its Message-ID and the one it answers derive from it. NULL for mail queued before.
ALTER TABLE outbox ADD COLUMN thread TEXT;
