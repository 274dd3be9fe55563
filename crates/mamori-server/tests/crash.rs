//! The verifier killed with SIGKILL in the middle of a load and restarted on the same
//! database, as after an OOM kill or a lost machine: nothing it answered or queued may be lost.
//!
//! One `mamori serve` serves frictionless purchases on a card with a trusted browser and
//! challenged purchases, each on a card of its own, while its outbox worker delivers their
//! codes and new-browser alerts to an SMTP receiver. Halfway through the load it is killed;
//! a new process starts on the same database and configuration. Then:
//!
//! - no authentication is stuck: the test finishes each open one as the shopper's widget
//!   would (the device step again while it is pending, the code from its mail while it is
//!   challenging), and every one ends authenticated;
//! - every result token, answered before or after the kill, verifies for its own order under
//!   the merchant's key and is the one the merchant reads back;
//! - every mail queued, before or after the kill, reaches the receiver. A crash allows at
//!   least once, not exactly once: a mail the relay accepted but the killed process had not
//!   yet marked sent is sent again once its claim runs out (`mail.lease`, short here). So a
//!   mail that arrives twice must be one that was claimed but unsent at the kill, and there
//!   are at most as many as the worker delivers at once.
//!
//! The SQLite test always runs; the PostgreSQL one needs `MAMORI_TEST_POSTGRES_URL` (set by
//! `cargo xtask test`) and fails without it. Each prints the counts it saw.

// The helpers below run only inside tests, where a panic is the failure report and the
// counts go to stdout (clippy.toml allows both in `#[test]` functions but cannot see that
// helpers are test code too).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mamori_core::token::{self, ExpectedOrder, KeySet, SigningKey, TransStatus, Validation};
use mamori_server::card::CardNumber;
use serde_json::{Value, json};
use sqlx::{Connection, Row, SqliteConnection};
use support::postgres_db::TestDb;
use support::process::{Instance, PATIENCE, WidgetHeld, cli, line_after, widget, write_config};
use support::{ORIGIN, ReceivedMail, device_body, eventually, fingerprint, smtp_sink};
use tokio::sync::{Mutex, Notify, mpsc, watch};
use tokio::task::JoinSet;

/// Frictionless purchases, all on the card with the trusted browser.
const FRICTIONLESS: u64 = 20;
/// Challenged purchases, each on its own card, so that its code and its alert are told apart
/// by their recipient.
const CHALLENGED: u64 = 20;
/// Answers the load expects: one per frictionless purchase, two per challenged one (the
/// challenge, then the authentication).
const ANSWERS: usize = (FRICTIONLESS + 2 * CHALLENGED) as usize;
/// The kill comes once this many challenged purchases are authenticated: the worker is then
/// delivering the load's codes, the other challenges wait for theirs, and shoppers are still
/// arriving.
const KILL_AFTER_CODES: usize = 5;
/// `mail.concurrency`: at most this many mails are in flight when the process dies.
const MAIL_CONCURRENCY: usize = 4;
/// `mail.lease`: how long the dead worker's claims hold before the new process takes them.
const LEASE: u64 = 3;

const CODE: &str = "code";
const NEW_DEVICE: &str = "alert_new_device";

/// Where the verifier keeps its data.
enum Database {
    /// A file in the test's directory, reopened by the restarted process.
    Sqlite(String),
    /// A fresh PostgreSQL database.
    Postgres(TestDb),
}

impl Database {
    fn url(&self) -> &str {
        match self {
            Self::Sqlite(url) => url,
            Self::Postgres(db) => &db.url,
        }
    }

    /// Every outbox row, read behind the verifier's back.
    async fn outbox(&self) -> Vec<Queued> {
        const OUTBOX: &str = "SELECT recipient, kind, attempts, sent_at FROM outbox ORDER BY id";
        match self {
            Self::Sqlite(url) => {
                let mut conn = SqliteConnection::connect(url).await.unwrap();
                let rows = sqlx::query(OUTBOX).fetch_all(&mut conn).await.unwrap();
                rows.iter()
                    .map(|r| Queued {
                        key: (r.get(0), r.get(1)),
                        attempts: r.get(2),
                        sent: r.get::<Option<i64>, _>(3).is_some(),
                    })
                    .collect()
            }
            Self::Postgres(db) => {
                let rows = sqlx::query(OUTBOX)
                    .fetch_all(&mut db.connect().await)
                    .await
                    .unwrap();
                rows.iter()
                    .map(|r| Queued {
                        key: (r.get(0), r.get(1)),
                        attempts: r.get(2),
                        sent: r.get::<Option<i64>, _>(3).is_some(),
                    })
                    .collect()
            }
        }
    }
}

