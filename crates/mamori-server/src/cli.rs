//! The `mamori` command line: create the secrets, check the configuration, serve, administer
//! merchants, cards, reports and protection cases; with the `demo` feature, run the demo
//! (`demo`).
//!
//! Every command runs on the configuration `--config` names with the `MAMORI_*` environment
//! over it ([`crate::config::env`]) — `demo` then replaces the addresses and the database with
//! its own — and every command but `init` and `demo` needs the master secret to exist already:
//! `serve` and the administration commands never create one (see [`crate::secrets`]).
// A command line's output is its interface: printing is the point here.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::admin::{self as operations, AdminError, Enrolment};
use crate::clock::{Clock, SystemClock};
use crate::config::env::{self, Environment, Loaded};
use crate::config::{Config, LogFormat};
use crate::mail::mailer_for;
use crate::model::{CardStatus, CardholderId, DeviceId, MerchantId, ReportId};
use crate::secrets::{self, Secrets, SecretsError};
use crate::server;
use crate::state::AppState;
use crate::store::{self, Store};
use crate::wire;

mod admin;
mod cases;
mod check;
#[cfg(feature = "demo")]
mod demo;
mod dkim;
mod webhooks;

/// mamori: risk-based checkout authentication with emailed one-time codes.
#[derive(Debug, Parser)]
#[command(name = "mamori", version)]
pub struct Cli {
    /// The configuration file (TOML). Without it every setting takes its default; `MAMORI_*`
    /// environment variables override either.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the secrets file with a fresh master secret (once per deployment).
    Init {
        /// One JSON document: `secrets_file`, and the `next` command to run.
        #[arg(long)]
        json: bool,
    },
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Serve the verifier.
    Serve,
    /// Manage merchants.
    #[command(subcommand)]
    Merchant(MerchantCommand),
    /// Manage enrolled cards.
    #[command(subcommand)]
    Cardholder(CardholderCommand),
    /// Review fraud reports.
    #[command(subcommand)]
    Reports(ReportsCommand),
    /// Protection cases: list, show, move (mailing the cardholder).
    #[command(subcommand)]
    Cases(cases::CasesCommand),
    /// DKIM signing keys.
    #[command(subcommand)]
    Dkim(dkim::DkimCommand),
    /// The issuer admin API's tokens.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Webhook endpoints of the issuer and of merchants.
    #[command(subcommand)]
    Webhooks(webhooks::WebhooksCommand),
    /// Run a seeded demo: SQLite in a data directory, mail in /demo/mailbox.
    #[cfg(feature = "demo")]
    Demo(demo::DemoArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the effective configuration (file and environment, secrets redacted) and check
    /// that `serve` would start on it; exits non-zero if not.
    Check {
        /// One JSON document instead of annotated TOML.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum MerchantCommand {
    /// Register a merchant and print its secret key (shown once).
    Add {
        /// Display name shown to cardholders.
        #[arg(long)]
        name: String,
        /// An origin allowed to run the widget, e.g. https://shop.example (repeatable).
        #[arg(long = "origin", required = true)]
        origins: Vec<String>,
        /// Mark the merchant as a sandbox.
        #[arg(long)]
        sandbox: bool,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// List merchants and their keys.
    List {
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// Issue a new key; older keys keep working for `security.key_overlap` seconds.
    RotateKey {
        /// The merchant id (m_…).
        merchant_id: MerchantId,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CardholderCommand {
    /// Enroll a card with its pre-registered address.
    Enroll {
        /// The card number (stored only as a keyed reference and the last four digits).
        #[arg(long)]
        card: String,
        /// Where codes and alerts go.
        #[arg(long)]
        email: String,
        /// `ja` or `en`.
        #[arg(long, default_value = "ja")]
        locale: String,
        /// A frictionless ceiling, `CURRENCY:AMOUNT` in the currency's minor unit (`JPY:50000`,
        /// `USD:50000` for $500.00); repeat for more currencies. Purchases above it, or in a
        /// currency without one, are always challenged.
        #[arg(
            long = "ceiling",
            value_name = "CURRENCY:AMOUNT",
            default_value = operations::DEFAULT_CEILINGS
        )]
        ceilings: Vec<String>,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// List enrolled cards.
    List {
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// Block a card (every purchase is rejected), or unblock it.
    Block {
        /// The cardholder id (ch_…).
        id: CardholderId,
        /// Unblock instead.
        #[arg(long)]
        unblock: bool,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// Unenroll a card: kept for its authentications and reports but treated as not enrolled,
    /// its trusted browsers revoked; the card may be enrolled again.
    Unenroll {
        /// The cardholder id (ch_…).
        id: CardholderId,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// List an enrolled card's trusted browsers (purchases in them are frictionless).
    Devices {
        /// The cardholder id (ch_…).
        id: CardholderId,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// Remove one trusted browser from a card: its next purchase with the card is challenged.
    RemoveDevice {
        /// The cardholder id (ch_…).
        id: CardholderId,
        /// The browser's device id (dv_…), as `devices` lists it.
        device_id: DeviceId,
        /// One JSON document (the admin API's answer: the browsers the card still trusts).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ReportsCommand {
    /// List open reports (all with --all).
    List {
        /// Include resolved reports.
        #[arg(long)]
        all: bool,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
    /// Resolve a report: the card is no longer forced to challenge.
    Resolve {
        /// The report id (fr_…).
        id: ReportId,
        /// One JSON document (the admin API's answer).
        #[arg(long)]
        json: bool,
    },
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// Parses the command line and runs it.
///
/// # Errors
///
/// Whatever stopped the command, for `main` to print.
pub async fn main() -> Result<(), Failure> {
    let cli = Cli::parse();
    let file = cli.config.as_deref();
    let inspection = env::inspect(file, &Environment::from_process()?)?;
    let result = match cli.command {
        // The one command that goes on past invalid values: it reports them all, beside
        // everything else it checks. The others stop at them.
        Command::Config(ConfigCommand::Check { json }) => check::run(file, &inspection, json),
        Command::Init { json } => init(file, &inspection.into_loaded()?, json),
        Command::Serve => serve(inspection.into_loaded()?.config).await,
        #[cfg(feature = "demo")]
        Command::Demo(args) => demo::run(inspection.into_loaded()?.config, args).await,
        Command::Merchant(command) => merchant(&inspection.into_loaded()?.config, command).await,
        Command::Cardholder(command) => {
            cardholder(&inspection.into_loaded()?.config, command).await
        }
        Command::Reports(command) => reports(&inspection.into_loaded()?.config, command).await,
        Command::Cases(command) => cases::run(&inspection.into_loaded()?.config, command).await,
        Command::Dkim(command) => dkim::run(&inspection.into_loaded()?.config, command),
        Command::Admin(command) => admin::run(&inspection.into_loaded()?.config, command).await,
        Command::Webhooks(command) => {
            webhooks::run(&inspection.into_loaded()?.config, command).await
        }
    };
    // A missing secrets file is the one mistake every new deployment makes; say what to run,
    // with this very configuration file.
    result.map_err(|e| match e.downcast_ref::<SecretsError>() {
        Some(SecretsError::Missing(path)) => missing_secrets(path, file).into(),
        _ => e,
    })
}

/// Why a command refuses to run without the secrets file, and the command that creates it.
fn missing_secrets(path: &Path, config_file: Option<&Path>) -> String {
    let init = match config_file {
        Some(file) => format!("mamori --config {} init", file.display()),
        None => "mamori init".to_owned(),
    };
    format!(
        "the secrets file {} does not exist. Create it once with `{init}`, then give every \
         instance that same file (or set MAMORI_MASTER_SECRET_FILE). Nothing but `init` \
         creates it: a verifier with a new master secret would not recognise any enrolled card, \
         trusted device or mailed code",
        path.display()
    )
}

/// `mamori init`: the secrets file, once.
fn init(config_file: Option<&Path>, loaded: &Loaded, json: bool) -> Result<(), Failure> {
    let path = &loaded.config.secrets_file;
    if let Some(var) = &loaded.master_secret_from {
        return Err(format!(
            "{var} is set, so the master secret comes from the environment and no secrets \
             file is used; unset it to create {}",
            path.display()
        )
        .into());
    }
    secrets::create_file(path)?;
    let check = match config_file {
        Some(file) => format!("mamori --config {} config check", file.display()),
        None => "mamori config check".to_owned(),
    };
    if json {
        return print_json(&serde_json::json!({ "secrets_file": path, "next": check }));
    }
    println!(
        "created {} (mode 0600) with a new master secret",
        path.display()
    );
    println!(
        "Every instance must read this same file, and it must be backed up: card references, \
         trusted devices, mailed codes and report links are keyed by it."
    );
    println!("next: {check}");
    Ok(())
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only for a person at a terminal: a log file, a pipe or journald would otherwise
    // keep the escape codes around every field name.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    // `try_init` fails only when a subscriber is already set, which is then kept.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The store and the keys of a configured verifier. The secrets are loaded first: without
/// them nothing may touch the database (a card enrolled under a stray key is lost).
async fn open(config: &Config) -> Result<(Arc<dyn Store>, Secrets), Failure> {
    let secrets = Secrets::load(config)?;
    let store = store::open_with(&config.database_url, &config.store_options()).await?;
    Ok((store, secrets))
}

/// Prints `value` as one JSON document on stdout: what `--json` prints.
fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Failure> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

async fn serve(config: Config) -> Result<(), Failure> {
    init_tracing(config.log_format);
    let (store, secrets) = open(&config).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let mailer = mailer_for(&config.mail)?;
    if config.widget_dir.is_none() {
        tracing::warn!("widget_dir is not set: /widget/ answers 404");
    }
    let state = AppState::new(config, store, secrets, clock).load_widget()?;
    let listener = TcpListener::bind(state.config.listen).await?;
    tracing::info!(address = %listener.local_addr()?, "mamori verifier listening");
    server::run(listener, state, mailer, shutdown_signal()).await?;
    Ok(())
}

async fn merchant(config: &Config, command: MerchantCommand) -> Result<(), Failure> {
    let (store, _) = open(config).await?;
    let store = store.as_ref();
    let now = SystemClock.now();
    match command {
        MerchantCommand::Add {
            name,
            origins,
            sandbox,
            json,
        } => {
            let (merchant, issued) =
                operations::add_merchant(store, &name, &origins, sandbox, now).await?;
            if json {
                print_json(&wire::admin::MerchantCreated {
                    merchant: wire::admin::Merchant::new(
                        &merchant,
                        std::slice::from_ref(&issued.key),
                    ),
                    secret_key: issued.secret_key,
                })?;
            } else {
                println!("merchant {}", merchant.id);
                println!("secret key (shown once): {}", issued.secret_key);
            }
        }
        MerchantCommand::List { json } => {
            let mut items = Vec::new();
            for merchant in store.merchants().await? {
                let keys = store.merchant_keys(&merchant.id).await?;
                items.push(wire::admin::Merchant::new(&merchant, &keys));
            }
            if json {
                return print_json(&wire::admin::MerchantList { items });
            }
            for m in &items {
                let sandbox = if m.sandbox { " [sandbox]" } else { "" };
                println!(
                    "{}  {}{sandbox}  origins: {}",
                    m.id,
                    m.name,
                    m.origins.join(" ")
                );
                for k in &m.keys {
                    let status = match k.retire_at {
                        None => "current".to_owned(),
                        Some(at) if at > now => format!("retiring at {at}"),
                        Some(at) => format!("retired at {at}"),
                    };
                    println!("    key {}  {status}", k.kid);
                }
            }
        }
        MerchantCommand::RotateKey { merchant_id, json } => {
            let (issued, retire_at) = operations::rotate_key(store, config, &merchant_id, now)
                .await
                .map_err(|e| match e {
                    AdminError::NotFound(_) => format!("no merchant {merchant_id}").into(),
                    other => Failure::from(other),
                })?;
            if json {
                print_json(&wire::admin::KeyRotated {
                    kid: issued.key.kid.to_string(),
                    secret_key: issued.secret_key,
                    older_keys_retire_at: retire_at,
                })?;
            } else {
                println!("new secret key (shown once): {}", issued.secret_key);
                println!(
                    "older keys stop working at {retire_at} (in {} s)",
                    config.security.key_overlap
                );
            }
        }
    }
    Ok(())
}

async fn cardholder(config: &Config, command: CardholderCommand) -> Result<(), Failure> {
    let (store, secrets) = open(config).await?;
    let store = store.as_ref();
    match command {
        CardholderCommand::Enroll {
            card,
            email,
            locale,
            ceilings,
            json,
        } => {
            let enrolment = Enrolment::parse(&card, &email, Some(&locale), Some(&ceilings))?;
            let cardholder =
                operations::enrol(store, &secrets, enrolment, SystemClock.now()).await?;
            if json {
                print_json(&wire::admin::Cardholder::from(&cardholder))?;
            } else {
                println!(
                    "cardholder {}  card_ref {}",
                    cardholder.id, cardholder.card_ref
                );
            }
        }
        CardholderCommand::List { json } => {
            let cardholders = store.cardholders().await?;
            if json {
                let items = cardholders
                    .iter()
                    .map(wire::admin::Cardholder::from)
                    .collect();
                return print_json(&wire::admin::CardholderList { items });
            }
            for c in &cardholders {
                // An unenrolled card's stored reference matches nothing any more.
                let card_ref = match c.status {
                    CardStatus::Unenrolled => "-",
                    CardStatus::Active | CardStatus::Blocked => &c.card_ref,
                };
                println!(
                    "{}  ••••{}  {}  {}  {}  ceilings {}  card_ref {card_ref}",
                    c.id,
                    c.last4,
                    c.email,
                    c.locale.as_str(),
                    c.status.as_str(),
                    c.frictionless_ceilings,
                );
            }
        }
        CardholderCommand::Block { id, unblock, json } => {
            let status = if unblock {
                CardStatus::Active
            } else {
                CardStatus::Blocked
            };
            let cardholder = operations::set_card_status(store, &id, status)
                .await
                .map_err(|e| match e {
                    AdminError::NotFound(_) => format!("no enrolled cardholder {id}").into(),
                    other => Failure::from(other),
                })?;
            if json {
                print_json(&wire::admin::Cardholder::from(&cardholder))?;
            } else {
                println!("{id} is {}", status.as_str());
            }
        }
        CardholderCommand::Unenroll { id, json } => {
            let cardholder = operations::unenrol(store, &id, SystemClock.now())
                .await
                .map_err(|e| match e {
                    AdminError::NotFound(_) => format!("no enrolled cardholder {id}").into(),
                    other => Failure::from(other),
                })?;
            if json {
                print_json(&wire::admin::Cardholder::from(&cardholder))?;
            } else {
                println!("{id} is unenrolled");
            }
        }
        CardholderCommand::Devices { id, json } => {
            let browsers = operations::trusted_browsers(store, &id, SystemClock.now())
                .await
                .map_err(|e| match e {
                    AdminError::NotFound(_) => format!("no enrolled cardholder {id}").into(),
                    other => Failure::from(other),
                })?;
            let list = wire::admin::TrustedBrowserList::new(&browsers);
            if json {
                return print_json(&list);
            }
            print_browsers(&list);
        }
        CardholderCommand::RemoveDevice {
            id,
            device_id,
            json,
        } => {
            let now = SystemClock.now();
            operations::remove_browser(store, &id, &device_id, now)
                .await
                .map_err(|e| match e {
                    AdminError::NotFound("cardholder") => {
                        format!("no enrolled cardholder {id}").into()
                    }
                    AdminError::NotFound(_) => {
                        format!("{id} does not trust the browser {device_id}").into()
                    }
                    other => Failure::from(other),
                })?;
            let browsers = operations::trusted_browsers(store, &id, now).await?;
            if json {
                print_json(&wire::admin::TrustedBrowserList::new(&browsers))?;
            } else {
                println!(
                    "{device_id} removed from {id}; {} trusted browser(s) left",
                    browsers.len()
                );
            }
        }
    }
    Ok(())
}

/// One line per browser: its device id, what it is, where it is trusted and when.
fn print_browsers(list: &wire::admin::TrustedBrowserList) {
    for b in &list.items {
        let last_used = b
            .last_used
            .map_or_else(|| "-".to_owned(), |at| at.to_string());
        println!(
            "{}  {}  {} ({})  trusted since {}  last used {last_used}  expires {}",
            b.device_id, b.browser, b.merchant_name, b.merchant_id, b.trusted_since, b.expires_at
        );
    }
}

async fn reports(config: &Config, command: ReportsCommand) -> Result<(), Failure> {
    let (store, _) = open(config).await?;
    let store = store.as_ref();
    match command {
        ReportsCommand::List { all, json } => {
            let reports = store.reports(!all).await?;
            if json {
                let items = reports.iter().map(wire::admin::Report::from).collect();
                return print_json(&wire::admin::ReportList { items });
            }
            for r in &reports {
                let status = r
                    .resolved_at
                    .map_or_else(|| "open".to_owned(), |at| format!("resolved at {at}"));
                println!(
                    "{}  cardholder {}  authentication {}  reported at {}  {status}",
                    r.id, r.cardholder_id, r.authentication_id, r.created_at
                );
            }
        }
        ReportsCommand::Resolve { id, json } => {
            let report = operations::resolve_report(store, &id, SystemClock.now())
                .await
                .map_err(|e| match e {
                    AdminError::NotFound(_) => format!("no report {id}").into(),
                    other => Failure::from(other),
                })?;
            if json {
                print_json(&wire::admin::Report::from(&report))?;
            } else {
                println!("{id} resolved");
            }
        }
    }
    Ok(())
}
