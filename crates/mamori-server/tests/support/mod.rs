//! Test support: a real verifier on 127.0.0.1:0 with a manual clock, an in-process SMTP
//! receiver, and an HTTP client that speaks the API as the widget and the merchant do.
//!
//! The verifier's store is SQLite in a temporary directory, or, when `MAMORI_TEST_STORE` is
//! `postgres`, a fresh PostgreSQL database (see [`postgres_db`]): `cargo xtask test` runs the
//! integration suites once each way, so both backends answer the same HTTP scenarios.

// Helpers outside `#[test]` functions panic to fail the test, like the tests themselves
// (clippy.toml allows this only inside `#[test]`).
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Each test binary uses a different part of the support code.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use mamori_core::fingerprint::{Browser, Fingerprint, SCHEMA, hash_component};
use mamori_server::clock::ManualClock;
use mamori_server::config::{Bounded, Config, Delivery, TlsMode, TrustedProxies};
use mamori_server::demo::mailbox::MailboxMailer;
use mamori_server::mail::{Mailer, mailer_for};
use mamori_server::model::{
    AuthenticationId, CardStatus, Cardholder, Ceilings, KeyId, Locale, Merchant, MerchantId,
    MerchantKey,
};
use mamori_server::secrets::Secrets;
use mamori_server::store::{self, Store};
use mamori_server::{AppState, card::CardNumber};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, oneshot};

pub mod browser_key;
pub mod dkim_key;
pub mod openapi;
#[path = "../postgres_db/mod.rs"]
pub mod postgres_db;
pub mod process;
pub mod relay;

/// Selects the backend of [`TestServer`]: `postgres`, or SQLite when unset.
pub const STORE_VARIABLE: &str = "MAMORI_TEST_STORE";

pub const START: i64 = 1_800_000_000;
pub const ORIGIN: &str = "https://shop.example";
pub const MERCHANT: &str = "m_test";
pub const SECRET: &[u8; 32] = b"0123456789abcdef0123456789abcdef";
/// An enrolled card (English mail), ceiling 50,000.
pub const CARD: &str = "378282246310005";
/// An enrolled card (Japanese mail).
pub const CARD_JA: &str = "371449635398431";
/// A blocked card.
pub const CARD_BLOCKED: &str = "378734493671000";
/// A valid number that is not enrolled.
pub const CARD_UNKNOWN: &str = "340000000000009";

/// A device step's body: `fp`, the device token if any, and the one browser's language, time
/// zone and user agent every test purchase comes from.
pub fn device_body(fp: &Value, token: Option<&str>) -> Value {
    json!({"fingerprint": fp, "device_token": token,
           "browser": {"language": "en-US", "timezone": "Asia/Tokyo",
                       "user_agent": "Mozilla/5.0 Chrome/156.0"}})
}

/// The six-digit code on its own line of a code mail's `text`.
pub fn code_in(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.len() == 6 && l.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned()
}

/// One message the SMTP receiver accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub envelope_to: String,
    pub raw: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl ReceivedMail {
    /// The six-digit code on its own line of the text part.
    pub fn code(&self) -> String {
        code_in(&self.text)
    }

    /// The report link.
    pub fn report_url(&self) -> String {
        self.text
            .lines()
            .find(|l| l.contains("/report/"))
            .unwrap_or_else(|| panic!("no report link in {}", self.text))
            .trim()
            .to_owned()
    }
}

/// A minimal SMTP server: enough of RFC 5321 for lettre, every message sent to a channel.
/// `refuse_first` makes it answer the first `n` DATA commands with a temporary failure.
pub async fn smtp_sink(refuse_first: usize) -> (u16, mpsc::UnboundedReceiver<ReceivedMail>) {
    smtp_sink_gated(refuse_first, None).await
}

