//! The configuration: `mamori.toml`, then `MAMORI_*` environment variables over it ([`mod@env`]).
//! Every field has a default, so an empty file (or none) is a working local verifier.
//!
//! Fields validate while they parse ([`value`]): a lifetime is a [`Positive`] number of seconds,
//! a result token's lifetime a [`ResultTokenLifetime`] (at most the 10 minutes `mamori-core`
//! accepts), the public URL a [`PublicUrl`], the trusted proxies a list of [`Cidr`] blocks
//! ([`proxy`]), and so on. A [`Config`] that exists is valid; nothing checks it afterwards.
//! Loading checks each setting on its own, then the few that depend on each other, and reports
//! every one that cannot be used, by name ([`ConfigError::Several`]).
//!
//! Times are in seconds. The security parameters default to the numbers in DESIGN.md's
//! "Security parameters".

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::risk::RiskConfig;
use crate::secrets::MasterSecret;
use crate::store::StoreOptions;

pub mod env;
pub mod proxy;
pub mod value;

pub use env::{Environment, Inspection, Loaded, Problem, Setting, Source};
pub use proxy::{Cidr, Networks, TrustedProxies};
pub use value::{
    BodyLimit, Bounded, Concurrency, DatabaseConnections, DatabaseUrl, DeviceLifetime, HeaderName,
    InvalidValue, Lease, NonNegative, Positive, PublicUrl, ResultTokenLifetime, SmtpTimeout,
    WebhookRetention, WebhookTimeout,
};

/// Everything `mamori serve` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db` (created if missing), or `postgres://user@host/database`
    /// (an existing database that several instances may share; `?sslmode=require` for TLS).
    pub database_url: DatabaseUrl,
    /// PostgreSQL: the connections each instance opens for everything but the rate-limit counts
    /// (which have 2 more of their own), 4..=500. 60 % of them, rounded, serve the single
    /// statements of a frictionless purchase, the rest transactions and every other statement
    /// (10: 6 and 4). PostgreSQL's `max_connections` must cover this plus 2 for every instance,
    /// and the administration commands. SQLite ignores it: it has one writer connection and
    /// read connections of its own.
    pub database_connections: DatabaseConnections,
    /// The verifier's public base URL: the `iss` of its tokens and the base of report links.
    pub public_url: PublicUrl,
    /// File holding the server's master secret, written once by `mamori init` (mode 0600) and
    /// the same on every instance. The keys for device tokens, code digests, card references
    /// and report links derive from it. Not read when [`Self::master_secret`] is set.
    pub secrets_file: PathBuf,
    /// The widget's release files (`target/www` from `cargo xtask package`: the loader, its
    /// content-addressed copy, the `.wasm` and `manifest.json`), served at `/widget/` to any
    /// origin. Unset, `/widget/` answers 404 (the widget is then hosted elsewhere).
    pub widget_dir: Option<PathBuf>,
    /// The address blocks of the reverse proxies in front of the verifier. A request from one
    /// of them has its client read from [`Self::client_ip_header`]: the rightmost address there
    /// that is not a trusted proxy's. Empty (the default), the peer address is the client and
    /// no header is read.
    pub trusted_proxies: TrustedProxies,
    /// The header the trusted proxies append the client's address to; unset,
    /// `x-forwarded-for`. Setting it without [`Self::trusted_proxies`] is refused: the header
    /// would be ignored, and an older configuration that relied on it must list its proxies.
    pub client_ip_header: Option<HeaderName>,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    /// Lifetimes and limits.
    pub security: Security,
    /// Request rates allowed per merchant key and per client address.
    pub rate_limits: RateLimits,
    /// Risk engine thresholds.
    pub risk: RiskConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// Outgoing webhook deliveries.
    pub webhooks: WebhookConfig,
    /// The master secret itself, when `MAMORI_MASTER_SECRET` (or `_FILE`) gives it instead of
    /// [`Self::secrets_file`]. Never read from, nor written to, the TOML file.
    #[serde(skip)]
    pub master_secret: Option<MasterSecret>,
}

