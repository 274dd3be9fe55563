//! Runs the golden vectors in `tests/vectors/*.json`, natively and as WebAssembly in a browser.
//!
//! Every case must be evaluated and must give its expected answer. Each file's run also prints
//! `mamori-vectors: <file> <cases> <sha256 of the transcript>`, where the transcript is every
//! case's id and actual answer; `cargo xtask test` compares these lines between the native and
//! the browser run, so the two are proven to agree case by case, not merely both to pass.

// Helpers of a test crate are test code too: a panic is how they report a broken fixture.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stdout)]

use mamori_core::device_key::{self, PublicKey, Purpose, Signature};
use mamori_core::fingerprint::{self, Fingerprint};
use mamori_core::otp;
use mamori_core::token::{self, ExpectedOrder, KeySet, SigningKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const TOKENS: &str = include_str!("vectors/tokens.json");
const OTP: &str = include_str!("vectors/otp.json");
const FINGERPRINT: &str = include_str!("vectors/fingerprint.json");
const DEVICE_KEY: &str = include_str!("vectors/device_key.json");

#[test]
fn token_vectors() {
    run("tokens.json", TOKENS, token_case);
}

#[test]
fn otp_vectors() {
    run("otp.json", OTP, otp_case);
}

#[test]
fn fingerprint_vectors() {
    run("fingerprint.json", FINGERPRINT, fingerprint_case);
}

#[test]
fn device_key_vectors() {
    run("device_key.json", DEVICE_KEY, device_key_case);
}

/// Evaluates every case of one file, checks each answer, and reports the transcript digest.
fn run(file: &str, text: &str, evaluate: fn(&Value) -> Value) {
    let document: Value = serde_json::from_str(text).expect("vector file is JSON");
    let cases = document["cases"].as_array().expect("vector file has cases");
    assert!(!cases.is_empty(), "{file} has no cases");
    let mut transcript = String::new();
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().expect("case has an id");
        let actual = evaluate(case);
        if actual != case["expect"] {
            failures.push(format!("{id}: expected {}, got {actual}", case["expect"]));
        }
        transcript.push_str(&format!("{id}\t{actual}\n"));
    }
    assert!(
        failures.is_empty(),
        "{file}: {} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let digest: String = Sha256::digest(transcript.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    report(&format!("mamori-vectors: {file} {} {digest}", cases.len()));
}

#[cfg(not(target_arch = "wasm32"))]
fn report(line: &str) {
    println!("{line}");
}

#[cfg(target_arch = "wasm32")]
fn report(line: &str) {
    wasm_bindgen_test::console_log!("{line}");
}

fn answer<T, E>(
    result: Result<T, E>,
    ok: impl FnOnce(T) -> Value,
    code: impl FnOnce(E) -> &'static str,
) -> Value {
    match result {
        Ok(value) => json!({ "ok": ok(value) }),
        Err(error) => json!({ "error": code(error) }),
    }
}

fn token_case(case: &Value) -> Value {
    let mut keys = KeySet::new();
    for secret_key in case["keys"].as_array().expect("keys") {
        let key = SigningKey::from_secret_key(secret_key.as_str().expect("key string"))
            .expect("vector keys are valid");
        keys.insert(key).expect("vector key ids are distinct");
    }
    let token = case["token"].as_str().expect("token");
    let audience = case["audience"].as_str().expect("audience");
    let now = case["now"].as_u64().expect("now");
    let order = case.get("order").map(|order| ExpectedOrder {
        reference: order["reference"].as_str().expect("order reference"),
        amount: order["amount"].as_u64().expect("order amount"),
        currency: order["currency"].as_str().expect("order currency"),
    });
    let claims_json = |claims| serde_json::to_value(claims).expect("claims serialise");
    match case["kind"].as_str() {
        Some("result") => answer(
            token::verify_result(
                token,
                &keys,
                &Validation::result(audience, now),
                order.as_ref(),
            ),
            claims_json,
            token::TokenError::code,
        ),
        Some("device") => answer(
            token::verify_device(token, &keys, &Validation::device(audience, now)),
            |claims| serde_json::to_value(claims).expect("claims serialise"),
            token::TokenError::code,
        ),
        other => panic!("unknown token kind {other:?}"),
    }
}

/// Parses the key, then the signature, then verifies: the first refusal is the answer.
fn device_key_case(case: &Value) -> Value {
    let text = |field: &str| case[field].as_str().expect(field);
    let purpose = match text("purpose") {
        "device" => Purpose::Device,
        "register" => Purpose::Register,
        other => panic!("unknown purpose {other:?}"),
    };
    let verified = PublicKey::from_base64url(text("public_key")).and_then(|key| {
        let signature = Signature::from_base64url(text("signature"))?;
        device_key::verify(&key, purpose, text("authentication_id"), &signature)
    });
    answer(verified, |()| json!(true), device_key::DeviceKeyError::code)
}

fn otp_case(case: &Value) -> Value {
    match case["op"].as_str() {
        Some("generate") => {
            let random: [u8; otp::RANDOM_LEN] = hex(case["random"].as_str().expect("random"))
                .try_into()
                .expect("32 bytes");
            answer(
                otp::Code::from_random(&random),
                |code| json!(code.as_str()),
                otp::OtpError::code,
            )
        }
        Some("normalize") => answer(
            otp::normalize(case["input"].as_str().expect("input")),
            |code| json!(code.as_str()),
            otp::OtpError::code,
        ),
        Some("digest") => {
            let key = hex(case["key"].as_str().expect("key"));
            let id = case["authentication_id"]
                .as_str()
                .expect("authentication id");
            let code = otp::normalize(case["code"].as_str().expect("code")).expect("valid code");
            let digest = otp::digest(&key, id, &code);
            assert!(otp::verify(&key, id, &code, &digest));
            json!({ "ok": to_hex(&digest) })
        }
        other => panic!("unknown otp op {other:?}"),
    }
}

fn fingerprint_case(case: &Value) -> Value {
    let parse = |value: &Value| -> Fingerprint {
        serde_json::from_value(value.clone()).expect("vector fingerprints are valid")
    };
    match case["op"].as_str() {
        Some("hash") => {
            let id = case["component"].as_str().expect("component");
            assert!(
                fingerprint::component(id).is_some(),
                "{id} is in the schema"
            );
            let value = case["value"].as_str().expect("value");
            json!({ "ok": fingerprint::hash_component(id, value).to_string() })
        }
        Some("similarity") => {
            json!({ "ok": fingerprint::similarity(&parse(&case["stored"]), &parse(&case["presented"])) })
        }
        Some("parse") => {
            match serde_json::from_str::<Fingerprint>(case["json"].as_str().expect("json")) {
                Ok(parsed) => json!({ "ok": parsed.to_json() }),
                Err(_) => json!({ "error": "invalid" }),
            }
        }
        other => panic!("unknown fingerprint op {other:?}"),
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