/// A mail by its recipient and kind: each card gets at most one code and one alert here.
type MailKey = (String, String);

/// One outbox row.
#[derive(Debug)]
struct Queued {
    key: MailKey,
    attempts: i64,
    sent: bool,
}

/// What the SMTP receiver got, read by whoever waits for a mail.
struct Inbox {
    incoming: mpsc::UnboundedReceiver<ReceivedMail>,
    /// Every mail received so far, duplicates included, with its code if it carries one.
    seen: Vec<(MailKey, Option<String>)>,
}

impl Inbox {
    fn take(&mut self, mail: &ReceivedMail) {
        let (kind, code) = if mail.subject.starts_with("Your verification code") {
            (CODE.to_owned(), Some(mail.code()))
        } else if mail.subject.contains("new browser") {
            (NEW_DEVICE.to_owned(), None)
        } else {
            (format!("unexpected: {}", mail.subject), None)
        };
        self.seen.push(((mail.envelope_to.clone(), kind), code));
    }

    /// Everything the receiver has accepted by now. It hands a message over before it answers
    /// the relay's `250`, so this holds every mail whose delivery the outbox has recorded.
    fn drain(&mut self) {
        while let Ok(mail) = self.incoming.try_recv() {
            self.take(&mail);
        }
    }
}

/// The code mailed to `to`, waiting for it if needed.
async fn code_for(inbox: &Mutex<Inbox>, to: &str) -> String {
    let mut inbox = inbox.lock().await;
    loop {
        let found = inbox
            .seen
            .iter()
            .find(|((recipient, kind), _)| recipient == to && kind == CODE);
        if let Some((_, code)) = found {
            return code.clone().unwrap();
        }
        let mail = tokio::time::timeout(PATIENCE, inbox.incoming.recv())
            .await
            .unwrap_or_else(|_| panic!("a code for {to} in time"))
            .expect("the receiver runs");
        inbox.take(&mail);
    }
}

/// A purchase as the merchant created it.
#[derive(Debug, Clone)]
struct Purchase {
    id: String,
    secret: String,
    amount: u64,
    /// Its cardholder's address.
    email: String,
    /// The trusted browser's token, on frictionless purchases.
    device_token: Option<String>,
}

/// The verifier, its merchant and cards, and the SMTP receiver.
struct Rig {
    database: Database,
    config: PathBuf,
    inbox: Arc<Mutex<Inbox>>,
    http: reqwest::Client,
    merchant_id: String,
    merchant_key: String,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// Writes the configuration, creates the merchant and enrolls card 0 (frictionless) and
    /// one card per challenged purchase.
    async fn set_up(postgres: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database = if postgres {
            Database::Postgres(TestDb::create().await)
        } else {
            Database::Sqlite(format!(
                "sqlite://{}",
                dir.path().join("mamori.db").display()
            ))
        };
        let (smtp_port, incoming) = smtp_sink(0).await;
        // The velocity limits are raised because the test sends far more purchases on one card
        // than a cardholder would, and they must stay frictionless. A short lease lets the new
        // process take over the dead one's claims within seconds.
        let config = write_config(
            dir.path(),
            database.url(),
            smtp_port,
            "velocity_card_hard = 100000\n\
             velocity_card = 100000\n\
             velocity_device = 100000\n\
             velocity_ip = 100000\n",
            &format!("concurrency = {MAIL_CONCURRENCY}\nlease = {LEASE}\n"),
        );
        cli(&config, &["init"]).await;
        let added = cli(
            &config,
            &["merchant", "add", "--name", "Shop", "--origin", ORIGIN],
        )
        .await;
        for n in 0..=CHALLENGED {
            let (card, email) = (card(n), email(n));
            cli(
                &config,
                &[
                    "cardholder",
                    "enroll",
                    "--card",
                    &card,
                    "--email",
                    &email,
                    "--locale",
                    "en",
                ],
            )
            .await;
        }
        Self {
            database,
            config,
            inbox: Arc::new(Mutex::new(Inbox {
                incoming,
                seen: Vec::new(),
            })),
            http: reqwest::Client::new(),
            merchant_id: line_after(&added, "merchant "),
            merchant_key: line_after(&added, "secret key (shown once): "),
            _dir: dir,
        }
    }

