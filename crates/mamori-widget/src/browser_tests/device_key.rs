//! The device key in the flow: the proofs the widget sends verify (checked here with
//! `crypto.subtle.verify` over the exact message bytes), the key is stored only once a code is
//! accepted, and without IndexedDB or `crypto.subtle` the flow goes on with no proof and no key.
//! Each test uses its own verifier host, so the keys and tokens of one never reach another.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves.
#![allow(clippy::expect_used)]

use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use mamori_core::device_key::Purpose;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

use super::{AUTHENTICATED, Mounted, PROMPT, Script, challenge_json, field, options, start};
use crate::device;
use crate::js;
use crate::key::{self, Registration};
use crate::options::{Mode, Options};

const FRICTIONLESS: &str = r#"{"outcome":"frictionless","status":"Y","result_token":"rt.f"}"#;

/// Mounts for the verifier at `https://{host}`, with `script`'s replies.
async fn mount_for(host: &str, script: Script) -> Mounted {
    let options = Options {
        verifier: format!("https://{host}"),
        ..options(Some("en"), Mode::Inline)
    };
    start(options, Rc::new(script), None, PROMPT).await
}

/// Where the token and the key of the verifier at `https://{host}` are stored.
fn slot(host: &str) -> String {
    device::storage_key(&format!("https://{host}"))
}

fn token(host: &str) -> Option<String> {
    device::load(&slot(host))
}

/// A key pair and a token stored for `host`, as a trusted browser holds them; the pair's
/// public key in base64url.
async fn trusted(host: &str) -> String {
    let registration = Registration::new("setup")
        .await
        .expect("headless Chromium has WebCrypto and IndexedDB");
    key::replace(&slot(host), Some(&registration.pair)).await;
    assert!(key::load(&slot(host)).await.is_some(), "the pair is stored");
    device::store(&slot(host), "dt.stored");
    text(&registration.wire, "public_key")
}

fn text(object: &JsValue, name: &str) -> String {
    js::string(object, name).unwrap_or_else(|| panic!("no {name}"))
}

/// Whether `proof` is `public_key`'s signature of the proof message for `purpose` and the
/// tests' authentication `au_test`; both in base64url, as on the wire.
async fn verifies(public_key: &str, proof: &str, purpose: &str) -> bool {
    let subtle = js::prop(&js::prop(&js::global(), "crypto"), "subtle");
    let curve = js::object([("name", "ECDSA".into()), ("namedCurve", "P-256".into())]);
    let usages = Array::of1(&"verify".into()).into();
    let key = settled(js::call(
        &subtle,
        "importKey",
        &["raw".into(), bytes(public_key), curve, true.into(), usages],
    ))
    .await;
    let message = format!("mamori-device-proof-v1\n{purpose}\nau_test");
    let algorithm = js::object([("name", "ECDSA".into()), ("hash", "SHA-256".into())]);
    let message: JsValue = Uint8Array::from(message.as_bytes()).into();
    settled(js::call(
        &subtle,
        "verify",
        &[algorithm, key, bytes(proof), message],
    ))
    .await
    .as_bool()
    .expect("verify answers a boolean")
}

async fn settled(call: Result<JsValue, JsValue>) -> JsValue {
    let promise: Promise = call.expect("the call is accepted").unchecked_into();
    JsFuture::from(promise).await.expect("the promise resolves")
}

/// The bytes of unpadded base64url `text`, as a `Uint8Array`.
fn bytes(text: &str) -> JsValue {
    let mut standard = text.replace('-', "+").replace('_', "/");
    while standard.len() % 4 != 0 {
        standard.push('=');
    }
    let binary = web_sys::window()
        .expect("a window")
        .atob(&standard)
        .expect("base64");
    let bytes: Vec<u8> = binary.chars().map(|c| c as u8).collect();
    Uint8Array::from(bytes.as_slice()).into()
}

/// `object[name]` redefined by `descriptor` until dropped, then restored.
struct Shadow {
    object: Object,
    name: JsValue,
    original: JsValue,
}

impl Shadow {
    fn new(object: &JsValue, name: &str, descriptor: &JsValue) -> Self {
        let object: Object = object.clone().unchecked_into();
        let name = JsValue::from_str(name);
        let original = Object::get_own_property_descriptor(&object, &name);
        Object::define_property(&object, &name, descriptor.unchecked_ref());
        Self {
            object,
            name,
            original,
        }
    }
}

impl Drop for Shadow {
    fn drop(&mut self) {
        if self.original.is_undefined() {
            Reflect::delete_property(&self.object, &self.name).expect("configurable");
        } else {
            Object::define_property(&self.object, &self.name, self.original.unchecked_ref());
        }
    }
}

/// `indexedDB` as where site data is blocked: its getter throws.
fn indexed_db_blocked() -> Shadow {
    let getter =
        js_sys::Function::new_no_args("throw new DOMException('blocked', 'SecurityError')");
    let descriptor = js::object([("get", getter.into()), ("configurable", true.into())]);
    Shadow::new(&js::global(), "indexedDB", &descriptor)
}

