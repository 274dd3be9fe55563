//! The servers under test, each a child process on a loopback port: the real verifier
//! (`mamori --config … serve`, the release binary an issuer runs) or a baseline (the empty
//! handler, the one-insert handler).
//!
//! The verifier's database is prepared the way an operator's is: the bench opens it with
//! `mamori_server`'s own store (which runs the migrations), registers one merchant and enrolls
//! the cards, writes a configuration file, and only then starts the binary on it.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use mamori_core::token::encode_secret_key;
use mamori_server::card::CardNumber;
use mamori_server::model::{
    CardStatus, Cardholder, CardholderId, Ceilings, KeyId, Locale, Merchant, MerchantId,
    MerchantKey,
};
use mamori_server::secrets::Secrets;

use crate::cards::Card;
use crate::http::Failure;

/// The merchant every purchase is made at.
pub(crate) const MERCHANT: MerchantId = MerchantId::from_static("m_bench");
/// The origin its checkout page runs the widget on.
pub(crate) const ORIGIN: &str = "https://shop.bench.example";
/// Its key id.
const KID: KeyId = KeyId::from_static("k1");
/// Its signing secret; a benchmark's key protects nothing.
const SECRET: &[u8; 32] = b"mamori-bench-merchant-secret-key";

/// `/proc/<pid>/stat` counts CPU time in USER_HZ ticks, which Linux fixes at 100 per second on
/// every architecture it exposes to user space (`sysconf(_SC_CLK_TCK)`).
const TICKS_PER_SECOND: f64 = 100.0;

/// A running server process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// Where it listens.
    pub(crate) address: SocketAddr,
}

impl Server {
    /// Starts the empty baseline (`mamori-bench serve-empty`, this same executable).
    ///
    /// # Errors
    ///
    /// When it cannot be started or does not say where it listens.
    pub(crate) fn empty() -> Result<Self, Failure> {
        Self::baseline(Command::new(std::env::current_exe()?).arg("serve-empty"))
    }

    /// Starts the one-insert baseline (`mamori-bench serve-insert`, this same executable) with
    /// its database in `dir`.
    ///
    /// # Errors
    ///
    /// When it cannot be started or does not say where it listens.
    pub(crate) fn insert(dir: &Path) -> Result<Self, Failure> {
        Self::baseline(
            Command::new(std::env::current_exe()?)
                .arg("serve-insert")
                .arg("--dir")
                .arg(dir),
        )
    }

    /// Starts a baseline `command`, which prints `listening <address>` first.
    fn baseline(command: &mut Command) -> Result<Self, Failure> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        let line = child
            .stdout
            .take()
            .and_then(|out| BufReader::new(out).lines().next())
            .transpose()?
            .unwrap_or_default();
        let address = line
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("the baseline server said {line:?}"))?;
        Ok(Self { child, address })
    }

    /// What the process has used so far, all threads together; `None` if `/proc` cannot be
    /// read.
    pub(crate) fn usage(&self) -> Option<Usage> {
        Usage::of_process(self.child.id())
    }
}

/// CPU time and context switches of a process.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Usage {
    /// User-mode CPU seconds.
    pub(crate) user: f64,
    /// Kernel-mode CPU seconds.
    pub(crate) system: f64,
    /// Voluntary and involuntary context switches of its threads still alive (a thread that
    /// ended takes its count with it).
    pub(crate) switches: u64,
}

impl Usage {
    /// What this process (the load generator) has used so far; `None` if `/proc` cannot be
    /// read.
    pub(crate) fn own() -> Option<Self> {
        Self::of_process(std::process::id())
    }

