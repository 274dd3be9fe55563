"""Checks one mail as a receiving mailbox would: the DKIM signature against the given record
(dkimpy, no DNS), then the headers and both parts as Python's email package reads them.

Usage: mail_checks.py <mail file> <selector>._domainkey.<domain>. <TXT record value>
Prints one JSON object."""

import email
import email.policy
import json
import sys

import dkim

path, name, record = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
raw = open(path, "rb").read()


def dns(queried, timeout=5):
    return record if queried == name else None


verified = dkim.verify(raw, dnsfunc=dns)
message = email.message_from_bytes(raw, policy=email.policy.strict)
print(json.dumps({
    "dkim": bool(verified),
    "subject": str(message["subject"]),
    "message_id": message["message-id"],
    "date": message["date"],
    "auto_submitted": message["auto-submitted"],
    "in_reply_to": message["in-reply-to"],
    "references": message["references"],
    "text": message.get_body(("plain",)).get_content(),
    "html": message.get_body(("html",)).get_content(),
}))
