//! The verifier's golden answers read by the widget's parser: each file in
//! `mamori-server/tests/golden/` is an answer the live verifier gave (its tokens replaced by
//! placeholders), and each test here says what [`Api`] makes of it. A wire change that the
//! server's golden test records shows up here as a parser that reads it differently.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves.
#![allow(clippy::expect_used)]

use std::rc::Rc;

use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{PROMPT, Script, Scripted};
use crate::api::{Api, ApiError, Challenge, DeviceOutcome, Finished, VerifyOutcome};
use crate::transport::Reply;

/// The text of `mamori-server/tests/golden/<name>.json`.
macro_rules! golden {
    ($name:literal) => {
        include_str!(concat!(
            "../../../mamori-server/tests/golden/",
            $name,
            ".json"
        ))
    };
}

/// An API whose one answer is the golden answer `text`, which must be one to `endpoint`.
fn answering(text: &str, endpoint: &str) -> Api {
    let golden = js_sys::JSON::parse(text).expect("golden JSON parses");
    let field = |name: &str| js_sys::Reflect::get(&golden, &name.into()).expect("an object");
    let request = field("request").as_string().expect("a request");
    assert!(request.ends_with(endpoint), "{request} is not {endpoint}");
    let status = field("status").as_f64().expect("a status") as u16;
    let script = Rc::new(Script::default());
    script.replies.borrow_mut().push_back(Ok(Reply {
        status,
        body: field("body"),
    }));
    Api::new(Box::new(Scripted(script)), "au_golden", PROMPT)
}

fn finished(status: &str) -> Finished {
    Finished {
        status: status.into(),
        result_token: "<result_token>".into(),
    }
}

fn refused(status: u16, code: &str, retry_after: Option<u32>) -> ApiError {
    ApiError::Refused {
        status,
        code: code.into(),
        retry_after,
    }
}

/// The challenge of `device-challenge.json` (and, one resend on, `resend.json`): seconds on
/// the wire, milliseconds in the widget.
fn challenge(at: f64, attempts_left: u32, resends_left: u32) -> Challenge {
    Challenge {
        masked_email: "h***@example.com".into(),
        expires_at: (at + 600.0) * 1000.0,
        attempts_left: Some(attempts_left),
        resends_left,
        resend_available_at: (at + 30.0) * 1000.0,
    }
}

/// The test server's clock starts here.
const START: f64 = 1_800_000_000.0;

async fn device(text: &str) -> Result<DeviceOutcome, ApiError> {
    let evidence = JsValue::from(js_sys::Object::new());
    answering(text, "/device").device(&evidence).await
}

async fn verify(text: &str) -> Result<VerifyOutcome, ApiError> {
    answering(text, "/challenge/verify")
        .verify("123456", None)
        .await
}

async fn resend(text: &str) -> Result<Challenge, ApiError> {
    answering(text, "/challenge/resend").resend().await
}

#[wasm_bindgen_test]
async fn the_device_steps_answers() {
    assert_eq!(
        device(golden!("device-frictionless")).await,
        Ok(DeviceOutcome::Finished(finished("Y")))
    );
    assert_eq!(
        device(golden!("device-challenge")).await,
        Ok(DeviceOutcome::Challenge(challenge(START, 5, 3)))
    );
    assert_eq!(
        device(golden!("device-rejected")).await,
        Ok(DeviceOutcome::Finished(finished("R")))
    );
    assert_eq!(
        device(golden!("error-origin-not-allowed")).await,
        Err(refused(403, "origin_not_allowed", None))
    );
    assert_eq!(
        device(golden!("error-unauthorized")).await,
        Err(refused(401, "unauthorized", None))
    );
}

#[wasm_bindgen_test]
async fn the_codes_answers() {
    assert_eq!(
        verify(golden!("verify-wrong-code")).await,
        Ok(VerifyOutcome::WrongCode(4))
    );
    assert_eq!(
        verify(golden!("verify-authenticated")).await,
        Ok(VerifyOutcome::Authenticated(
            finished("Y"),
            Some("<device_token>".into())
        ))
    );
    assert_eq!(
        verify(golden!("verify-failed")).await,
        Ok(VerifyOutcome::Over(finished("N"), false))
    );
    assert_eq!(
        verify(golden!("verify-expired")).await,
        Ok(VerifyOutcome::Over(finished("U"), true))
    );
    assert_eq!(
        verify(golden!("error-invalid-code")).await,
        Err(refused(400, "invalid_code", None))
    );
    assert_eq!(
        verify(golden!("error-authentication-finished")).await,
        Err(refused(409, "authentication_finished", None))
    );
}

#[wasm_bindgen_test]
async fn the_resends_and_the_cancels_answers() {
    assert_eq!(
        resend(golden!("resend")).await,
        Ok(challenge(START + 30.0, 4, 2))
    );
    assert_eq!(
        resend(golden!("error-resend-cooldown")).await,
        Err(refused(429, "resend_cooldown", Some(30)))
    );
    assert_eq!(
        resend(golden!("error-resend-limit")).await,
        Err(refused(409, "resend_limit", None))
    );
    assert_eq!(
        answering(golden!("cancel"), "/cancel").cancel().await,
        Ok(finished("N"))
    );
}
