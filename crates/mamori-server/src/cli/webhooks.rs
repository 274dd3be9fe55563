//! `mamori webhooks …`: the issuer's and each merchant's webhook endpoint.
// A command line's output is its interface: printing is the point here.
#![allow(clippy::print_stdout)]

use clap::{Args, Subcommand};

use super::{Failure, open};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::model::MerchantId;
use crate::webhooks::Owner;
use crate::webhooks::manage::{Endpoints, SECRET_OVERLAP};

#[derive(Debug, Subcommand)]
pub(super) enum WebhooksCommand {
    /// Point the endpoint at a URL with a new secret (printed once; older secrets stop at once).
    /// The URL is https://, or http:// to a loopback address.
    Set {
        #[command(flatten)]
        owner: OwnerArgs,
        /// Where events are POSTed.
        #[arg(long)]
        url: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show the endpoint: URL, whether it is disabled and why, its secrets' dates, its events.
    Show {
        #[command(flatten)]
        owner: OwnerArgs,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Add a new secret (printed once); the older ones keep signing for a day.
    RotateSecret {
        #[command(flatten)]
        owner: OwnerArgs,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Remove the endpoint; events still owed to it are given up.
    Remove {
        #[command(flatten)]
        owner: OwnerArgs,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

/// Whose endpoint: the issuer's, or a merchant's.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(super) struct OwnerArgs {
    /// The issuer's own endpoint (authentication.failed, fraud reports, cases).
    #[arg(long)]
    issuer: bool,
    /// A merchant's endpoint (authentication.finished), by merchant id (m_…).
    #[arg(long)]
    merchant: Option<MerchantId>,
}

impl OwnerArgs {
    fn owner(self) -> Owner {
        match self.merchant {
            Some(id) => Owner::Merchant(id),
            None => Owner::Issuer,
        }
    }
}

pub(super) async fn run(config: &Config, command: WebhooksCommand) -> Result<(), Failure> {
    let (store, secrets) = open(config).await?;
    let endpoints = Endpoints {
        store: store.as_ref(),
        key: &secrets.webhook_key,
        now: SystemClock.now(),
        allow_private_addresses: config.webhooks.allow_private_addresses,
    };
    match command {
        WebhooksCommand::Set { owner, url, json } => {
            let owner = owner.owner();
            let set = endpoints.set(&owner, &url).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&set)?);
            } else {
                println!("webhook endpoint of {}: {}", owner.as_str(), set.url);
                println!("signing secret (shown once): {}", set.secret);
            }
        }
        WebhooksCommand::Show { owner, json } => {
            let shown = endpoints.show(&owner.owner()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                let state = match (&shown.disabled_at, &shown.disabled_reason) {
                    (Some(at), reason) => {
                        format!("disabled at {at}: {}", reason.as_deref().unwrap_or(""))
                    }
                    (None, _) => "live".to_owned(),
                };
                println!("{}  {}  {state}", shown.owner, shown.url);
                for secret in &shown.secrets {
                    let until = secret
                        .expires_at
                        .map_or_else(|| "current".to_owned(), |at| format!("signs until {at}"));
                    println!("    secret made {}  {until}", secret.created_at);
                }
                println!(
                    "    events pending {}  given up {}",
                    shown.pending, shown.given_up
                );
            }
        }
        WebhooksCommand::RotateSecret { owner, json } => {
            let rotated = endpoints.rotate(&owner.owner()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rotated)?);
            } else {
                println!("new signing secret (shown once): {}", rotated.secret);
                println!("older secrets keep signing beside it for {SECRET_OVERLAP} s");
            }
        }
        WebhooksCommand::Remove { owner, json } => {
            let owner = owner.owner();
            endpoints.remove(&owner).await?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "owner": owner.as_str(), "removed": true })
                );
            } else {
                println!("webhook endpoint of {} removed", owner.as_str());
            }
        }
    }
    Ok(())
}