/// [`smtp_sink`] that, given a `gate`, accepts each message only once it takes one of the
/// gate's permits: the test decides when each delivery completes.
pub async fn smtp_sink_gated(
    refuse_first: usize,
    gate: Option<Arc<Semaphore>>,
) -> (u16, mpsc::UnboundedReceiver<ReceivedMail>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    let refusals = Arc::new(std::sync::atomic::AtomicUsize::new(refuse_first));
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            let refusals = Arc::clone(&refusals);
            let gate = gate.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 sink ESMTP\r\n").await.ok();
                let mut to = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        to = line[8..].trim().trim_matches(['<', '>']).to_owned();
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        write.write_all(b"354 go ahead\r\n").await.ok();
                        let mut raw = String::new();
                        let mut ended = false;
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                ended = true;
                                break;
                            }
                            raw.push_str(l.strip_prefix('.').unwrap_or(&l));
                            raw.push('\n');
                        }
                        // A sender that went away mid-message (a killed verifier) delivered
                        // nothing: a relay discards what it did not see end.
                        if !ended {
                            return;
                        }
                        if let Some(gate) = &gate {
                            gate.acquire().await.unwrap().forget();
                        }
                        let refuse = refusals
                            .fetch_update(
                                std::sync::atomic::Ordering::SeqCst,
                                std::sync::atomic::Ordering::SeqCst,
                                |n| n.checked_sub(1),
                            )
                            .is_ok();
                        if refuse {
                            b"451 try again later\r\n"
                        } else {
                            tx.send(parse_mail(&to, &raw)).ok();
                            b"250 queued\r\n"
                        }
                    } else if upper.starts_with("QUIT") {
                        write.write_all(b"221 bye\r\n").await.ok();
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, rx)
}

fn header(part: &str, name: &str) -> Option<String> {
    let head = part.split("\n\n").next().unwrap_or("");
    let mut value: Option<String> = None;
    for line in head.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with([' ', '\t']) {
                v.push(' ');
                v.push_str(line.trim_start());
                continue;
            }
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_owned());
            }
        }
    }
    value
}

fn body_of(part: &str) -> String {
    let body = part.split_once("\n\n").map_or("", |(_, b)| b);
    match header(part, "Content-Transfer-Encoding").as_deref() {
        Some(e) if e.eq_ignore_ascii_case("base64") => {
            String::from_utf8(base64(&body.replace(['\n', '\r'], ""))).unwrap()
        }
        Some(e) if e.eq_ignore_ascii_case("quoted-printable") => quoted_printable(body),
        _ => body.to_owned(),
    }
}

fn decode_words(text: &str) -> String {
    // RFC 2047 encoded words as lettre writes them (=?utf-8?b?…?=); a character may straddle
    // two words, so the bytes are joined before they are read as UTF-8.
    let mut bytes = Vec::new();
    for word in text.split_whitespace() {
        match word
            .strip_prefix("=?utf-8?b?")
            .and_then(|w| w.strip_suffix("?="))
        {
            Some(b) => bytes.extend(base64(b)),
            None => {
                if !bytes.is_empty() {
                    bytes.push(b' ');
                }
                bytes.extend_from_slice(word.as_bytes());
            }
        }
    }
    String::from_utf8(bytes).unwrap()
}

pub fn parse_mail(to: &str, raw: &str) -> ReceivedMail {
    let raw = raw.replace("\r\n", "\n");
    let content_type = header(&raw, "Content-Type").unwrap_or_default();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .map(|b| b.trim_matches('"').to_owned())
        .expect("a multipart message");
    let mut text = String::new();
    let mut html = String::new();
    for part in raw.split(&format!("--{boundary}")).skip(1) {
        let part = part.trim_start_matches('\n');
        let ct = header(part, "Content-Type").unwrap_or_default();
        if ct.starts_with("text/plain") {
            text = body_of(part);
        } else if ct.starts_with("text/html") {
            html = body_of(part);
        }
    }
    ReceivedMail {
        envelope_to: to.to_owned(),
        subject: decode_words(&header(&raw, "Subject").unwrap_or_default()),
        raw,
        text,
        html,
    }
}

fn base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(value(c)) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

/// A fingerprint with every component set from `seed`.
pub fn fingerprint(seed: &str) -> Value {
    let mut fp = Fingerprint::new(Browser::Chromium);
    for c in SCHEMA {
        fp.insert(c.id, hash_component(c.id, format!("{seed}-{}", c.id)))
            .unwrap();
    }
    serde_json::from_str(&fp.to_json()).unwrap()
}

