//! Two real `mamori serve` processes over one PostgreSQL database, as in a scaled-out
//! deployment: the same configuration file, each instance on its own port, one SMTP relay.
//!
//! Everything that must hold across instances is attacked from both at once: one code used
//! by 100 concurrent submissions, ten wrong codes, the outbox drained by two workers, and an
//! instance killed with SIGKILL in the middle of a load. Each test prints the counts it saw.
//!
//! Needs `MAMORI_TEST_POSTGRES_URL` (set by `cargo xtask test`); fails without it.

// The helpers below run only inside tests, where a panic is the failure report (clippy.toml
// allows it in `#[test]` functions but cannot see that helpers are test code too).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use mamori_core::token::{
    self, ExpectedOrder, KeySet, Reason, ResultError, SigningKey, TransStatus, Validation,
};
use serde_json::{Value, json};
use sqlx::Row;
use support::postgres_db::TestDb;
use support::process::{Instance, PATIENCE, WidgetHeld, cli, line_after, widget, write_config};
use support::{CARD, ORIGIN, ReceivedMail, device_body, eventually, fingerprint, smtp_sink};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// An authentication as the merchant created it.
#[derive(Debug, Clone)]
struct Created {
    id: String,
    secret: String,
    amount: u64,
}

/// A merchant, an enrolled card, two instances and the SMTP relay they share.
struct Cluster {
    instances: Vec<Instance>,
    mail: mpsc::UnboundedReceiver<ReceivedMail>,
    http: reqwest::Client,
    merchant_id: String,
    merchant_key: String,
    _dir: tempfile::TempDir,
    // Dropped last, after the instances are gone.
    db: TestDb,
}

impl Cluster {
    async fn start() -> Self {
        let db = TestDb::create().await;
        let dir = tempfile::tempdir().unwrap();
        let (smtp_port, mail) = smtp_sink(0).await;
        // One file for every instance: behind a load balancer they are interchangeable. The
        // risk limits are raised because the tests send far more purchases on one card than a
        // cardholder would.
        let config = write_config(
            dir.path(),
            &db.url,
            smtp_port,
            "velocity_card_hard = 100000\nlockout_wrong_codes = 100000\n",
            "",
        );
        // The one secrets file every instance shares, made once, as an operator would; then
        // the administration commands run against the same database (the first one creates the
        // schema).
        cli(&config, &["init"]).await;
        let added = cli(
            &config,
            &["merchant", "add", "--name", "Shop", "--origin", ORIGIN],
        )
        .await;
        let merchant_id = line_after(&added, "merchant ");
        let merchant_key = line_after(&added, "secret key (shown once): ");
        cli(
            &config,
            &[
                "cardholder",
                "enroll",
                "--card",
                CARD,
                "--email",
                "holder@example.com",
                "--locale",
                "en",
            ],
        )
        .await;
        let instances = vec![
            Instance::start(&config).await,
            Instance::start(&config).await,
        ];
        Self {
            instances,
            mail,
            http: reqwest::Client::new(),
            merchant_id,
            merchant_key,
            _dir: dir,
            db,
        }
    }

    fn url(&self, instance: usize, path: &str) -> String {
        format!("{}{path}", self.instances[instance].base)
    }