impl Config {
    /// What the store is opened with besides [`Self::database_url`].
    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            connections: self.database_connections,
        }
    }

    /// The header the client's address is read from, when a trusted proxy forwarded the
    /// request: [`Self::client_ip_header`], else `x-forwarded-for`.
    pub fn forwarded_header(&self) -> &str {
        self.client_ip_header
            .as_ref()
            .map_or("x-forwarded-for", HeaderName::as_str)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: DatabaseUrl::default(),
            database_connections: StoreOptions::default().connections,
            public_url: PublicUrl::default(),
            secrets_file: PathBuf::from("mamori-secrets.key"),
            widget_dir: None,
            trusted_proxies: TrustedProxies::default(),
            client_ip_header: None,
            log_format: LogFormat::Text,
            security: Security::default(),
            rate_limits: RateLimits::default(),
            risk: RiskConfig::default(),
            mail: MailConfig::default(),
            webhooks: WebhookConfig::default(),
            master_secret: None,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Request rates allowed per window — counted in PostgreSQL so every instance shares them, in
/// the one verifier's memory on SQLite — : a flood from one merchant key or one address is
/// refused with `429 rate_limited` before it can create authentications or mail codes by the
/// thousand, or make the verifier look up admin tokens by the thousand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// The counting window, in seconds.
    pub window: Positive,
    /// `POST /v1/authentications` per merchant key per window.
    pub create_per_key: Positive,
    /// Widget requests (device step, code, resend, cancel) per client address per window.
    pub widget_per_address: Positive,
    /// `/admin/v1` requests that fail authentication per client address per window. Past it,
    /// every admin request from the address is refused before its token is looked up — a
    /// correct token's too — until the window ends; see `admin_exempt_networks` for the back
    /// office. A revoked token's refusal is not counted. It also bounds the address's token
    /// lookups running at once: a request past that is refused `429` with `Retry-After: 1`.
    pub admin_failures_per_address: Positive,
    /// Client addresses never locked out of the admin API, as `trusted_proxies` lists blocks:
    /// the back office's network, so that no one sharing its address (a NAT, a proxy) and none
    /// of its own failing jobs can lock it out. Their failures are not counted at all.
    pub admin_exempt_networks: Networks,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            window: Bounded::constant::<60>(),
            // 100 purchases a second from one merchant, far above any one shop's checkout.
            create_per_key: Bounded::constant::<6000>(),
            // Fifty purchases a minute from one address (a handful of requests each): room for
            // shoppers behind one NAT, none for a script mailing codes by the hundred.
            widget_per_address: Bounded::constant::<300>(),
            // A back office that mistypes or rotates a token fails a few times; a script
            // guessing tokens fails thousands of times a second.
            admin_failures_per_address: Bounded::constant::<20>(),
            // None: which network is the back office's only the operator knows.
            admin_exempt_networks: Networks::default(),
        }
    }
}

/// Lifetimes and limits of codes, authentications and tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Security {
    /// How long a code matches.
    pub code_lifetime: Positive,
    /// Wrong entries per authentication before it fails (resends do not reset the count).
    pub max_attempts: Positive,
    /// Codes sent after the first.
    pub max_resends: NonNegative,
    /// Seconds between two sends.
    pub resend_cooldown: NonNegative,
    /// After this an unfinished authentication expires (`U`, reason 14).
    pub authentication_lifetime: Positive,
    /// How long a merchant has to redeem a result token (at most 600).
    pub result_token_lifetime: ResultTokenLifetime,
    /// How long a device stays trusted (at most 180 days).
    pub device_lifetime: DeviceLifetime,
    /// The window for wrong codes per card (the count is `risk.lockout_wrong_codes`).
    pub failure_window: Positive,
    /// The window for velocity counts.
    pub velocity_window: Positive,
    /// Largest request body, in bytes (at least 1024).
    pub body_limit: BodyLimit,
    /// How long the link in a mail can report the purchase.
    pub report_link_lifetime: Positive,
    /// How long an old merchant key keeps working after `merchant rotate-key`.
    pub key_overlap: NonNegative,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            code_lifetime: Bounded::constant::<{ 10 * 60 }>(),
            max_attempts: Bounded::constant::<5>(),
            max_resends: Bounded::constant::<3>(),
            resend_cooldown: Bounded::constant::<30>(),
            authentication_lifetime: Bounded::constant::<{ 15 * 60 }>(),
            result_token_lifetime: Bounded::constant::<{ 10 * 60 }>(),
            device_lifetime: Bounded::constant::<{ 180 * 24 * 60 * 60 }>(),
            failure_window: Bounded::constant::<{ 24 * 60 * 60 }>(),
            velocity_window: Bounded::constant::<{ 60 * 60 }>(),
            body_limit: BodyLimit::DEFAULT,
            report_link_lifetime: Bounded::constant::<{ 30 * 24 * 60 * 60 }>(),
            key_overlap: Bounded::constant::<{ 7 * 24 * 60 * 60 }>(),
        }
    }
}

