# The merchant guide's snippet for a stack without a JWT library (www/README.md, "Verifying the
# result token on your backend"): a mamori result token checked with HMAC-SHA256 from Python's
# standard library alone. The region between the readme markers appears in the guide verbatim
# (interop.test.mjs checks that); the rest turns it into a command for the tests: one JSON case
# per stdin line, one verdict per stdout line (see verifiers.mjs). `json` and `time` come from the
# snippet's own imports.

import sys
from unittest import mock

# readme:begin
import base64
import hashlib
import hmac
import json
import time


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_result(token, secret_keys, merchant_id, order):
    """secret_keys: your merchant secret keys, ["mamori_sk.<kid>.<secret>"] (two during a
    rotation). merchant_id: your merchant id, the token's audience. order: {"authentication",
    "reference", "amount", "currency"}, where authentication is the id POST
    /v1/authentications gave you for it. Returns the claims only for status "Y" (capture then,
    and redeem claims["jti"] once); raises for anything else."""
    keys = {}
    for key in secret_keys:
        _, kid, secret = key.split(".")
        keys[kid] = b64url(secret)
    header_part, claims_part, tag_part = token.split(".")  # exactly three parts
    header = json.loads(b64url(header_part))
    kid = header.get("kid")
    if header != {"alg": "HS256", "typ": "mamori-result+jwt", "kid": kid} or kid not in keys:
        raise ValueError("not a result token signed with one of these keys")
    signed = f"{header_part}.{claims_part}".encode()
    tag = hmac.new(keys[kid], signed, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, b64url(tag_part)):
        raise ValueError("bad signature")
    claims = json.loads(b64url(claims_part))
    if claims.get("aud") != merchant_id:
        raise ValueError("the token is for another merchant")
    if time.time() > claims["exp"] + 30:  # 30 s of clock leeway
        raise ValueError("expired")
    if claims.get("sub") != order["authentication"]:
        raise ValueError("the token is for another authentication")
    txn = claims["txn"]
    if (txn.get("ref"), txn.get("amount"), txn.get("currency")) != (
        order["reference"],
        order["amount"],
        order["currency"],
    ):
        raise ValueError("the token is for another order")
    if claims.get("status") != "Y":
        raise ValueError(f"not authenticated (status {claims.get('status')})")
    return claims
# readme:end


def main():
    """The command: `now` in each case (seconds) stands in for the clock, so that golden
    vectors dated in the future are checked as of their own time."""
    for line in sys.stdin:
        case = json.loads(line)
        at = case.get("now")
        try:
            with mock.patch("time.time", (lambda: at) if at is not None else time.time):
                claims = verify_result(case["token"], case["keys"], case["audience"], case["order"])
            print(json.dumps({"ok": claims}), flush=True)
        except Exception as error:  # every refusal is a verdict, whatever its type
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__":
    main()