    /// The merchant's backend starts an authentication on `instance`.
    async fn create(&self, instance: usize, amount: u64, preference: &str) -> Created {
        let response = self
            .http
            .post(self.url(instance, "/v1/authentications"))
            .bearer_auth(&self.merchant_key)
            .json(
                &json!({"card_number": CARD, "amount": amount, "currency": "JPY",
                          "order_ref": format!("order-{amount}"),
                          "challenge_preference": preference}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let body: Value = response.json().await.unwrap();
        Created {
            id: body["id"].as_str().unwrap().into(),
            secret: body["client_secret"].as_str().unwrap().into(),
            amount,
        }
    }

    /// The merchant's backend reads an authentication from `instance`.
    async fn get(&self, instance: usize, id: &str) -> Value {
        let response = self
            .http
            .get(self.url(instance, &format!("/v1/authentications/{id}")))
            .bearer_auth(&self.merchant_key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.json().await.unwrap()
    }

    /// The widget's device step on `instance`.
    async fn device(&self, instance: usize, created: &Created, token: Option<&str>) -> Value {
        let (status, body) = widget(
            &self.http,
            &self.url(instance, ""),
            created,
            "/device",
            device_body(&fingerprint("multi"), token),
        )
        .await
        .expect("the instance answers");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Codes from the relay, by purchase amount, until every amount in `amounts` has one.
    async fn codes_for(&mut self, amounts: &BTreeSet<u64>) -> BTreeMap<u64, String> {
        let mut codes = BTreeMap::new();
        while !amounts.iter().all(|a| codes.contains_key(a)) {
            let mail = tokio::time::timeout(PATIENCE, self.mail.recv())
                .await
                .expect("a code mail in time")
                .expect("the relay runs");
            if mail.subject.starts_with("Your verification code") {
                let previous = codes.insert(amount_in(&mail), mail.code());
                assert!(previous.is_none(), "a second code for one purchase");
            }
        }
        codes
    }

    /// Checks a result token as the merchant's backend would before capturing: bound to the
    /// authentication it created and to the order; `Ok` only for an authenticated cardholder.
    fn verify_token(
        &self,
        token: &Value,
        created: &Created,
    ) -> Result<token::ResultClaims, ResultError> {
        let key = SigningKey::from_secret_key(&self.merchant_key).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let order = ExpectedOrder {
            authentication: &created.id,
            reference: &format!("order-{}", created.amount),
            amount: created.amount,
            currency: "JPY",
        };
        token::verify_result(
            token.as_str().unwrap(),
            &KeySet::from(key),
            &Validation::result(&self.merchant_id, now),
            Some(&order),
        )
    }
}

/// The amount a code mail is about (`… a purchase of ¥1,234 at …`).
fn amount_in(mail: &ReceivedMail) -> u64 {
    let (_, rest) = mail.text.split_once('¥').expect("an amount in yen");
    rest.chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

impl WidgetHeld for Created {
    fn id(&self) -> &str {
        &self.id
    }

    fn secret(&self) -> &str {
        &self.secret
    }
}

/// A six-digit code that is not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_code_submitted_100_times_to_two_instances_succeeds_once() {
    let mut cluster = Cluster::start().await;
    let created = cluster.create(0, 12_800, "04").await;
    // The widget's device step lands on the other instance than the merchant's call.
    let body = cluster.device(1, &created, None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let code = cluster.codes_for(&BTreeSet::from([12_800])).await[&12_800].clone();

    let mut tasks = JoinSet::new();
    for n in 0..100 {
        let http = cluster.http.clone();
        let base = cluster.url(n % 2, "");
        let created = created.clone();
        let code = code.clone();
        tasks.spawn(async move {
            let answer = widget(
                &http,
                &base,
                &created,
                "/challenge/verify",
                json!({"code": code}),
            )
            .await;
            (n % 2, answer.expect("the instance answers"))
        });
    }
    let (mut authenticated, mut finished) = (Vec::new(), [0; 2]);
    while let Some(joined) = tasks.join_next().await {
        let (instance, (status, body)) = joined.unwrap();
        match (status, body["outcome"].as_str(), body["error"].as_str()) {
            (200, Some("authenticated"), _) => authenticated.push((instance, body)),
            (409, _, Some("authentication_finished")) => finished[instance] += 1,
            _ => panic!("unexpected answer {status} {body}"),
        }
    }
    println!(
        "100 concurrent submissions of the correct code, 50 per instance: {} authenticated \
         (on instance {:?}), {} + {} refused as already finished",
        authenticated.len(),
        authenticated.iter().map(|(i, _)| i).collect::<Vec<_>>(),
        finished[0],
        finished[1]
    );
    assert_eq!(authenticated.len(), 1, "exactly one submission wins");
    assert_eq!(finished[0] + finished[1], 99);

    let (_, winner) = &authenticated[0];
    let claims = cluster
        .verify_token(&winner["result_token"], &created)
        .unwrap();
    assert_eq!(claims.status, TransStatus::Authenticated);
    assert_eq!(claims.sub, created.id);
    for instance in 0..2 {
        let stored = cluster.get(instance, &created.id).await;
        assert_eq!(stored["state"], "succeeded");
        assert_eq!(stored["result_token"], winner["result_token"]);
    }
    // The device trusted through one instance is recognised by the other: the trust lives in
    // the database and the token key in the shared secrets file.
    let device_token = winner["device_token"].as_str().unwrap();
    for instance in 0..2 {
        let next = cluster
            .create(instance, 3_000 + instance as u64, "01")
            .await;
        let body = cluster
            .device(1 - instance, &next, Some(device_token))
            .await;
        assert_eq!(body["outcome"], "frictionless", "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_wrong_codes_over_two_instances_fail_the_authentication_at_the_fifth() {
    let mut cluster = Cluster::start().await;
    let created = cluster.create(1, 9_800, "04").await;
    let body = cluster.device(0, &created, None).await;
    assert_eq!(body["outcome"], "challenge", "{body}");
    let code = cluster.codes_for(&BTreeSet::from([9_800])).await[&9_800].clone();

    let mut tasks = JoinSet::new();
    for n in 0..10 {
        let http = cluster.http.clone();
        let base = cluster.url(n % 2, "");
        let created = created.clone();
        let wrong = wrong(&code);
        tasks.spawn(async move {
            widget(
                &http,
                &base,
                &created,
                "/challenge/verify",
                json!({"code": wrong}),
            )
            .await
            .expect("the instance answers")
        });
    }
    let (mut left, mut failed, mut finished) = (Vec::new(), Vec::new(), 0);
    while let Some(joined) = tasks.join_next().await {
        let (status, body) = joined.unwrap();
        match (status, body["outcome"].as_str(), body["error"].as_str()) {
            (200, Some("wrong_code"), _) => left.push(body["attempts_left"].as_i64().unwrap()),
            (200, Some("failed"), _) => failed.push(body),
            (409, _, Some("authentication_finished")) => finished += 1,
            _ => panic!("unexpected answer {status} {body}"),
        }
    }
    left.sort_unstable();
    println!(
        "10 concurrent wrong codes, 5 per instance: {} counted (attempts left {left:?}), {} \
         failed the authentication, {finished} refused as already finished",
        left.len(),
        failed.len()
    );
    assert_eq!(left, vec![1, 2, 3, 4], "four entries counted, each once");
    assert_eq!(failed.len(), 1, "the fifth fails the authentication");
    assert_eq!(finished, 5, "the rest find it finished");

    // A genuine `N`: refused, with the claims that say why.
    let Err(ResultError::Status(claims)) =
        cluster.verify_token(&failed[0]["result_token"], &created)
    else {
        panic!("a failed authentication's token must not verify as a success");
    };
    assert_eq!(claims.status, TransStatus::NotAuthenticated);
    assert_eq!(claims.reason, Some(Reason::MAX_CHALLENGES));
    let stored = cluster.get(1, &created.id).await;
    assert_eq!(
        (&stored["state"], &stored["status"]),
        (&json!("failed"), &json!("N"))
    );
    // The right code is worthless now, on either instance.
    for instance in 0..2 {
        let (status, _) = widget(
            &cluster.http,
            &cluster.url(instance, ""),
            &created,
            "/challenge/verify",
            json!({"code": code}),
        )
        .await
        .unwrap();
        assert_eq!(status, 409);
    }
    let attempts: i64 = sqlx::query("SELECT attempts FROM authentications WHERE id = $1")
        .bind(&created.id)
        .fetch_one(&mut cluster.db.connect().await)
        .await
        .unwrap()
        .get(0);
    assert_eq!(attempts, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_queued_on_either_instance_is_delivered_once_with_both_workers_running() {
    let mut cluster = Cluster::start().await;
    const PURCHASES: u64 = 40;
    let mut created = Vec::new();
    for n in 0..PURCHASES {
        created.push(cluster.create((n % 2) as usize, 1_000 + n, "04").await);
    }
    // All device steps at once, half on each instance: each queues its code mail and wakes its
    // own worker, so both workers claim from the same outbox at the same time.
    let mut tasks = JoinSet::new();
    for (n, purchase) in created.iter().cloned().enumerate() {
        let http = cluster.http.clone();
        let base = cluster.url(n % 2, "");
        tasks.spawn(async move {
            let body = device_body(&fingerprint("multi"), None);
            let (status, body) = widget(&http, &base, &purchase, "/device", body)
                .await
                .unwrap();
            assert_eq!((status, body["outcome"].as_str()), (200, Some("challenge")));
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let amounts: BTreeSet<u64> = created.iter().map(|c| c.amount).collect();
    cluster.codes_for(&amounts).await;

    // Every row was claimed once (a second claim would have raised `attempts`) and is marked
    // sent; a mail is marked sent only after the relay accepted it, so once all are marked every
    // delivery that was going to happen has happened. The relay hands a mail over before it
    // answers, so the last codes can arrive before their rows are marked.
    let mut conn = cluster.db.connect().await;
    let db = &cluster.db;
    eventually(|| async {
        let owed: i64 =
            sqlx::query("SELECT COUNT(*) FROM outbox WHERE kind = 'code' AND sent_at IS NULL")
                .fetch_one(&mut db.connect().await)
                .await
                .unwrap()
                .get(0);
        owed == 0
    })
    .await;
    let row = sqlx::query(
        "SELECT COUNT(*), COUNT(sent_at), MIN(attempts), MAX(attempts) FROM outbox \
         WHERE kind = 'code'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let (rows, sent, min, max): (i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let mut extra = 0;
    while let Ok(mail) = cluster.mail.try_recv() {
        if mail.subject.starts_with("Your verification code") {
            extra += 1;
        }
    }
    let by_instance: Vec<Vec<i64>> = cluster
        .instances
        .iter()
        .map(|i| i.delivered.lock().unwrap().clone())
        .collect();
    let both: BTreeSet<i64> = by_instance[0].iter().copied().collect();
    let overlap = by_instance[1].iter().filter(|id| both.contains(id)).count();
    println!(
        "{PURCHASES} code mails queued, half by each instance: {rows} outbox rows, {sent} sent, \
         claims per row {min}..={max}; delivered by instance 0: {}, by instance 1: {}, by \
         both: {overlap}; {PURCHASES} distinct codes received, {extra} more",
        by_instance[0].len(),
        by_instance[1].len()
    );
    assert_eq!(
        (rows, sent, min, max),
        (PURCHASES as i64, PURCHASES as i64, 1, 1)
    );
    assert_eq!(extra, 0, "no mail delivered twice");
    assert_eq!(overlap, 0, "no row delivered by both instances");
    assert_eq!(
        by_instance[0].len() + by_instance[1].len(),
        PURCHASES as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_one_instance_is_killed_the_other_finishes_every_open_authentication() {
    let mut cluster = Cluster::start().await;
    // 30 purchases: 20 challenged before the load, 10 still waiting for their device step.
    let mut created = Vec::new();
    for n in 0..30 {
        created.push(cluster.create((n % 2) as usize, 2_000 + n, "04").await);
    }
    for (n, purchase) in created.iter().take(20).enumerate() {
        let body = cluster.device(n % 2, purchase, None).await;
        assert_eq!(body["outcome"], "challenge", "{body}");
    }
    let challenged: BTreeSet<u64> = created.iter().take(20).map(|c| c.amount).collect();
    let mut codes = cluster.codes_for(&challenged).await;

    // The load, all on instance 0: for each challenged purchase a wrong code, then the right
    // one. Instance 0 is killed once 30 of the 40 answers are in: every wrong code has
    // been counted by then, some purchases are authenticated and the rest are in flight.
    let answered = Arc::new(AtomicUsize::new(0));
    let kill_now = Arc::new(tokio::sync::Notify::new());
    let mut load = JoinSet::new();
    for purchase in created.iter().take(20).cloned() {
        let http = cluster.http.clone();
        let base = cluster.url(0, "");
        let code = codes[&purchase.amount].clone();
        let (answered, kill_now) = (Arc::clone(&answered), Arc::clone(&kill_now));
        load.spawn(async move {
            // What instance 0 answered: the wrong code counted, then the purchase authenticated.
            let mut seen = (false, false);
            for (n, entry) in [wrong(&code), code].into_iter().enumerate() {
                let Some((status, body)) = widget(
                    &http,
                    &base,
                    &purchase,
                    "/challenge/verify",
                    json!({"code": entry}),
                )
                .await
                else {
                    break;
                };
                let expected = if n == 0 {
                    "wrong_code"
                } else {
                    "authenticated"
                };
                assert_eq!((status, body["outcome"].as_str()), (200, Some(expected)));
                if n == 0 {
                    seen.0 = true;
                } else {
                    seen.1 = true;
                }
                if answered.fetch_add(1, Ordering::SeqCst) + 1 == 30 {
                    kill_now.notify_one();
                }
            }
            (purchase, seen)
        });
    }
    tokio::time::timeout(PATIENCE, kill_now.notified())
        .await
        .expect("30 answers");
    cluster.instances[0].kill();
    let answered_before_kill = answered.load(Ordering::SeqCst);
    let mut seen = BTreeMap::new();
    while let Some(done) = load.join_next().await {
        let (purchase, answers) = done.unwrap();
        seen.insert(purchase.id, answers);
    }
    let answered_total = answered.load(Ordering::SeqCst);

    // Instance 1 finishes whatever is open, as a widget retrying elsewhere would.
    let (mut done_by_0, mut challenged_on_1, mut pending_on_1) = (0, 0, 0);
    let mut open = Vec::new();
    for purchase in &created {
        let state = cluster.get(1, &purchase.id).await["state"].clone();
        match state.as_str() {
            Some("succeeded") => done_by_0 += 1,
            Some("challenging") => {
                challenged_on_1 += 1;
                open.push(purchase.clone());
            }
            Some("pending") => {
                pending_on_1 += 1;
                let body = cluster.device(1, purchase, None).await;
                assert_eq!(body["outcome"], "challenge", "{body}");
                open.push(purchase.clone());
            }
            _ => panic!("{} is {state} after the kill", purchase.id),
        }
    }
    let pending: BTreeSet<u64> = created.iter().skip(20).map(|c| c.amount).collect();
    codes.extend(cluster.codes_for(&pending).await);
    for purchase in &open {
        let (status, body) = widget(
            &cluster.http,
            &cluster.url(1, ""),
            purchase,
            "/challenge/verify",
            json!({"code": codes[&purchase.amount]}),
        )
        .await
        .expect("instance 1 answers");
        assert_eq!(
            (status, body["outcome"].as_str()),
            (200, Some("authenticated"))
        );
    }

    // Every purchase ends authenticated, with a token for its own order, and no entry was
    // lost or counted twice: a purchase has one wrong attempt if instance 0 counted it.
    let mut conn = cluster.db.connect().await;
    for purchase in &created {
        let stored = cluster.get(1, &purchase.id).await;
        assert_eq!(stored["state"], "succeeded", "{stored}");
        let claims = cluster
            .verify_token(&stored["result_token"], purchase)
            .unwrap();
        assert_eq!(claims.status, TransStatus::Authenticated);
        let attempts: i64 = sqlx::query("SELECT attempts FROM authentications WHERE id = $1")
            .bind(&purchase.id)
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .get(0);
        match seen.get(&purchase.id) {
            Some((true, _)) => assert_eq!(attempts, 1, "{}", purchase.id),
            Some((false, _)) => assert!(attempts <= 1, "{}", purchase.id),
            None => assert_eq!(attempts, 0, "{}", purchase.id),
        }
    }
    let authenticated_by_0 = seen.values().filter(|(_, ok)| *ok).count();
    println!(
        "SIGKILL of instance 0 after {answered_before_kill} of 40 answers ({answered_total} \
         answered in all, {} requests cut off); afterwards: {done_by_0} already authenticated \
         ({authenticated_by_0} with an answer, {} committed without one), instance 1 finished \
         {challenged_on_1} challenging and {pending_on_1} pending; 30 of 30 authenticated",
        40 - answered_total,
        done_by_0 - authenticated_by_0
    );
    assert_eq!(done_by_0 + challenged_on_1 + pending_on_1, 30);
    assert_eq!(
        pending_on_1, 10,
        "the untouched purchases were still pending"
    );
}