    /// What process `pid` has used so far, all threads together; `None` if `/proc` cannot be
    /// read.
    fn of_process(pid: u32) -> Option<Self> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // The command name (field 2) may contain spaces; the fields after it do not.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let ticks = |i: usize| -> Option<f64> { fields.get(i)?.parse::<f64>().ok() };
        let mut switches = 0;
        for task in fs::read_dir(format!("/proc/{pid}/task")).ok()?.flatten() {
            let status = fs::read_to_string(task.path().join("status")).unwrap_or_default();
            switches += status
                .lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>();
        }
        Some(Self {
            user: ticks(11)? / TICKS_PER_SECOND,
            system: ticks(12)? / TICKS_PER_SECOND,
            switches,
        })
    }

    /// What was used between `earlier` and `self`.
    pub(crate) fn since(self, earlier: Self) -> Self {
        Self {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Killed, not stopped gracefully: whatever it was doing is no longer measured. Either
        // call failing means it is already gone.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the load generator needs to talk to a started verifier.
pub(crate) struct Verifier {
    /// The process.
    pub(crate) server: Server,
    /// `mamori_sk.<kid>.<secret>` of [`MERCHANT`].
    pub(crate) merchant_key: String,
}

/// Everything [`start`] needs.
pub(crate) struct Setup<'a> {
    /// The `mamori` release binary.
    pub(crate) mamori: &'a Path,
    /// `sqlite://…` or `postgres://…`, a database of its own.
    pub(crate) database_url: &'a str,
    /// Configuration, secrets, the log (and the SQLite file) go here.
    pub(crate) dir: &'a Path,
    /// The SMTP sink's port.
    pub(crate) smtp_port: u16,
    /// The cards to enroll.
    pub(crate) cards: &'a [Card],
}

/// Prepares the database and starts `mamori serve` on it.
///
/// # Errors
///
/// When the database cannot be prepared or the verifier does not come up within 30 s; its log
/// is in `setup.dir`.
pub(crate) async fn start(setup: &Setup<'_>) -> Result<Verifier, Failure> {
    fs::create_dir_all(setup.dir)?;
    let secrets_file = setup.dir.join("secrets.key");
    let secrets = Secrets::load_or_create(&secrets_file)?;
    seed(setup, &secrets).await?;

    let address = free_address()?;
    let config = setup.dir.join("mamori.toml");
    fs::write(&config, configuration(setup, address, &secrets_file))?;
    let log = fs::File::create(setup.dir.join("verifier.log"))?;
    let child = Command::new(setup.mamori)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let server = Server { child, address };
    wait_for(address).await?;
    Ok(Verifier {
        server,
        merchant_key: encode_secret_key(KID.as_str(), SECRET),
    })
}

/// The merchant and the cards, written with the verifier's own store.
async fn seed(setup: &Setup<'_>, secrets: &Secrets) -> Result<(), Failure> {
    let store = mamori_server::store::open(setup.database_url).await?;
    let now = unix_now();
    store
        .insert_merchant(
            &Merchant {
                id: MERCHANT,
                name: "Bench Shop".into(),
                origins: vec![ORIGIN.into()],
                sandbox: false,
                created_at: now,
                webhook: false,
            },
            &MerchantKey {
                kid: KID,
                merchant_id: MERCHANT,
                secret: SECRET.to_vec(),
                created_at: now,
                retire_at: None,
            },
        )
        .await?;
    for (i, card) in setup.cards.iter().enumerate() {
        let number = CardNumber::parse(&card.number).ok_or("an invalid generated card")?;
        store
            .insert_cardholder(&Cardholder {
                id: CardholderId::parse(&format!("ch_bench{i}")).ok_or("an invalid card id")?,
                card_ref: number.reference(&secrets.card_key),
                last4: number.last4().into(),
                email: card.email.clone(),
                locale: Locale::En,
                status: CardStatus::Active,
                frictionless_ceilings: Ceilings::parse("JPY:1000000")
                    .ok_or("an invalid ceiling")?,
                created_at: now,
                contact_epoch: 0,
            })
            .await?;
    }
    Ok(())
}

/// The verifier's configuration: defaults, except what a loopback benchmark must change.
fn configuration(setup: &Setup<'_>, address: SocketAddr, secrets_file: &Path) -> String {
    // Velocity and rate limits: each simulated card buys far more often than any real card
    // would (tens of purchases a minute), and one merchant key sends every purchase, which the
    // defaults rightly treat as fraud or a flood. The limits are raised so that every purchase
    // takes the path under test; the history and the request counts are still kept, with the
    // same queries, on every request.
    const UNLIMITED: u64 = 1_000_000_000;
    format!(
        "listen = \"{address}\"\n\
         database_url = \"{url}\"\n\
         public_url = \"http://{address}\"\n\
         secrets_file = \"{secrets}\"\n\
         trusted_proxies = [\"127.0.0.0/8\"]\n\
         \n\
         [risk]\n\
         velocity_card_hard = {UNLIMITED}\n\
         velocity_card = {UNLIMITED}\n\
         velocity_device = {UNLIMITED}\n\
         velocity_ip = {UNLIMITED}\n\
         lockout_wrong_codes = {UNLIMITED}\n\
         \n\
         [rate_limits]\n\
         create_per_key = {UNLIMITED}\n\
         widget_per_address = {UNLIMITED}\n\
         \n\
         [mail]\n\
         delivery = \"smtp\"\n\
         \n\
         [mail.smtp]\n\
         host = \"127.0.0.1\"\n\
         port = {port}\n\
         tls = \"none\"\n\
         timeout = 10\n",
        url = setup.database_url,
        secrets = secrets_file.display(),
        port = setup.smtp_port,
    )
}

/// A loopback address that was free a moment ago, for the verifier's `listen` (its
/// `public_url` must be known before it starts).
fn free_address() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// Waits until something accepts connections on `address`: the verifier binds only after its
/// store is open, so accepting means ready.
async fn wait_for(address: SocketAddr) -> Result<(), Failure> {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(address).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("the verifier did not listen on {address} within 30 s").into())
}

/// Seconds since the Unix epoch, as the verifier's clock counts.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