/// Where mail goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp`, or `mailbox` (the demo's in-database mailbox at `/demo/mailbox`).
    pub delivery: Delivery,
    /// The `From:` address.
    pub from: String,
    /// The SMTP relay.
    pub smtp: SmtpConfig,
    /// DKIM signing, for the domain of [`Self::from`].
    pub dkim: DkimSettings,
    /// Delivery attempts before a mail is given up.
    pub max_attempts: Positive,
    /// The first retry waits this long; each further one twice as long …
    pub backoff_base: Positive,
    /// … up to this.
    pub backoff_max: Positive,
    /// How often the worker looks for due mail when nothing wakes it.
    pub poll_interval: Positive,
    /// Seconds during which a card gets at most one alert of each kind; later ones are dropped.
    pub alert_window: Positive,
    /// Mails the worker delivers at once, each over its own pooled SMTP connection.
    pub concurrency: Concurrency,
    /// Seconds a worker's claim on a mail holds unless renewed (it is renewed every third of
    /// this while the mail is being sent): after a crash, how long its claimed mail waits
    /// before another worker sends it.
    pub lease: Lease,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            delivery: Delivery::Smtp,
            from: "mamori <no-reply@localhost>".into(),
            smtp: SmtpConfig::default(),
            dkim: DkimSettings::default(),
            max_attempts: Bounded::constant::<8>(),
            backoff_base: Bounded::constant::<5>(),
            backoff_max: Bounded::constant::<{ 60 * 60 }>(),
            poll_interval: Bounded::constant::<5>(),
            alert_window: Bounded::constant::<{ 60 * 60 }>(),
            concurrency: Bounded::constant::<4>(),
            lease: Bounded::constant::<60>(),
        }
    }
}

/// How events are delivered to webhook endpoints (see `webhooks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Seconds one delivery attempt may take, connecting included; an endpoint slower than
    /// this is retried later.
    pub timeout: WebhookTimeout,
    /// Events the worker delivers at once, each over a connection of its own.
    pub concurrency: Concurrency,
    /// Seconds a worker's claim on an event holds unless renewed (every third of this while
    /// the event is being sent): after a crash, how long its claimed event waits before
    /// another worker sends it.
    pub lease: Lease,
    /// Whether endpoints may be at addresses that are not public: loopback, private,
    /// link-local, CGNAT and the like (`http://` then too, to loopback). Off, the verifier
    /// cannot be made to send requests into its own network by whoever sets an endpoint.
    pub allow_private_addresses: bool,
    /// Days a delivered or given-up event is kept before the worker deletes it.
    pub retention: WebhookRetention,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            timeout: Bounded::constant::<15>(),
            concurrency: Bounded::constant::<4>(),
            lease: Bounded::constant::<60>(),
            allow_private_addresses: false,
            retention: Bounded::constant::<30>(),
        }
    }
}

/// How the outbox is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// Over SMTP.
    Smtp,
    /// Into the database, shown at `/demo/mailbox`.
    Mailbox,
}

/// An SMTP relay.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name (also the name TLS checks).
    pub host: String,
    /// Port.
    pub port: u16,
    /// `none`, `starttls` or `tls`.
    pub tls: TlsMode,
    /// User name, when the relay wants one.
    pub username: Option<String>,
    /// Password.
    pub password: Option<String>,
    /// Seconds before a delivery attempt is abandoned.
    pub timeout: SmtpTimeout,
    /// A PEM file of certificates trusted for the relay besides the public roots: a private
    /// CA, or the relay's own self-signed certificate.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            tls: TlsMode::None,
            username: None,
            password: None,
            timeout: Bounded::constant::<30>(),
            ca_file: None,
        }
    }
}

/// DKIM signing of every mail (see `mail::dkim`); off while no key file is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DkimSettings {
    /// The key's name in DNS: its record is at `<selector>._domainkey.<domain of mail.from>`.
    /// A new selector per key lets the old record stay published while mail signed with it
    /// is still on its way.
    pub selector: String,
    /// The private key: PEM, PKCS#8 (RSA or Ed25519) or PKCS#1 (RSA), as `mamori dkim keygen`
    /// writes it. Read at start-up; mail is signed as it is sent, so mail queued before a key
    /// change goes out signed with the new key.
    pub key_file: Option<PathBuf>,
}

impl Default for DkimSettings {
    fn default() -> Self {
        Self {
            selector: "mamori".into(),
            key_file: None,
        }
    }
}

/// Transport security to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain text (a relay on the same host).
    None,
    /// Upgrade with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The configuration could not be used.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read(PathBuf, std::io::Error),
    /// The TOML is malformed or has an unknown field.
    Parse(String),
    /// A value in the file cannot be its setting's.
    Invalid(Invalid),
    /// An environment variable's value cannot be used.
    Env {
        /// The variable.
        var: String,
        /// What is wrong with it (never the value of a secret).
        problem: String,
    },
    /// More than one of the above, in the order of the settings: all of them, so that one
    /// attempt shows everything to fix.
    Several(Vec<ConfigError>),
}

/// A setting whose value, from the file, cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The setting's dotted path, e.g. `security.result_token_lifetime`.
    pub setting: String,
    /// What the value must be instead (never the value of a secret).
    pub problem: String,
}