/// Waits until `check` holds, polling every 20 ms; fails after 10 s. For conditions the test
/// can only observe from outside (a background delivery), never as a stand-in for an event it
/// could await.
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Options for [`TestServer::start_with`].
pub struct Options {
    pub delivery: Delivery,
    pub smtp_refusals: usize,
    /// See [`smtp_sink_gated`].
    pub smtp_gate: Option<Arc<Semaphore>>,
    pub tweak: fn(&mut Config),
}

impl Default for Options {
    fn default() -> Self {
        Self {
            delivery: Delivery::Smtp,
            smtp_refusals: 0,
            smtp_gate: None,
            tweak: |_| {},
        }
    }
}

/// A running verifier.
pub struct TestServer {
    pub base: String,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    /// The server's state, for tests that call the flow directly.
    pub state: AppState,
    pub http: reqwest::Client,
    pub mail: Option<mpsc::UnboundedReceiver<ReceivedMail>>,
    pub merchant_key: String,
    pub secrets_master: [u8; 32],
    /// The server's database, as [`store::open`] took it.
    pub database_url: String,
    /// Checks every answer against the OpenAPI document; a failure fails the test.
    pub checker: Arc<openapi::Checker>,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    /// The PostgreSQL database, dropped after the server is told to stop.
    _database: Option<postgres_db::TestDb>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        // After a test that already failed, its own panic says more.
        let failures = self.checker.failures();
        if !std::thread::panicking() && !failures.is_empty() {
            panic!(
                "{} answers do not match the OpenAPI document:\n{}",
                failures.len(),
                failures.join("\n")
            );
        }
    }
}

pub struct Created {
    pub id: AuthenticationId,
    pub secret: String,
}