#[wasm_bindgen_test]
async fn code_entry_registers_a_fresh_key_stored_only_once_a_code_is_accepted() {
    let host = "register.test";
    let script = Script::default();
    script.reply(200, &challenge_json(600.0, 30.0));
    let m = mount_for(host, script).await;
    assert!(
        field(&m.script.body(0), "device_proof").is_undefined(),
        "no token, no proof"
    );

    m.script
        .reply(200, r#"{"outcome":"wrong_code","attempts_left":4}"#);
    m.enter("111111").await;
    let registered = m.script.last_field("device_key");
    let public_key = text(&registered, "public_key");
    let proof = text(&registered, "proof");
    assert_eq!((public_key.len(), proof.len()), (87, 86));
    assert!(verifies(&public_key, &proof, "register").await);
    assert!(
        !verifies(&public_key, &proof, "device").await,
        "a registration is no device proof"
    );
    assert!(
        key::load(&slot(host)).await.is_none(),
        "nothing is kept after a wrong code"
    );
    assert_eq!(token(host), None);

    m.script.reply(200, AUTHENTICATED);
    m.enter("222222").await;
    m.until("mamori:result").await;
    assert_eq!(
        js_sys::JSON::stringify(&m.script.last_field("device_key")).ok(),
        js_sys::JSON::stringify(&registered).ok(),
        "one key per widget, sent again with the next code"
    );
    assert_eq!(token(host).as_deref(), Some("dt.new"));
    let stored = key::load(&slot(host))
        .await
        .expect("stored once authenticated");
    let signed = stored
        .prove(Purpose::Device, "au_test")
        .await
        .expect("the stored pair signs");
    assert!(
        verifies(&public_key, &signed, "device").await,
        "the stored pair is the one registered"
    );
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn the_device_step_proves_the_stored_key_on_every_try() {
    let host = "device-step.test";
    let public_key = trusted(host).await;
    let script = Script::default();
    script.fail();
    script.reply(200, FRICTIONLESS);
    let m = mount_for(host, script).await;
    m.until("mamori:result").await;
    assert_eq!(m.script.paths().len(), 2, "tried again after no answer");
    assert_eq!(
        m.script.body(0),
        m.script.body(1),
        "the same proof, for the same authentication"
    );
    let body = m.script.body(0);
    assert_eq!(
        field(&body, "device_token").as_string().as_deref(),
        Some("dt.stored")
    );
    let proof = field(&body, "device_proof")
        .as_string()
        .expect("a device proof");
    assert_eq!(proof.len(), 86);
    assert!(verifies(&public_key, &proof, "device").await);
    assert!(!verifies(&public_key, &proof, "register").await);
    m.widget.destroy();

    // A key without its token proves nothing.
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage")
        .remove_item(&slot(host))
        .expect("writable");
    let script = Script::default();
    script.reply(200, FRICTIONLESS);
    let m = mount_for(host, script).await;
    assert!(field(&m.script.body(0), "device_proof").is_undefined());
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn without_indexed_db_the_flow_goes_on_with_no_proof_and_no_key() {
    let host = "no-indexeddb.test";
    trusted(host).await;
    let blocked = indexed_db_blocked();
    let script = Script::default();
    script.reply(200, &challenge_json(600.0, 30.0));
    let m = mount_for(host, script).await;
    let body = m.script.body(0);
    assert_eq!(
        field(&body, "device_token").as_string().as_deref(),
        Some("dt.stored")
    );
    assert!(field(&body, "device_proof").is_undefined());

    m.script.reply(200, AUTHENTICATED);
    m.enter("123456").await;
    m.until("mamori:result").await;
    assert!(
        m.script.last_field("device_key").is_undefined(),
        "a key this browser cannot keep is not registered"
    );
    assert_eq!(
        m.detail("mamori:result", "status").as_string().as_deref(),
        Some("Y")
    );
    assert_eq!(token(host).as_deref(), Some("dt.new"));
    drop(blocked);
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn a_wedged_indexed_db_is_given_up_on() {
    let host = "wedged.test";
    trusted(host).await;
    // An `open` whose request never fires an event.
    let open = js_sys::Function::new_no_args("return {}");
    let wedged = js::object([("open", open.into())]);
    let descriptor = js::object([("value", wedged), ("configurable", true.into())]);
    let _wedged = Shadow::new(&js::global(), "indexedDB", &descriptor);
    let script = Script::default();
    script.reply(200, &challenge_json(600.0, 30.0));
    let m = mount_for(host, script).await;
    m.until("mamori:challenge").await;
    assert!(field(&m.script.body(0), "device_proof").is_undefined());

    m.script.reply(200, AUTHENTICATED);
    m.enter("123456").await;
    m.until("mamori:result").await;
    assert!(m.script.last_field("device_key").is_undefined());
    assert_eq!(token(host).as_deref(), Some("dt.new"));
    m.widget.destroy();
}

#[wasm_bindgen_test]
async fn without_crypto_subtle_the_flow_goes_on_with_no_proof_and_no_key() {
    let host = "no-subtle.test";
    trusted(host).await;
    // As in an insecure context, where `crypto.subtle` is undefined.
    let descriptor = js::object([("value", JsValue::UNDEFINED), ("configurable", true.into())]);
    let insecure = Shadow::new(&js::prop(&js::global(), "crypto"), "subtle", &descriptor);
    let script = Script::default();
    script.reply(200, &challenge_json(600.0, 30.0));
    let m = mount_for(host, script).await;
    let body = m.script.body(0);
    assert_eq!(
        field(&body, "device_token").as_string().as_deref(),
        Some("dt.stored")
    );
    assert!(field(&body, "device_proof").is_undefined());

    m.script.reply(200, AUTHENTICATED);
    m.enter("123456").await;
    m.until("mamori:result").await;
    assert!(m.script.last_field("device_key").is_undefined());
    assert_eq!(
        m.detail("mamori:result", "status").as_string().as_deref(),
        Some("Y")
    );
    drop(insecure);
    assert_eq!(token(host).as_deref(), Some("dt.new"));
    assert!(
        key::load(&slot(host)).await.is_none(),
        "the old key went with the old token"
    );
    m.widget.destroy();
}
