//! The configuration: `mamori.toml`, then `MAMORI_*` environment variables over it ([`mod@env`]).
//! Every field has a default, so an empty file (or none) is a working local verifier.
//!
//! Times are in seconds. The security parameters default to the numbers in DESIGN.md's
//! "Security parameters"; loading refuses values the token profile of `mamori-core` would then
//! reject (a result token living longer than 10 minutes, a device token longer than 180 days).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::risk::RiskConfig;
use crate::secrets::MasterSecret;

pub mod env;

pub use env::{Environment, Loaded, Setting, Source};

/// Everything `mamori serve` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db` (created if missing), or `postgres://user@host/database`
    /// (an existing database that several instances may share; `?sslmode=require` for TLS).
    pub database_url: String,
    /// The verifier's public base URL: the `iss` of its tokens and the base of report links.
    pub public_url: String,
    /// File holding the server's master secret, written once by `mamori init` (mode 0600) and
    /// the same on every instance. The keys for device tokens, code digests, card references
    /// and report links derive from it. Not read when [`Self::master_secret`] is set.
    pub secrets_file: PathBuf,
    /// The widget's release files (`target/www` from `cargo xtask package`: the loader, its
    /// content-addressed copy, the `.wasm` and `manifest.json`), served at `/widget/` to any
    /// origin. Unset, `/widget/` answers 404 (the widget is then hosted elsewhere).
    pub widget_dir: Option<PathBuf>,
    /// A header that carries the client's address when behind a reverse proxy (for example
    /// `x-forwarded-for`, first entry); without it, the peer address is used.
    pub client_ip_header: Option<String>,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
    /// Lifetimes and limits.
    pub security: Security,
    /// Risk engine thresholds.
    pub risk: RiskConfig,
    /// Outgoing mail.
    pub mail: MailConfig,
    /// The master secret itself, when `MAMORI_MASTER_SECRET` (or `_FILE`) gives it instead of
    /// [`Self::secrets_file`]. Never read from, nor written to, the TOML file.
    #[serde(skip)]
    pub master_secret: Option<MasterSecret>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://mamori.db".into(),
            public_url: "http://127.0.0.1:8080".into(),
            secrets_file: PathBuf::from("mamori-secrets.key"),
            widget_dir: None,
            client_ip_header: None,
            log_format: LogFormat::Text,
            security: Security::default(),
            risk: RiskConfig::default(),
            mail: MailConfig::default(),
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

/// Lifetimes and limits of codes, authentications and tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Security {
    /// How long a code matches.
    pub code_lifetime: i64,
    /// Wrong entries per authentication before it fails (resends do not reset the count).
    pub max_attempts: i64,
    /// Codes sent after the first.
    pub max_resends: i64,
    /// Seconds between two sends.
    pub resend_cooldown: i64,
    /// After this an unfinished authentication expires (`U`, reason 14).
    pub authentication_lifetime: i64,
    /// How long a merchant has to redeem a result token (at most 600).
    pub result_token_lifetime: i64,
    /// How long a device stays trusted (at most 180 days).
    pub device_lifetime: i64,
    /// The window for wrong codes per card (the count is `risk.lockout_wrong_codes`).
    pub failure_window: i64,
    /// The window for velocity counts.
    pub velocity_window: i64,
    /// Largest request body, in bytes.
    pub body_limit: usize,
    /// How long the link in a mail can report the purchase.
    pub report_link_lifetime: i64,
    /// How long an old merchant key keeps working after `merchant rotate-key`.
    pub key_overlap: i64,
}

impl Default for Security {
    fn default() -> Self {
        Self {
            code_lifetime: 10 * 60,
            max_attempts: 5,
            max_resends: 3,
            resend_cooldown: 30,
            authentication_lifetime: 15 * 60,
            result_token_lifetime: 10 * 60,
            device_lifetime: 180 * 24 * 60 * 60,
            failure_window: 24 * 60 * 60,
            velocity_window: 60 * 60,
            body_limit: 16 * 1024,
            report_link_lifetime: 30 * 24 * 60 * 60,
            key_overlap: 7 * 24 * 60 * 60,
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
    /// Delivery attempts before a mail is given up.
    pub max_attempts: i64,
    /// The first retry waits this long; each further one twice as long …
    pub backoff_base: i64,
    /// … up to this.
    pub backoff_max: i64,
    /// How often the worker looks for due mail when nothing wakes it.
    pub poll_interval: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            delivery: Delivery::Smtp,
            from: "mamori <no-reply@localhost>".into(),
            smtp: SmtpConfig::default(),
            max_attempts: 8,
            backoff_base: 5,
            backoff_max: 60 * 60,
            poll_interval: 5,
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
    pub timeout: u64,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
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
            timeout: 30,
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
    /// A value is out of range.
    Invalid(&'static str),
    /// An environment variable's value cannot be used.
    Env {
        /// The variable.
        var: String,
        /// What is wrong with it (never the value of a secret).
        problem: String,
    },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Read(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            Self::Parse(e) => write!(f, "invalid configuration: {e}"),
            Self::Invalid(what) => write!(f, "invalid configuration: {what}"),
            Self::Env { var, problem } => {
                write!(
                    f,
                    "invalid configuration: environment variable {var}: {problem}"
                )
            }
        }
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

    /// Reads and checks a TOML file, without the environment.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the file is unreadable, malformed or out of range.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
        Self::parse(&text)
    }

    /// Parses and checks TOML text.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Parse`] and [`ConfigError::Invalid`].
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Refuses values that would break the token profile or make no sense.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming the field.
    pub fn check(&self) -> Result<(), ConfigError> {
        let s = &self.security;
        let core_result = i64::try_from(mamori_core::token::RESULT_LIFETIME).unwrap_or(i64::MAX);
        let core_device = i64::try_from(mamori_core::token::DEVICE_LIFETIME).unwrap_or(i64::MAX);
        let checks = [
            (
                s.code_lifetime > 0,
                "security.code_lifetime must be positive",
            ),
            (s.max_attempts > 0, "security.max_attempts must be positive"),
            (
                s.max_resends >= 0,
                "security.max_resends must not be negative",
            ),
            (
                s.resend_cooldown >= 0,
                "security.resend_cooldown must not be negative",
            ),
            (
                s.authentication_lifetime > 0,
                "security.authentication_lifetime must be positive",
            ),
            (
                (1..=core_result).contains(&s.result_token_lifetime),
                "security.result_token_lifetime must be 1..=600",
            ),
            (
                (1..=core_device).contains(&s.device_lifetime),
                "security.device_lifetime must be 1..=15552000",
            ),
            (
                s.body_limit >= 1024,
                "security.body_limit must be at least 1024",
            ),
            (
                s.report_link_lifetime > 0,
                "security.report_link_lifetime must be positive",
            ),
            (
                s.key_overlap >= 0,
                "security.key_overlap must not be negative",
            ),
            (
                self.mail.max_attempts > 0,
                "mail.max_attempts must be positive",
            ),
            (
                self.mail.backoff_base > 0,
                "mail.backoff_base must be positive",
            ),
            (
                self.mail.poll_interval > 0,
                "mail.poll_interval must be positive",
            ),
            (
                self.public_url.starts_with("http://") || self.public_url.starts_with("https://"),
                "public_url must start with http:// or https://",
            ),
            (
                ["sqlite:", "postgres:", "postgresql:"]
                    .iter()
                    .any(|scheme| self.database_url.starts_with(scheme)),
                "database_url must be sqlite://path or postgres://user@host/database",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, what)) => Err(ConfigError::Invalid(what)),
            None => Ok(()),
        }
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
