# The merchant guide's Python snippet (www/README.md, "Verifying the result token on your
# backend"): a mamori result token checked with PyJWT, an ordinary JWT library. The region
# between the readme markers appears in the guide verbatim (interop.test.mjs checks that);
# the rest turns it into a command for the tests: one JSON case per stdin line, one verdict
# per stdout line (see verifiers.mjs).

import datetime
import json
import sys
from unittest import mock

# readme:begin
import base64

import jwt  # PyJWT


def verify_result(token, secret_keys, merchant_id, order):
    """secret_keys: your merchant secret keys, ["mamori_sk.<kid>.<secret>"] (two during a
    rotation). merchant_id: your merchant id, the token's audience. order: {"authentication",
    "reference", "amount", "currency"}, where authentication is the id POST
    /v1/authentications gave you for it. Returns the claims only for status "Y" (capture then,
    and redeem claims["jti"] once); raises for anything else."""
    keys = {}
    for key in secret_keys:
        _, kid, secret = key.split(".")
        keys[kid] = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "mamori-result+jwt" or header.get("kid") not in keys:
        raise jwt.InvalidTokenError("not a result token signed with one of these keys")
    claims = jwt.decode(
        token,
        keys[header["kid"]],
        algorithms=["HS256"],
        audience=merchant_id,
        leeway=30,
        options={"require": ["exp", "iat", "sub", "jti", "txn", "status"]},
    )
    if claims.get("sub") != order["authentication"]:
        raise jwt.InvalidTokenError("the token is for another authentication")
    txn = claims["txn"]
    if (txn.get("ref"), txn.get("amount"), txn.get("currency")) != (
        order["reference"],
        order["amount"],
        order["currency"],
    ):
        raise jwt.InvalidTokenError("the token is for another order")
    if claims.get("status") != "Y":
        raise jwt.InvalidTokenError(f"not authenticated (status {claims.get('status')})")
    return claims
# readme:end


def main():
    """The command: `now` in each case (seconds) stands in for the clock, so that golden
    vectors dated in the future are checked as of their own time; PyJWT reads the clock with
    datetime.now()."""
    real = datetime.datetime
    for line in sys.stdin:
        case = json.loads(line)
        at = case.get("now")

        class Clock(real):
            @classmethod
            def now(cls, tz=None):
                return real.now(tz) if at is None else real.fromtimestamp(at, tz)

        try:
            with mock.patch("jwt.api_jwt.datetime", Clock):
                claims = verify_result(case["token"], case["keys"], case["audience"], case["order"])
            print(json.dumps({"ok": claims}), flush=True)
        except Exception as error:  # every refusal is a verdict, whatever its type
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)


if __name__ == "__main__":
    main()
