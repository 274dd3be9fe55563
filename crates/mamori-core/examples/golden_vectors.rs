//! Writes the golden vectors in `tests/vectors/`: `cargo run -p mamori-core --example golden_vectors`.
//!
//! Invalid tokens are built here byte by byte, with their own base64url and HMAC, so each one
//! breaks exactly the rule its case names and nothing before it (a duplicate claim is validly
//! signed, so the verifier must reach the claims to refuse it). Valid tokens are built the same
//! way, and the run checks that mamori-core's signer produces the very same text.
//!
//! The files are the wire format: regenerate them only for a deliberate wire-format change, and
//! review the diff.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stdout,
    missing_docs
)]

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use mamori_core::fingerprint::{self, Browser, Fingerprint};
use mamori_core::otp;
use mamori_core::token::{self, SigningKey, encode_secret_key};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// When the tokens are checked, unless a case says otherwise.
const NOW: u64 = 1_800_000_100;
/// When the tokens were issued.
const IAT: u64 = 1_800_000_000;
const LEEWAY: u64 = token::DEFAULT_LEEWAY;
/// The authentication every result token here is for (`sub`).
const AUTHENTICATION: &str = "au_01JD8Z7Q3N4V";
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    for (file, description, cases) in [
        (
            "tokens.json",
            "Result and device token cases. `keys` are merchant secret keys \
             (mamori_sk.<kid>.<base64url secret>); `now` is seconds since the epoch; the leeway \
             is the default 30 s; `order` is the expected order (authentication id, reference, \
             amount, currency) when given; `allow_attempted` is true when status A counts as a \
             success (false when absent). `expect` is {\"ok\": claims}, {\"error\": \
             TokenError::code()}, or {\"error\": \"status\", \"claims\": claims} for a valid \
             token whose status is not a success.",
            token_cases(),
        ),
        (
            "otp.json",
            "One-time code cases. generate: 32 random bytes (hex) to a code; normalize: what a \
             person types to a code; digest: key (hex), authentication id and code to the stored \
             digest (hex). `expect` is {\"ok\": …} or {\"error\": OtpError::code()}.",
            otp_cases(),
        ),
        (
            "fingerprint.json",
            "Fingerprint cases. hash: component id and canonical value to the 32-hex-digit hash; \
             similarity: stored and presented fingerprints to a score in thousandths; parse: wire \
             JSON to its canonical encoding, or refused. `expect` is {\"ok\": …} or \
             {\"error\": \"invalid\"}.",
            fingerprint_cases(),
        ),
    ] {
        let document = json!({ "description": description, "cases": cases });
        let text = serde_json::to_string_pretty(&document).unwrap() + "\n";
        std::fs::write(dir.join(file), text).unwrap();
        println!("{file}: {} cases", cases.len());
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens

/// A key id and secret.
struct Key {
    kid: &'static str,
    secret: Vec<u8>,
}

impl Key {
    fn new(kid: &'static str, first_byte: u8) -> Self {
        Self {
            kid,
            secret: (first_byte..first_byte + 32).collect(),
        }
    }

    fn secret_key(&self) -> String {
        encode_secret_key(self.kid, &self.secret)
    }

    /// A token with our header for `typ` over `claims`.
    fn sign(&self, typ: &str, claims: &Value) -> String {
        raw_token(
            &header(typ, self.kid),
            claims.to_string().as_bytes(),
            &self.secret,
        )
    }
}

/// One token case; `expect` is filled in by [`TokenCase::ok`] or [`TokenCase::error`].
struct TokenCase {
    value: Value,
}

impl TokenCase {
    fn result(id: &str, description: &str, token: String, keys: &[&Key]) -> Self {
        Self::new(id, description, "result", token, keys)
    }

    fn device(id: &str, description: &str, token: String, keys: &[&Key]) -> Self {
        Self::new(id, description, "device", token, keys)
    }

    fn new(id: &str, description: &str, kind: &str, token: String, keys: &[&Key]) -> Self {
        let keys: Vec<String> = keys.iter().map(|key| key.secret_key()).collect();
        Self {
            value: json!({
                "id": id, "description": description, "kind": kind, "token": token,
                "keys": keys, "audience": "m_shop", "now": NOW,
            }),
        }
    }

    fn now(mut self, now: u64) -> Self {
        self.value["now"] = json!(now);
        self
    }

    fn audience(mut self, audience: &str) -> Self {
        self.value["audience"] = json!(audience);
        self
    }

    /// The expected order, for the authentication every result claims here (`sub`).
    fn order(self, reference: &str, amount: u64, currency: &str) -> Self {
        self.order_of(AUTHENTICATION, reference, amount, currency)
    }

    fn order_of(
        mut self,
        authentication: &str,
        reference: &str,
        amount: u64,
        currency: &str,
    ) -> Self {
        self.value["order"] = json!({
            "authentication": authentication, "reference": reference, "amount": amount,
            "currency": currency,
        });
        self
    }

    fn allow_attempted(mut self) -> Self {
        self.value["allow_attempted"] = json!(true);
        self
    }

    fn ok(mut self, claims: &Value) -> Value {
        self.value["expect"] = json!({ "ok": claims });
        self.value
    }

    /// A valid token refused for its status, with the claims it vouches for.
    fn refused(mut self, claims: &Value) -> Value {
        self.value["expect"] = json!({ "error": "status", "claims": claims });
        self.value
    }

    fn error(mut self, code: &str) -> Value {
        self.value["expect"] = json!({ "error": code });
        self.value
    }
}

fn result_claims() -> Value {
    json!({
        "iss": "https://safekey.issuer.example", "aud": "m_shop", "sub": AUTHENTICATION,
        "iat": IAT, "exp": IAT + token::RESULT_LIFETIME, "jti": "rt_01JD8Z7Q3N4V",
        "txn": {"ref": "order-42", "amount": 12800, "currency": "JPY"},
        "status": "Y", "eci": "05", "method": "challenge",
    })
}

fn device_claims() -> Value {
    json!({
        "iss": "https://safekey.issuer.example", "aud": "m_shop", "sub": "ch_7", "did": "dv_3",
        "iat": IAT, "exp": IAT + token::DEVICE_LIFETIME,
    })
}

/// `result_claims()` with some members replaced.
fn with(changes: Value) -> Value {
    let mut claims = result_claims();
    for (name, value) in changes.as_object().unwrap() {
        claims[name] = value.clone();
    }
    claims
}

fn header(typ: &str, kid: &str) -> Vec<u8> {
    format!(r#"{{"alg":"HS256","typ":"{typ}","kid":"{kid}"}}"#).into_bytes()
}

fn header_with_alg(alg: &str) -> Vec<u8> {
    format!(r#"{{"alg":"{alg}","typ":"mamori-result+jwt","kid":"m_shop-2026a"}}"#).into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn hmac(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap();
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// A compact JWS over raw header and claims bytes.
fn raw_token(header: &[u8], claims: &[u8], secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let tag = hmac(secret, input.as_bytes());
    format!("{input}.{}", b64(&tag))
}

fn token_cases() -> Vec<Value> {
    let a = Key::new("m_shop-2026a", 0);
    let b = Key::new("m_shop-2026b", 100);
    let device_key = Key::new("device-1", 200);
    let claims = result_claims();
    let result = |claims: &Value| a.sign(token::RESULT_TYPE, claims);
    let raw = |header: &[u8], claims: &[u8]| raw_token(header, claims, &a.secret);
    // The reference token is written in the claims' struct order, which is how mamori-core
    // writes them; the other cases keep serde_json's sorted order, which verifies just the same.
    let typed: token::ResultClaims = serde_json::from_value(claims.clone()).unwrap();
    let good = raw_token(
        &header(token::RESULT_TYPE, a.kid),
        serde_json::to_string(&typed).unwrap().as_bytes(),
        &a.secret,
    );
    let (input, tag) = good.rsplit_once('.').unwrap();
    let (header_segment, _) = input.split_once('.').unwrap();
    let device = device_claims();
    let device_token = device_key.sign(token::DEVICE_TYPE, &device);

    let signer = SigningKey::new(a.kid, &a.secret).unwrap();
    let ours = token::sign_result(&typed, &signer);
    assert_eq!(
        ours, good,
        "mamori-core's signer writes the canonical token"
    );

    let mut flipped_tag = hmac(&a.secret, input.as_bytes());
    flipped_tag[0] ^= 1;
    // The 43rd character of a 32-byte tag carries 4 bits and 2 unused ones, which must be zero.
    let mut respelled: Vec<u8> = tag.bytes().collect();
    let last = ALPHABET.iter().position(|c| *c == respelled[42]).unwrap();
    assert_eq!(last & 3, 0);
    respelled[42] = ALPHABET[last | 1];
    let respelled = String::from_utf8(respelled).unwrap();
    let long = with(json!({"jti": "x".repeat(3000)}));
    let unicode = with(json!({
        "iss": "https://safekey.issuer.example/日本",
        "txn": {"ref": "注文-４２/α", "amount": 12800, "currency": "JPY"},
    }));
    let largest = with(
        json!({"txn": {"ref": "order-big", "amount": 9_007_199_254_740_991u64, "currency": "USD"}}),
    );
    let not_authenticated = with(json!({"status": "N", "eci": "07", "reason": "19"}));
    let rejected =
        with(json!({"status": "R", "eci": "07", "reason": "11", "method": "frictionless"}));
    let timed_out = with(json!({"status": "U", "eci": "07", "reason": "14"}));
    let attempted = with(json!({"status": "A", "eci": "06", "reason": "02"}));
    let mut missing_exp = result_claims();
    missing_exp.as_object_mut().unwrap().remove("exp");

    vec![
        // Valid.
        TokenCase::result("valid-result-challenge", "result token of a challenged purchase, checked against its order", good.clone(), &[&a])
            .order("order-42", 12800, "JPY").ok(&claims),
        TokenCase::result("valid-result-frictionless", "frictionless result token, no order given", result(&with(json!({"method": "frictionless", "jti": "rt_frictionless"}))), &[&a])
            .ok(&with(json!({"method": "frictionless", "jti": "rt_frictionless"}))),
        TokenCase::result("valid-result-attempted-allowed", "status A when the caller allows attempts", result(&attempted), &[&a])
            .order("order-42", 12800, "JPY").allow_attempted().ok(&attempted),
        TokenCase::result("valid-result-old-key-during-rotation", "signed by the old key while the key set holds the new one too", good.clone(), &[&b, &a])
            .order("order-42", 12800, "JPY").ok(&claims),
        TokenCase::result("valid-result-new-key", "signed by the new key of a rotation", b.sign(token::RESULT_TYPE, &claims), &[&a, &b])
            .order("order-42", 12800, "JPY").ok(&claims),
        TokenCase::result("valid-result-unicode", "non-ASCII order reference and issuer", result(&unicode), &[&a])
            .order("注文-４２/α", 12800, "JPY").ok(&unicode),
        TokenCase::result("valid-result-largest-safe-amount", "amount 2^53-1 minor units", result(&largest), &[&a])
            .order("order-big", 9_007_199_254_740_991, "USD").ok(&largest),
        TokenCase::result("valid-result-expiry-within-leeway", "checked 30 s after exp: inside the leeway", good.clone(), &[&a])
            .now(IAT + token::RESULT_LIFETIME + LEEWAY).ok(&claims),
        TokenCase::result("valid-result-issued-within-leeway", "checked 30 s before iat: inside the leeway", good.clone(), &[&a])
            .now(IAT - LEEWAY).ok(&claims),
        TokenCase::device("valid-device", "device token of a trusted device", device_token.clone(), &[&device_key]).ok(&device),
        // Algorithm and header.
        TokenCase::result("alg-none", "alg none with an empty signature", format!("{}.{}.", b64(&header_with_alg("none")), b64(claims.to_string().as_bytes())), &[&a]).error("segments"),
        TokenCase::result("alg-none-with-signature", "alg none, tag present", raw(&header_with_alg("none"), claims.to_string().as_bytes()), &[&a]).error("algorithm"),
        TokenCase::result("alg-rs256", "an asymmetric algorithm named (key confusion)", raw(&header_with_alg("RS256"), claims.to_string().as_bytes()), &[&a]).error("algorithm"),
        TokenCase::result("alg-hs512", "HS512 instead of HS256", raw(&header_with_alg("HS512"), claims.to_string().as_bytes()), &[&a]).error("algorithm"),
        TokenCase::result("alg-lowercase", "hs256 spelled in lower case", raw(&header_with_alg("hs256"), claims.to_string().as_bytes()), &[&a]).error("algorithm"),
        TokenCase::result("unknown-kid", "kid not in the key set", raw_token(&header(token::RESULT_TYPE, "m_shop-2025z"), claims.to_string().as_bytes(), &a.secret), &[&a]).error("unknown_key"),
        TokenCase::result("empty-key-set", "no key at all", good.clone(), &[]).error("unknown_key"),
        TokenCase::result("typ-device-as-result", "a device token offered as a result token", a.sign(token::DEVICE_TYPE, &device), &[&a]).error("type"),
        TokenCase::device("typ-result-as-device", "a result token offered as a device token", device_key.sign(token::RESULT_TYPE, &claims), &[&device_key]).error("type"),
        TokenCase::result("typ-jwt", "generic typ JWT", raw(&header("JWT", a.kid), claims.to_string().as_bytes()), &[&a]).error("type"),
        TokenCase::result("header-missing-kid", "header without kid", raw(br#"{"alg":"HS256","typ":"mamori-result+jwt"}"#, claims.to_string().as_bytes()), &[&a]).error("header"),
        TokenCase::result("header-unknown-member", "header with jku (a key URL must never be followed)", raw(br#"{"alg":"HS256","typ":"mamori-result+jwt","kid":"m_shop-2026a","jku":"https://evil.example/keys"}"#, claims.to_string().as_bytes()), &[&a]).error("header"),
        TokenCase::result("header-crit", "header with crit", raw(br#"{"alg":"HS256","typ":"mamori-result+jwt","kid":"m_shop-2026a","crit":["exp"]}"#, claims.to_string().as_bytes()), &[&a]).error("header"),
        TokenCase::result("header-duplicate-alg", "alg given twice, the second none", raw(br#"{"alg":"HS256","typ":"mamori-result+jwt","kid":"m_shop-2026a","alg":"none"}"#, claims.to_string().as_bytes()), &[&a]).error("header"),
        TokenCase::result("header-invalid-utf8", "header bytes are not UTF-8", raw(b"{\"alg\":\"HS256\",\"typ\":\"mamori-result+jwt\",\"kid\":\"m_shop-2026a\xff\"}", claims.to_string().as_bytes()), &[&a]).error("header"),
        TokenCase::result("header-not-json", "header is not JSON", raw(b"HS256", claims.to_string().as_bytes()), &[&a]).error("header"),
        // Signature.
        TokenCase::result("tag-bit-flipped", "one bit of the tag changed", format!("{input}.{}", b64(&flipped_tag)), &[&a]).error("signature"),
        TokenCase::result("tag-truncated", "tag of 31 bytes", format!("{input}.{}", b64(&hmac(&a.secret, input.as_bytes())[..31])), &[&a]).error("signature"),
        TokenCase::result("tag-other-secret", "right kid, other secret", raw_token(&header(token::RESULT_TYPE, a.kid), claims.to_string().as_bytes(), &b.secret), &[&a]).error("signature"),
        TokenCase::result("payload-swapped", "claims changed after signing", format!("{header_segment}.{}.{tag}", b64(with(json!({"txn": {"ref": "order-42", "amount": 1, "currency": "JPY"}})).to_string().as_bytes())), &[&a]).error("signature"),
        // Encoding and framing.
        TokenCase::result("padded-segment", "base64url with = padding", format!("{good}="), &[&a]).error("encoding"),
        TokenCase::result("non-canonical-trailing-bits", "the same tag re-spelled with non-zero unused bits", format!("{input}.{respelled}"), &[&a]).error("encoding"),
        TokenCase::result("standard-alphabet", "'+' and '/' from standard base64", format!("{input}.{}+/", tag.replace('-', "+").replace('_', "/")), &[&a]).error("encoding"),
        TokenCase::result("trailing-newline", "a newline after the token", format!("{good}\n"), &[&a]).error("encoding"),
        TokenCase::result("extra-segment", "four segments", format!("{good}.{tag}"), &[&a]).error("segments"),
        TokenCase::result("two-segments", "no signature segment", input.to_owned(), &[&a]).error("segments"),
        TokenCase::result("empty-claims-segment", "empty claims segment", format!("{header_segment}..{tag}"), &[&a]).error("segments"),
        TokenCase::result("empty-token", "empty string", String::new(), &[&a]).error("segments"),
        TokenCase::result("over-4-kib", "a validly signed token longer than 4096 bytes", result(&long), &[&a]).error("too_long"),
        // Claims.
        TokenCase::result("claims-invalid-utf8", "signed claims that are not UTF-8", raw(&header(token::RESULT_TYPE, a.kid), b"{\"iss\":\"\xc3\x28\"}"), &[&a]).error("claims"),
        TokenCase::result("claims-duplicate-aud", "aud given twice", raw(&header(token::RESULT_TYPE, a.kid), claims.to_string().replacen("\"aud\":\"m_shop\"", "\"aud\":\"m_shop\",\"aud\":\"m_other\"", 1).as_bytes()), &[&a]).error("claims"),
        TokenCase::result("claims-duplicate-amount", "amount given twice inside txn", raw(&header(token::RESULT_TYPE, a.kid), claims.to_string().replacen("\"amount\":12800", "\"amount\":12800,\"amount\":1", 1).as_bytes()), &[&a]).error("claims"),
        TokenCase::result("claims-unknown-member", "an unknown claim", result(&with(json!({"admin": true}))), &[&a]).error("claims"),
        TokenCase::result("claims-trailing-data", "data after the JSON object", raw(&header(token::RESULT_TYPE, a.kid), format!("{claims} []").as_bytes()), &[&a]).error("claims"),
        TokenCase::result("claims-amount-string", "amount as a string", result(&with(json!({"txn": {"ref": "order-42", "amount": "12800", "currency": "JPY"}}))), &[&a]).error("claims"),
        TokenCase::result("claims-amount-fraction", "amount with a fraction", result(&with(json!({"txn": {"ref": "order-42", "amount": 12800.5, "currency": "JPY"}}))), &[&a]).error("claims"),
        TokenCase::result("claims-unknown-status", "status outside Y A N U R", result(&with(json!({"status": "X"}))), &[&a]).error("claims"),
        TokenCase::result("claims-reason-00", "reason 00 does not exist", result(&with(json!({"reason": "00"}))), &[&a]).error("claims"),
        TokenCase::result("claims-currency-lowercase", "currency not three capitals", result(&with(json!({"txn": {"ref": "order-42", "amount": 12800, "currency": "jpy"}}))), &[&a]).error("claims"),
        TokenCase::result("claims-missing-exp", "no exp", result(&missing_exp), &[&a]).error("claims"),
        // Time, audience, order.
        TokenCase::result("expired", "checked 31 s after exp", good.clone(), &[&a]).now(IAT + token::RESULT_LIFETIME + LEEWAY + 1).error("expired"),
        TokenCase::result("issued-in-future", "checked 31 s before iat", good.clone(), &[&a]).now(IAT - LEEWAY - 1).error("issued_in_future"),
        TokenCase::result("lifetime-too-long", "a result token valid for 601 s", result(&with(json!({"exp": IAT + token::RESULT_LIFETIME + 1}))), &[&a]).error("lifetime"),
        TokenCase::result("lifetime-zero", "exp equal to iat", result(&with(json!({"exp": IAT}))), &[&a]).now(IAT).error("lifetime"),
        TokenCase::result("wrong-audience", "a token issued to another merchant", good.clone(), &[&a]).audience("m_other").error("audience"),
        TokenCase::result("wrong-reference", "another order reference", good.clone(), &[&a]).order("order-43", 12800, "JPY").error("reference"),
        TokenCase::result("wrong-amount", "another amount", good.clone(), &[&a]).order("order-42", 1280, "JPY").error("amount"),
        TokenCase::result("wrong-currency", "another currency", good.clone(), &[&a]).order("order-42", 12800, "USD").error("currency"),
        TokenCase::result("wrong-authentication", "a result of another authentication of the same order", good.clone(), &[&a]).order_of("au_01JD8Z7Q3N4W", "order-42", 12800, "JPY").error("authentication"),
        TokenCase::result("wrong-authentication-and-amount", "the authentication is checked before the order", good.clone(), &[&a]).order_of("au_01JD8Z7Q3N4W", "order-42", 1280, "JPY").error("authentication"),
        // Status: a valid token says whether the cardholder was authenticated; only Y (and A when
        // allowed) is a success, anything else is refused with the verified claims.
        TokenCase::result("status-n-refused", "status N with reason 19 (too many wrong codes)", result(&not_authenticated), &[&a])
            .order("order-42", 12800, "JPY").refused(&not_authenticated),
        TokenCase::result("status-r-refused", "status R with reason 11 (suspected fraud)", result(&rejected), &[&a])
            .refused(&rejected),
        TokenCase::result("status-u-refused", "status U with reason 14 (timed out)", result(&timed_out), &[&a])
            .refused(&timed_out),
        TokenCase::result("status-a-refused", "status A when the caller does not allow attempts", result(&attempted), &[&a])
            .order("order-42", 12800, "JPY").refused(&attempted),
        TokenCase::result("status-n-refused-with-attempts-allowed", "allowing attempts does not allow N", result(&not_authenticated), &[&a])
            .allow_attempted().refused(&not_authenticated),
        TokenCase::result("status-r-refused-with-attempts-allowed", "allowing attempts does not allow R", result(&rejected), &[&a])
            .order("order-42", 12800, "JPY").allow_attempted().refused(&rejected),
        TokenCase::result("status-n-wrong-order", "an N token for another order: the order error, no claims", result(&not_authenticated), &[&a])
            .order("order-43", 12800, "JPY").error("reference"),
        TokenCase::result("status-n-wrong-authentication", "an N token of another authentication: no claims", result(&not_authenticated), &[&a])
            .order_of("au_01JD8Z7Q3N4W", "order-42", 12800, "JPY").error("authentication"),
        TokenCase::result("status-n-expired", "an expired N token: the time error, no claims", result(&not_authenticated), &[&a])
            .now(IAT + token::RESULT_LIFETIME + LEEWAY + 1).error("expired"),
        TokenCase::result("status-n-other-secret", "an N token with a bad signature: no claims", raw_token(&header(token::RESULT_TYPE, a.kid), not_authenticated.to_string().as_bytes(), &b.secret), &[&a])
            .error("signature"),
        TokenCase::device("device-wrong-audience", "a device token stored for another merchant", device_token.clone(), &[&device_key]).audience("m_other").error("audience"),
        TokenCase::device("device-expired", "a device token past its 180 days", device_token, &[&device_key]).now(IAT + token::DEVICE_LIFETIME + LEEWAY + 1).error("expired"),
    ]
}

// ---------------------------------------------------------------------------------------------
// One-time codes

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stops the run when mamori-core answers a case otherwise than the format says, so the files
/// are never rewritten to match a changed behaviour.
fn agree(id: &str, format: &Value, answer: &Value) {
    assert_eq!(
        format, answer,
        "mamori-core disagrees with the format on {id}: the format says {format}, it answers {answer}"
    );
}

/// The code a draw of 32 random bytes gives, computed from the format, not by mamori-core: the
/// first of the eight big-endian 32-bit numbers under 4,294,000,000 (the largest multiple of a
/// million that fits, so every code is equally likely), modulo 1,000,000, as six digits; none
/// when all eight are over (a broken random source).
fn expected_code(random: &[u8]) -> Option<String> {
    random
        .chunks_exact(4)
        .map(|draw| u32::from_be_bytes(draw.try_into().unwrap()))
        .find(|&draw| draw < 4_294_000_000)
        .map(|draw| format!("{:06}", draw % 1_000_000))
}

/// A code's stored digest, from the format: HMAC-SHA256 under the key of `mamori-otp-v1`, the
/// authentication id's length in bytes as a big-endian u32, the id, and the six ASCII digits.
fn expected_digest(key: &[u8], authentication_id: &str, code: &str) -> String {
    let mut message = b"mamori-otp-v1".to_vec();
    message.extend_from_slice(
        &u32::try_from(authentication_id.len())
            .unwrap()
            .to_be_bytes(),
    );
    message.extend_from_slice(authentication_id.as_bytes());
    message.extend_from_slice(code.as_bytes());
    hex(&hmac(key, &message))
}

/// A fingerprint component's hash, from the format: the first 16 bytes of SHA-256 over
/// `mamori-fp-v1`, a zero byte, the component id, a zero byte and the value, as lowercase hex.
fn expected_hash(component: &str, value: &str) -> String {
    let mut message = b"mamori-fp-v1\0".to_vec();
    message.extend_from_slice(component.as_bytes());
    message.push(0);
    message.extend_from_slice(value.as_bytes());
    hex(&Sha256::digest(&message)[..16])
}

fn otp_cases() -> Vec<Value> {
    let mut cases = Vec::new();
    let first_draw = |first: u32, fill: u8| {
        let mut random = [fill; otp::RANDOM_LEN];
        random[..4].copy_from_slice(&first.to_be_bytes());
        random
    };
    let mut eighth = [0xff; otp::RANDOM_LEN];
    eighth[28..].copy_from_slice(&42u32.to_be_bytes());
    let mut mixed = [0u8; otp::RANDOM_LEN];
    for (i, byte) in mixed.iter_mut().enumerate() {
        *byte = (i as u8).wrapping_mul(37).wrapping_add(11);
    }
    for (id, description, random) in [
        ("generate-zero", "draw 0 is code 000000", first_draw(0, 0)),
        (
            "generate-first-draw",
            "an ordinary first draw",
            first_draw(123_456_789, 0),
        ),
        (
            "generate-last-accepted",
            "4293999999 is the last accepted draw",
            first_draw(4_293_999_999, 0),
        ),
        (
            "generate-first-rejected",
            "4294000000 is rejected; the next draw is used",
            first_draw(4_294_000_000, 7),
        ),
        (
            "generate-eighth-draw",
            "seven rejected draws, the eighth accepted",
            eighth,
        ),
        (
            "generate-all-rejected",
            "every draw rejected: a broken source",
            [0xff; otp::RANDOM_LEN],
        ),
        ("generate-mixed-bytes", "arbitrary bytes", mixed),
    ] {
        let expect = match expected_code(&random) {
            Some(code) => json!({ "ok": code }),
            None => json!({ "error": "randomness" }),
        };
        let answer = match otp::Code::from_random(&random) {
            Ok(code) => json!({ "ok": code.as_str() }),
            Err(error) => json!({ "error": error.code() }),
        };
        agree(id, &expect, &answer);
        cases.push(json!({"id": id, "description": description, "op": "generate", "random": hex(&random), "expect": expect}));
    }
    // What a person types, and the code it must read as: written out here, not asked of the
    // code under test, so regenerating cannot re-baseline a changed reading.
    let normalize_cases: [(&str, &str, &str, Result<&str, &str>); 23] = [
        ("normalize-ascii", "plain ASCII", "123456", Ok("123456")),
        (
            "normalize-fullwidth",
            "full-width digits from a Japanese input method",
            "１２３４５６",
            Ok("123456"),
        ),
        (
            "normalize-space",
            "grouped with a space",
            "123 456",
            Ok("123456"),
        ),
        (
            "normalize-hyphen",
            "grouped with a hyphen",
            "123-456",
            Ok("123456"),
        ),
        (
            "normalize-ideographic-space",
            "full-width digits and an ideographic space",
            "１２３\u{3000}４５６",
            Ok("123456"),
        ),
        (
            "normalize-prolonged-sound-mark",
            "katakana long vowel mark typed as a dash",
            "１２３ー４５６",
            Ok("123456"),
        ),
        (
            "normalize-fullwidth-hyphen",
            "full-width hyphen-minus",
            "１２３－４５６",
            Ok("123456"),
        ),
        ("normalize-pairs", "pairs", "12-34-56", Ok("123456")),
        (
            "normalize-surrounding-space",
            "spaces around a paste",
            "  123456 ",
            Ok("123456"),
        ),
        ("normalize-tab", "a tab", "123\t456", Ok("123456")),
        (
            "normalize-mixed-widths",
            "mixed widths",
            "12３4５6",
            Ok("123456"),
        ),
        (
            "normalize-leading-zeros",
            "all zeros",
            "000000",
            Ok("000000"),
        ),
        ("normalize-five-digits", "too short", "12345", Err("length")),
        (
            "normalize-seven-digits",
            "too long",
            "1234567",
            Err("length"),
        ),
        ("normalize-empty", "empty", "", Err("length")),
        (
            "normalize-only-spaces",
            "no digits",
            "      ",
            Err("length"),
        ),
        ("normalize-letter", "a letter", "12345a", Err("character")),
        (
            "normalize-arabic-indic",
            "digits of another script",
            "١٢٣٤٥٦",
            Err("character"),
        ),
        ("normalize-dot", "a dot", "123.456", Err("character")),
        (
            "normalize-newline",
            "a newline",
            "123456\n",
            Err("character"),
        ),
        (
            "normalize-fullwidth-five",
            "five full-width digits",
            "１２３４５",
            Err("length"),
        ),
        (
            "normalize-too-much-padding",
            "past 32 characters",
            "123456                                ",
            Err("length"),
        ),
        (
            "normalize-superscript",
            "superscript digits",
            "¹²³⁴⁵⁶",
            Err("character"),
        ),
    ];
    for (id, description, input, reads_as) in normalize_cases {
        let expect = match reads_as {
            Ok(code) => json!({ "ok": code }),
            Err(code) => json!({ "error": code }),
        };
        let answer = match otp::normalize(input) {
            Ok(code) => json!({ "ok": code.as_str() }),
            Err(error) => json!({ "error": error.code() }),
        };
        agree(id, &expect, &answer);
        cases.push(json!({"id": id, "description": description, "op": "normalize", "input": input, "expect": expect}));
    }
    for (id, key, authentication_id, code) in [
        (
            "digest-basic",
            [7u8; 32].to_vec(),
            "au_01JD8Z7Q3N4V",
            "123456",
        ),
        (
            "digest-other-authentication",
            [7u8; 32].to_vec(),
            "au_01JD8Z7Q3N4W",
            "123456",
        ),
        (
            "digest-other-code",
            [7u8; 32].to_vec(),
            "au_01JD8Z7Q3N4V",
            "123457",
        ),
        (
            "digest-other-key",
            [8u8; 32].to_vec(),
            "au_01JD8Z7Q3N4V",
            "123456",
        ),
        ("digest-empty-id", b"short key".to_vec(), "", "000000"),
    ] {
        let digest = expected_digest(&key, authentication_id, code);
        let answer = hex(&otp::digest(
            &key,
            authentication_id,
            &otp::normalize(code).unwrap(),
        ));
        agree(id, &json!(digest), &json!(answer));
        cases.push(json!({
            "id": id, "description": "HMAC-SHA256 digest of a code", "op": "digest",
            "key": hex(&key), "authentication_id": authentication_id, "code": code,
            "expect": { "ok": digest },
        }));
    }
    cases
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

fn fingerprint_cases() -> Vec<Value> {
    let mut cases = Vec::new();
    for (id, component, value) in [
        ("hash-screen", "screen", "1920x1080"),
        ("hash-timezone", "timezone", "Asia/Tokyo"),
        ("hash-languages", "languages", "ja-JP,ja,en-US,en"),
        (
            "hash-webgl-renderer",
            "webgl_renderer",
            "ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)",
        ),
        ("hash-empty-value", "device_memory", ""),
        ("hash-non-ascii", "platform", "日本語 Linux"),
    ] {
        let hash = expected_hash(component, value);
        let answer = fingerprint::hash_component(component, value).to_string();
        agree(id, &json!(hash), &json!(answer));
        cases.push(json!({"id": id, "description": "per-component hash", "op": "hash", "component": component, "value": value, "expect": {"ok": hash}}));
    }

    let every_component = |browser, value| {
        let mut all = Fingerprint::new(browser);
        for component in fingerprint::SCHEMA {
            all.insert(
                component.id,
                fingerprint::hash_component(component.id, value),
            )
            .unwrap();
        }
        all
    };
    let changed = |base: &Fingerprint, changes: &[(&str, &str)]| {
        let mut changed = base.clone();
        for (id, value) in changes {
            changed
                .insert(id, fingerprint::hash_component(id, value))
                .unwrap();
        }
        changed
    };
    let chromium = every_component(Browser::Chromium, "a");
    let firefox = every_component(Browser::Firefox, "a");
    let mut partial = Fingerprint::new(Browser::Chromium);
    for id in ["screen", "timezone", "languages"] {
        partial
            .insert(id, fingerprint::hash_component(id, "a"))
            .unwrap();
    }
    for (id, description, stored, presented) in [
        (
            "similarity-identical",
            "the same device",
            &chromium,
            chromium.clone(),
        ),
        (
            "similarity-timezone-changed",
            "travelled: the time zone differs",
            &chromium,
            changed(&chromium, &[("timezone", "Europe/Paris")]),
        ),
        (
            "similarity-gpu-changed",
            "time zone, WebGL renderer and canvas differ",
            &chromium,
            changed(
                &chromium,
                &[
                    ("timezone", "Europe/Paris"),
                    ("webgl_renderer", "SwiftShader"),
                    ("canvas", "other"),
                ],
            ),
        ),
        (
            "similarity-firefox-canvas-noise",
            "canvas is noisy in Firefox and not scored",
            &firefox,
            changed(&firefox, &[("canvas", "noise")]),
        ),
        (
            "similarity-other-browser",
            "another browser family scores 0",
            &chromium,
            firefox.clone(),
        ),
        (
            "similarity-partial",
            "three components stored, all present",
            &partial,
            chromium.clone(),
        ),
        (
            "similarity-empty",
            "nothing collected scores 0",
            &Fingerprint::new(Browser::Other),
            Fingerprint::new(Browser::Other),
        ),
    ] {
        let score = fingerprint::similarity(stored, &presented);
        let stored: Value = serde_json::from_str(&stored.to_json()).unwrap();
        let presented: Value = serde_json::from_str(&presented.to_json()).unwrap();
        cases.push(json!({"id": id, "description": description, "op": "similarity", "stored": stored, "presented": presented, "expect": {"ok": score}}));
    }

    let canonical = chromium.to_json();
    let unsorted = r#"{"components":{"timezone":"00000000000000000000000000000000","screen":"ffffffffffffffffffffffffffffffff"},"browser":"safari","v":1}"#;
    let resorted = serde_json::from_str::<Fingerprint>(unsorted)
        .unwrap()
        .to_json();
    cases.push(json!({"id": "parse-canonical", "description": "the canonical encoding parses and re-encodes identically", "op": "parse", "json": canonical, "expect": {"ok": canonical}}));
    cases.push(json!({"id": "parse-reorders", "description": "members in any order come out canonical", "op": "parse", "json": unsorted, "expect": {"ok": resorted}}));
    let hash_of =
        |hex: &str| format!(r#"{{"v":1,"browser":"chromium","components":{{"screen":"{hex}"}}}}"#);
    for (id, description, text) in [
        ("parse-version-2", "an unknown version", canonical.replace("\"v\":1", "\"v\":2")),
        ("parse-unknown-browser", "an unknown browser family", canonical.replace("chromium", "netscape")),
        ("parse-unknown-component", "a component outside the schema", canonical.replace("\"timezone\"", "\"zodiac\"")),
        ("parse-uppercase-hex", "hash in upper case", hash_of(&"F".repeat(32))),
        ("parse-short-hash", "hash of 15 bytes", hash_of(&"f".repeat(30))),
        ("parse-duplicate-component", "a component given twice", r#"{"v":1,"browser":"chromium","components":{"screen":"ffffffffffffffffffffffffffffffff","screen":"00000000000000000000000000000000"}}"#.to_owned()),
        ("parse-extra-member", "an unknown top-level member", r#"{"v":1,"browser":"chromium","components":{},"raw":{}}"#.to_owned()),
        ("parse-duplicate-browser", "browser given twice", r#"{"v":1,"browser":"chromium","browser":"firefox","components":{}}"#.to_owned()),
    ] {
        assert!(serde_json::from_str::<Fingerprint>(&text).is_err(), "{id} must be refused");
        cases.push(json!({"id": id, "description": description, "op": "parse", "json": text, "expect": {"error": "invalid"}}));
    }
    cases
}