    /// The merchant's backend starts an authentication.
    async fn create(&self, base: &str, card_index: u64, amount: u64, preference: &str) -> Purchase {
        let response = self
            .http
            .post(format!("{base}/v1/authentications"))
            .bearer_auth(&self.merchant_key)
            .json(&json!({"card_number": card(card_index), "amount": amount,
                          "currency": "JPY", "order_ref": format!("order-{amount}"),
                          "challenge_preference": preference}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let body: Value = response.json().await.unwrap();
        Purchase {
            id: body["id"].as_str().unwrap().into(),
            secret: body["client_secret"].as_str().unwrap().into(),
            amount,
            email: email(card_index),
            device_token: None,
        }
    }

    /// The merchant's backend reads an authentication.
    async fn get(&self, base: &str, id: &str) -> Value {
        let response = self
            .http
            .get(format!("{base}/v1/authentications/{id}"))
            .bearer_auth(&self.merchant_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    /// Checks a result token as the merchant's backend would before capturing: bound to the
    /// authentication it created and to the order, and only an authenticated cardholder passes.
    fn verify_token(&self, token: &Value, purchase: &Purchase) -> token::ResultClaims {
        let key = SigningKey::from_secret_key(&self.merchant_key).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let order = ExpectedOrder {
            authentication: &purchase.id,
            reference: &format!("order-{}", purchase.amount),
            amount: purchase.amount,
            currency: "JPY",
        };
        token::verify_result(
            token.as_str().unwrap(),
            &KeySet::from(key),
            &Validation::result(&self.merchant_id, now),
            Some(&order),
        )
        .unwrap_or_else(|e| panic!("the token of {} does not verify: {e:?}", purchase.id))
    }
}

/// Card `n`: a valid number of its own (the Luhn digit appended).
fn card(n: u64) -> String {
    let payload = format!("49{n:013}");
    (0..10)
        .map(|check| format!("{payload}{check}"))
        .find(|number| CardNumber::parse(number).is_some())
        .expect("one check digit makes a valid number")
}

/// Card `n`'s holder.
fn email(n: u64) -> String {
    format!("holder{n}@example.com")
}

impl WidgetHeld for Purchase {
    fn id(&self) -> &str {
        &self.id
    }

    fn secret(&self) -> &str {
        &self.secret
    }
}

/// The widget's device step, from the one browser every purchase here uses.
async fn device(http: &reqwest::Client, base: &str, purchase: &Purchase) -> Option<Value> {
    let body = device_body(&fingerprint("crash"), purchase.device_token.as_deref());
    let (status, body) = widget(http, base, purchase, "/device", body).await?;
    assert_eq!(status, 200, "{body}");
    Some(body)
}

/// The code step.
async fn verify(
    http: &reqwest::Client,
    base: &str,
    purchase: &Purchase,
    code: &str,
) -> Option<Value> {
    let (status, body) = widget(
        http,
        base,
        purchase,
        "/challenge/verify",
        json!({"code": code}),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "authenticated", "{body}");
    Some(body)
}

/// The shoppers' widgets before the kill. Shoppers arrive one after another, as checkouts do;
/// a challenged one then waits for its code mail while the next ones arrive. Each answers the
/// result token it was given, if any; a shopper stops at the first request the process did not
/// answer, or when the process is killed while it waits for its mail.
struct Shoppers {
    http: reqwest::Client,
    base: String,
    inbox: Arc<Mutex<Inbox>>,
    answered: Arc<AtomicUsize>,
    authenticated_by_code: Arc<AtomicUsize>,
    kill_now: Arc<Notify>,
    killed: watch::Receiver<bool>,
}

impl Shoppers {
    /// Lets `purchases` arrive in turn until the process stops answering, and answers each
    /// arrived purchase's token.
    async fn arrive(self: Arc<Self>, purchases: Vec<Purchase>) -> Vec<(String, Option<Value>)> {
        let mut answers = Vec::new();
        let mut waiting = JoinSet::new();
        for purchase in purchases {
            let Some(body) = device(&self.http, &self.base, &purchase).await else {
                answers.push((purchase.id, None));
                break;
            };
            self.answered.fetch_add(1, Ordering::SeqCst);
            if purchase.device_token.is_some() {
                assert_eq!(body["outcome"], "frictionless", "{body}");
                answers.push((purchase.id, Some(body["result_token"].clone())));
            } else {
                assert_eq!(body["outcome"], "challenge", "{body}");
                let shoppers = Arc::clone(&self);
                waiting.spawn(async move {
                    let token = shoppers.enter_code(&purchase).await;
                    (purchase.id, token)
                });
            }
        }
        while let Some(done) = waiting.join_next().await {
            answers.push(done.unwrap());
        }
        answers
    }

    /// The code step of a challenged purchase, with the code from its mail.
    async fn enter_code(&self, purchase: &Purchase) -> Option<Value> {
        let mut killed = self.killed.clone();
        let code = tokio::select! {
            code = code_for(&self.inbox, &purchase.email) => code,
            _ = killed.wait_for(|k| *k) => return None,
        };
        let body = verify(&self.http, &self.base, purchase, &code).await?;
        self.answered.fetch_add(1, Ordering::SeqCst);
        if self.authenticated_by_code.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER_CODES {
            self.kill_now.notify_one();
        }
        Some(body["result_token"].clone())
    }
}

async fn killed_mid_load_and_restarted(postgres: bool) {
    let rig = Rig::set_up(postgres).await;
    let mut instance = Instance::start(&rig.config).await;

    // The frictionless card's browser is trusted through one challenge first.
    let base = instance.base.clone();
    let setup = rig.create(&base, 0, 9_000, "04").await;
    let body = device(&rig.http, &base, &setup).await.unwrap();
    assert_eq!(body["outcome"], "challenge", "{body}");
    let code = code_for(&rig.inbox, &setup.email).await;
    let body = verify(&rig.http, &base, &setup, &code).await.unwrap();
    let trusted = body["device_token"].as_str().unwrap().to_owned();

    let mut purchases = Vec::new();
    for n in 0..FRICTIONLESS {
        let mut purchase = rig.create(&base, 0, 3_000 + n, "01").await;
        purchase.device_token = Some(trusted.clone());
        purchases.push(purchase);
    }
    for n in 1..=CHALLENGED {
        purchases.push(rig.create(&base, n, 5_000 + n, "04").await);
    }

    let answered = Arc::new(AtomicUsize::new(0));
    let kill_now = Arc::new(Notify::new());
    let (kill_sent, killed) = watch::channel(false);
    let shoppers = Arc::new(Shoppers {
        http: rig.http.clone(),
        base: base.clone(),
        inbox: Arc::clone(&rig.inbox),
        answered: Arc::clone(&answered),
        authenticated_by_code: Arc::new(AtomicUsize::new(0)),
        kill_now: Arc::clone(&kill_now),
        killed,
    });
    // Frictionless and challenged purchases alternate.
    let (frictionless, challenged) = purchases.split_at(usize::try_from(FRICTIONLESS).unwrap());
    let arrivals = frictionless
        .iter()
        .zip(challenged)
        .flat_map(|(f, c)| [f.clone(), c.clone()])
        .collect();
    let load = tokio::spawn(shoppers.arrive(arrivals));
    tokio::time::timeout(PATIENCE, kill_now.notified())
        .await
        .expect("the first challenges authenticated in time");
    instance.kill();
    let answered_at_kill = answered.load(Ordering::SeqCst);
    let delivered_logged = instance.delivered.lock().unwrap().len();
    // Stored even when every shopper has stopped already and no one is listening.
    kill_sent.send_replace(true);
    let answered_tokens: BTreeMap<String, Value> = load
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(id, token)| Some((id, token?)))
        .collect();
    let answered_total = answered.load(Ordering::SeqCst);

    // The outbox as the kill left it: a row claimed but not marked sent was in flight.
    let at_kill = rig.database.outbox().await;
    let in_flight: BTreeSet<MailKey> = at_kill
        .iter()
        .filter(|q| !q.sent && q.attempts > 0)
        .map(|q| q.key.clone())
        .collect();
    let sent_at_kill = at_kill.iter().filter(|q| q.sent).count();

    // A new process on the same database and configuration.
    let instance = Instance::start(&rig.config).await;
    let base = instance.base.clone();
    let (mut done, mut pending, mut challenging) = (0, 0, 0);
    for purchase in &purchases {
        let stored = rig.get(&base, &purchase.id).await;
        let code_step = match stored["state"].as_str() {
            Some("succeeded") => {
                done += 1;
                false
            }
            Some("pending") => {
                pending += 1;
                let body = device(&rig.http, &base, purchase).await.unwrap();
                let challenged = purchase.device_token.is_none();
                let expected = if challenged {
                    "challenge"
                } else {
                    "frictionless"
                };
                assert_eq!(body["outcome"], expected, "{body}");
                challenged
            }
            Some("challenging") => {
                challenging += 1;
                true
            }
            _ => panic!("{} is {stored} after the restart", purchase.id),
        };
        if code_step {
            let code = code_for(&rig.inbox, &purchase.email).await;
            verify(&rig.http, &base, purchase, &code).await.unwrap();
        }
    }

    // Every purchase ended authenticated, with a token for its own order, the same one the
    // shopper was answered if it was answered before the kill.
    for purchase in purchases.iter().chain([&setup]) {
        let stored = rig.get(&base, &purchase.id).await;
        assert_eq!(stored["state"], "succeeded", "{stored}");
        if let Some(token) = answered_tokens.get(&purchase.id) {
            assert_eq!(&stored["result_token"], token, "{}", purchase.id);
        }
        let claims = rig.verify_token(&stored["result_token"], purchase);
        assert_eq!(claims.status, TransStatus::Authenticated);
        assert_eq!(claims.sub, purchase.id);
    }

    // Every mail queued was delivered: the outbox records each once the relay accepted it,
    // and the receiver holds what it accepted before it answered.
    eventually(|| async { rig.database.outbox().await.iter().all(|q| q.sent) }).await;
    let queued = rig.database.outbox().await;
    let mut inbox = rig.inbox.lock().await;
    inbox.drain();
    let mut received: BTreeMap<MailKey, usize> = BTreeMap::new();
    for (key, _) in &inbox.seen {
        *received.entry(key.clone()).or_default() += 1;
    }
    drop(inbox);
    let expected: BTreeSet<MailKey> = (0..=CHALLENGED)
        .flat_map(|n| {
            [
                (email(n), CODE.to_owned()),
                (email(n), NEW_DEVICE.to_owned()),
            ]
        })
        .collect();
    let queued_keys: Vec<MailKey> = queued.iter().map(|q| q.key.clone()).collect();
    assert_eq!(
        queued_keys.iter().cloned().collect::<BTreeSet<_>>(),
        expected,
        "one code and one alert per card"
    );
    assert_eq!(queued_keys.len(), expected.len(), "each queued once");
    assert_eq!(
        received.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every queued mail arrived, and nothing else"
    );
    let twice: BTreeSet<&MailKey> = received
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(key, _)| key)
        .collect();
    let duplicates: usize = received.values().map(|n| n - 1).sum();
    let count = |kind: &str| queued.iter().filter(|q| q.key.1 == kind).count();
    println!(
        "{}: {} purchases ({FRICTIONLESS} frictionless, {CHALLENGED} challenged) after a setup \
         challenge; SIGKILL after {answered_at_kill} of {ANSWERS} answers ({answered_total} in \
         all, {} tokens answered), {delivered_logged} mails logged delivered and {sent_at_kill} \
         of {} queued marked sent by then, {} in flight; after the restart {done} already \
         authenticated, {pending} pending and {challenging} challenging finished; {} codes and \
         {} alerts queued, all delivered, {duplicates} delivered twice",
        if postgres { "PostgreSQL" } else { "SQLite" },
        purchases.len(),
        answered_tokens.len(),
        at_kill.len(),
        in_flight.len(),
        count(CODE),
        count(NEW_DEVICE),
    );
    // Only a mail whose send the kill interrupted can arrive twice, and then only once more:
    // the new process claimed it again after its lease ran out.
    assert!(
        twice.iter().all(|key| in_flight.contains(*key)),
        "a mail not in flight at the kill arrived twice: {twice:?}, in flight {in_flight:?}"
    );
    assert!(
        received.values().all(|n| *n <= 2),
        "a mail arrived three times: {received:?}"
    );
    assert!(duplicates <= MAIL_CONCURRENCY);
    // The kill landed mid-load: some answers had not been given, and some purchases were left
    // for the new process to finish — else this would be a plain restart test.
    assert!(
        answered_at_kill < ANSWERS && pending + challenging > 0,
        "the kill came after the load: {answered_at_kill} of {ANSWERS} answered, {done} done"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_killed_mid_load_restarts_without_losing_an_answer_or_a_mail() {
    killed_mid_load_and_restarted(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_mid_load_restarts_without_losing_an_answer_or_a_mail() {
    killed_mid_load_and_restarted(true).await;
}