impl Created {
    /// The authentication a `201` create answer describes.
    pub fn of(body: &Value) -> Self {
        Self {
            id: body["id"].as_str().unwrap().parse().unwrap(),
            secret: body["client_secret"].as_str().unwrap().into(),
        }
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// A verifier behind a proxy on loopback, which names the client in `X-Forwarded-For`, so
    /// requests can come from several addresses.
    pub async fn behind_a_proxy() -> Self {
        Self::start_with(Options {
            tweak: |config| {
                config.trusted_proxies = TrustedProxies::try_from("127.0.0.0/8").unwrap();
            },
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = match std::env::var(STORE_VARIABLE).as_deref() {
            Ok("postgres") => Some(postgres_db::TestDb::create().await),
            Ok("sqlite") | Err(_) => None,
            Ok(other) => panic!("{STORE_VARIABLE}={other}: expected postgres or sqlite"),
        };
        let url = match &database {
            Some(database) => database.url.clone(),
            None => format!("sqlite://{}", dir.path().join("mamori.db").display()),
        };
        let store = store::open(&url).await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = Config {
            public_url: base.parse().unwrap(),
            ..Config::default()
        };
        config.mail.delivery = options.delivery;
        let mut mail = None;
        if options.delivery == Delivery::Smtp {
            let (port, rx) = smtp_sink_gated(options.smtp_refusals, options.smtp_gate).await;
            config.mail.smtp.port = port;
            config.mail.smtp.tls = TlsMode::None;
            config.mail.smtp.timeout = Bounded::constant::<10>();
            mail = Some(rx);
        }
        (options.tweak)(&mut config);
        let master = [7u8; 32];
        let secrets = Secrets::derive(&master);
        let clock = Arc::new(ManualClock::new(START));
        seed(store.as_ref(), &secrets).await;
        // Mail into the mailbox is the demo's, and so is the router that shows it.
        let demo = config.mail.delivery == Delivery::Mailbox;
        let mailer: Arc<dyn Mailer> = if demo {
            Arc::new(MailboxMailer::new(Arc::clone(&store), clock.clone()))
        } else {
            mailer_for(&config.mail).unwrap()
        };
        let state = AppState::new(config, Arc::clone(&store), secrets, clock.clone());
        let router = if demo {
            mamori_server::demo::app(state.clone(), None)
        } else {
            mamori_server::app(state.clone())
        };
        let checker = Arc::new(openapi::Checker::new(openapi::demo_route));
        let router = openapi::checked(router, Arc::clone(&checker));
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(mamori_server::server::run_router(
            listener,
            router,
            state.clone(),
            mailer,
            async {
                stopped.await.ok();
            },
        ));
        Self {
            base,
            clock,
            store,
            state,
            http: reqwest::Client::new(),
            mail,
            merchant_key: mamori_core::token::encode_secret_key("k1", SECRET),
            secrets_master: master,
            database_url: url,
            checker,
            stop: Some(stop),
            _dir: dir,
            _database: database,
        }
    }

    /// Runs `statement` on the server's database over a connection of its own, behind the
    /// server's back: for tests that take a table away to prove it is not read.
    pub async fn execute_behind_its_back(&self, statement: &'static str) {
        use sqlx::Connection;
        macro_rules! run_on {
            ($connection:ty) => {{
                let mut connection = <$connection>::connect(&self.database_url).await.unwrap();
                sqlx::query(statement)
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }};
        }
        if self.database_url.starts_with("sqlite:") {
            run_on!(sqlx::SqliteConnection);
        } else {
            run_on!(sqlx::PgConnection);
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The next mail the SMTP receiver gets (fails after 10 s of silence).
    pub async fn next_mail(&mut self) -> ReceivedMail {
        let rx = self.mail.as_mut().expect("an SMTP server");
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a mail within 10 s")
            .expect("the receiver is running")
    }

    /// The next mail of `kind`-like subject, skipping others.
    pub async fn next_mail_matching(&mut self, needle: &str) -> ReceivedMail {
        loop {
            let mail = self.next_mail().await;
            if mail.subject.contains(needle) {
                return mail;
            }
        }
    }

    /// Creates an authentication of a new order (`order-<amount>-<n>`): an order may have one
    /// live authentication only, and tests create many that they leave pending.
    pub async fn create(&self, card: &str, amount: u64, preference: &str) -> Created {
        static ORDERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = ORDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.create_from(
            json!({"card_number": card, "amount": amount, "currency": "JPY",
                                "order_ref": format!("order-{amount}-{n}"),
                                "challenge_preference": preference}),
        )
        .await
    }

    /// An authentication in another currency than the cards' ceilings (yen).
    pub async fn create_in(&self, card: &str, amount: u64, currency: &str) -> Created {
        self.create_from(
            json!({"card_number": card, "amount": amount, "currency": currency,
                                "order_ref": format!("order-{amount}-{currency}")}),
        )
        .await
    }

    /// The authentication `request` creates, which must be answered `201`.
    async fn create_from(&self, request: Value) -> Created {
        let (status, body) = self.merchant_post("/v1/authentications", request).await;
        assert_eq!(status, 201, "{body}");
        Created::of(&body)
    }

    pub async fn merchant_post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.merchant_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A live admin token (`mamori admin token create`'s, made through the store).
    pub async fn admin_token(&self) -> String {
        let (_, token) = mamori_server::admin::create_token(self.store.as_ref(), "tests", START)
            .await
            .unwrap();
        token
    }

    /// `method /admin/v1{path}` with `auth` as the bearer token (none when `None`) and `body`
    /// as JSON; `(status, JSON)`, `null` for an empty answer.
    pub async fn admin_call(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, self.url(&format!("/admin/v1{path}")));
        if let Some(auth) = auth {
            request = request.bearer_auth(auth);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET /admin/v1/reports` with `token`, from `client` as a proxy on loopback names it in
    /// `X-Forwarded-For` (believed when the server trusts `127.0.0.0/8`): the status, the
    /// `Retry-After` header and the `error` of the answer.
    pub async fn admin_reports_from(
        &self,
        client: &str,
        token: &str,
    ) -> (u16, Option<String>, Option<String>) {
        let response = self
            .http
            .get(self.url("/admin/v1/reports"))
            .bearer_auth(token)
            .header("x-forwarded-for", client)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        let error = body["error"].as_str().map(str::to_owned);
        (status, retry_after, error)
    }

    pub async fn get(&self, id: &AuthenticationId) -> Value {
        let response = self
            .http
            .get(self.url(&format!("/v1/authentications/{id}")))
            .bearer_auth(&self.merchant_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    /// A widget call: client secret, origin, JSON body.
    pub async fn widget(&self, created: &Created, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/v1/authentications/{}{path}", created.id)))
            .bearer_auth(&created.secret)
            .header("origin", ORIGIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn device(&self, created: &Created, fp: &Value, token: Option<&str>) -> Value {
        let (status, body) = self.device_with_proof(created, fp, token, None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The device step with a device proof (any string, to test refusals too).
    pub async fn device_with_proof(
        &self,
        created: &Created,
        fp: &Value,
        token: Option<&str>,
        proof: Option<&str>,
    ) -> (u16, Value) {
        let mut body = device_body(fp, token);
        if let Some(proof) = proof {
            body["device_proof"] = json!(proof);
        }
        self.widget(created, "/device", body).await
    }

    /// A code entry registering `device_key` (any JSON, to test refusals too).
    pub async fn verify_with_key(
        &self,
        created: &Created,
        code: &str,
        device_key: Value,
    ) -> (u16, Value) {
        self.widget(
            created,
            "/challenge/verify",
            json!({"code": code, "device_key": device_key}),
        )
        .await
    }

    /// The Prometheus text.
    pub async fn metrics(&self) -> String {
        let response = self.http.get(self.url("/metrics")).send().await.unwrap();
        response.text().await.unwrap()
    }

    /// The value of the series `series` (name and labels, as `/metrics` spells them).
    pub async fn metric(&self, series: &str) -> Option<i64> {
        let text = self.metrics().await;
        let value = text.lines().find_map(|line| {
            line.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })?;
        Some(value.parse().unwrap())
    }

    /// Waits until the outbox owes no mail (`mamori_outbox_owed 0`): every mail queued so far
    /// has reached the receiver, so what it holds is all there will be.
    pub async fn drained(&self) {
        eventually(|| async { self.metric("mamori_outbox_owed").await == Some(0) }).await;
    }

    pub async fn verify(&self, created: &Created, code: &str) -> (u16, Value) {
        self.widget(created, "/challenge/verify", json!({"code": code}))
            .await
    }

    /// Runs a whole challenge for `card` and answers the device token it ends with.
    pub async fn trust_device(&mut self, card: &str, fp: &Value) -> String {
        let created = self.create(card, 1000, "01").await;
        let body = self.device(&created, fp, None).await;
        assert_eq!(body["outcome"], "challenge", "{body}");
        let code = self
            .next_mail_matching("Your verification code")
            .await
            .code();
        let (status, body) = self.verify(&created, &code).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["outcome"], "authenticated");
        self.next_mail_matching("new browser").await;
        body["device_token"].as_str().unwrap().to_owned()
    }
}

async fn seed(store: &dyn Store, secrets: &Secrets) {
    store
        .insert_merchant(
            &Merchant {
                id: MerchantId::from_static(MERCHANT),
                name: "Test <Shop> & Co".into(),
                origins: vec![ORIGIN.into()],
                sandbox: false,
                created_at: START,
                webhook: false,
            },
            &MerchantKey {
                kid: KeyId::from_static("k1"),
                merchant_id: MerchantId::from_static(MERCHANT),
                secret: SECRET.to_vec(),
                created_at: START,
                retire_at: None,
            },
        )
        .await
        .unwrap();
    for (n, (card, locale, status)) in [
        (CARD, Locale::En, CardStatus::Active),
        (CARD_JA, Locale::Ja, CardStatus::Active),
        (CARD_BLOCKED, Locale::En, CardStatus::Blocked),
    ]
    .into_iter()
    .enumerate()
    {
        let number = CardNumber::parse(card).unwrap();
        store
            .insert_cardholder(&Cardholder {
                id: format!("ch_{n}").parse().unwrap(),
                card_ref: number.reference(&secrets.card_key),
                last4: number.last4().into(),
                email: format!("holder{n}@example.com"),
                locale,
                status,
                frictionless_ceilings: Ceilings::parse("JPY:50000").unwrap(),
                created_at: START,
                contact_epoch: 0,
            })
            .await
            .unwrap();
    }
}