impl ConfigError {
    /// `Ok` without problems, the problem itself when there is one, else [`Self::Several`].
    ///
    /// # Errors
    ///
    /// Whenever `problems` is not empty.
    pub fn any(mut problems: Vec<Self>) -> Result<(), Self> {
        match problems.len() {
            0 => Ok(()),
            1 => Err(problems.remove(0)),
            _ => Err(Self::Several(problems)),
        }
    }

    /// What is wrong, without the "invalid configuration" every variant but `Read` begins with.
    fn detail(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            Self::Parse(e) => f.write_str(e),
            Self::Invalid(Invalid { setting, problem }) => write!(f, "{setting}: {problem}"),
            Self::Env { var, problem } => write!(f, "environment variable {var}: {problem}"),
            Self::Several(all) => {
                write!(f, "{} problems", all.len())?;
                for error in all {
                    f.write_str("\n  - ")?;
                    error.detail(f)?;
                }
                Ok(())
            }
        }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !matches!(self, Self::Read(..)) {
            f.write_str("invalid configuration: ")?;
        }
        self.detail(f)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads `file` (if any) and the process's `MAMORI_*` variables over it, and checks the
    /// result: what every `mamori` command runs on.
    ///
    /// # Errors
    ///
    /// [`ConfigError`], naming the variable when an environment value is at fault.
    pub fn load_with_env(file: Option<&Path>) -> Result<Loaded, ConfigError> {
        env::load(file, &Environment::from_process()?)
    }

    /// Reads a TOML file, without the environment; see [`Self::parse`].
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the file is unreadable, malformed or a value cannot be used.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
        Self::parse(&text)
    }

    /// Parses TOML text, every setting checked as it is read.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Parse`] for malformed TOML or an unknown field, [`ConfigError::Invalid`]
    /// naming a setting whose value cannot be used, [`ConfigError::Several`] for more than one.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Parse(e.to_string()))?;
        let loaded = env::inspect_table(table, &Environment::default())?.into_loaded()?;
        Ok(loaded.config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_the_defaults() {
        let config = Config::parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.security.code_lifetime, 600);
        assert_eq!(config.security.max_attempts, 5);
        assert_eq!(config.security.max_resends, 3);
        assert_eq!(config.security.resend_cooldown, 30);
        assert_eq!(config.security.authentication_lifetime, 900);
        assert_eq!(config.security.device_lifetime, 15_552_000);
        assert_eq!(config.security.body_limit, 16_384);
        assert_eq!(config.risk.lockout_wrong_codes, 20);
        assert_eq!(config.rate_limits.admin_failures_per_address, 20);
    }

    #[test]
    fn fields_are_read_and_checked() {
        let config = Config::parse(
            "listen = \"0.0.0.0:9000\"\n[security]\ncode_lifetime = 60\n\
             [mail]\ndelivery = \"mailbox\"\n[mail.smtp]\ntls = \"starttls\"\nport = 587\n",
        )
        .unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert_eq!(config.security.code_lifetime, 60);
        assert_eq!(config.mail.delivery, Delivery::Mailbox);
        assert_eq!(config.mail.smtp.tls, TlsMode::Starttls);
        assert!(matches!(
            Config::parse("nope = 1"),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            Config::parse("[security]\nresult_token_lifetime = 601"),
            Err(ConfigError::Invalid(_))
        ));
        // A zero timeout would give up on every delivery at once.
        assert!(Config::parse("[mail.smtp]\ntimeout = 0").is_err());
    }

    #[test]
    fn database_connections_are_bounded_and_size_the_store() {
        let default = Config::parse("").unwrap();
        assert_eq!(default.database_connections, 10);
        assert_eq!(default.store_options(), StoreOptions::default());
        let config = Config::parse("database_connections = 40").unwrap();
        assert_eq!(config.store_options().connections, 40);
        for (value, says) in [("3", "not 3"), ("501", "not 501"), ("-1", "not -1")] {
            let error = Config::parse(&format!("database_connections = {value}")).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Invalid(i) if i.setting == "database_connections"),
                "{error}"
            );
            let text = error.to_string();
            assert!(
                text.contains("database_connections: must be 4..=500") && text.contains(says),
                "{text}"
            );
        }
    }

    #[test]
    fn the_readme_documents_the_defaults() {
        let readme = include_str!("../README.md");
        let start = readme.find("```toml\nlisten").unwrap() + "```toml\n".len();
        let block = &readme[start..];
        let block = &block[..block.find("```").unwrap()];
        assert_eq!(Config::parse(block).unwrap(), Config::default());
    }

    #[test]
    fn debug_hides_the_smtp_password() {
        let smtp = SmtpConfig {
            password: Some("hunter2".into()),
            ..SmtpConfig::default()
        };
        assert!(!format!("{smtp:?}").contains("hunter2"));
    }
}
