//! `mamori admin token create|list|revoke`: the tokens of the issuer admin API (`/admin/v1`).

use clap::Subcommand;

use super::{Failure, open, print_json};
use crate::admin;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::model::AdminTokenId;
use crate::wire::admin::{AdminTokenCreated, AdminTokenList, AdminTokenView};

/// The admin API.
#[derive(Debug, Subcommand)]
pub(super) enum AdminCommand {
    /// Tokens of the admin API.
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `mamori admin token …`.
#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
    /// Make a token and print it (shown once; only its digest is stored).
    Create {
        /// What the token is for (which system holds it).
        #[arg(long, default_value = "admin")]
        name: String,
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
    /// List the tokens (never the tokens themselves).
    List {
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token: it authenticates nothing from now on.
    Revoke {
        /// The token id (at_…).
        id: AdminTokenId,
        /// One JSON document.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `command` on `config`.
pub(super) async fn run(config: &Config, command: AdminCommand) -> Result<(), Failure> {
    let AdminCommand::Token(command) = command;
    let (store, _) = open(config).await?;
    let store = store.as_ref();
    let now = SystemClock.now();
    match command {
        TokenCommand::Create { name, json } => {
            let (record, token) = admin::create_token(store, &name, now).await?;
            if json {
                print_json(&AdminTokenCreated {
                    id: record.id.to_string(),
                    name: record.name,
                    created_at: record.created_at,
                    token,
                })?;
            } else {
                println!("admin token {}  {}", record.id, record.name);
                println!("token (shown once): {token}");
            }
        }
        TokenCommand::List { json } => {
            let tokens = store.admin_tokens().await?;
            if json {
                let items = tokens.iter().map(AdminTokenView::from).collect();
                print_json(&AdminTokenList { items })?;
            } else {
                for t in &tokens {
                    let last_used = t
                        .last_used_at
                        .map_or_else(|| "never used".to_owned(), |at| format!("last used {at}"));
                    let revoked = t
                        .revoked_at
                        .map_or_else(String::new, |at| format!("  revoked at {at}"));
                    println!(
                        "{}  {}  created {}  {last_used}{revoked}",
                        t.id, t.name, t.created_at
                    );
                }
            }
        }
        TokenCommand::Revoke { id, json } => {
            if !store.revoke_admin_token(&id, now).await? {
                return Err(format!("no live admin token {id}").into());
            }
            let revoked = store
                .admin_tokens()
                .await?
                .into_iter()
                .find(|t| t.id == id)
                .ok_or_else(|| format!("no admin token {id}"))?;
            if json {
                print_json(&AdminTokenView::from(&revoked))?;
            } else {
                println!("{id} revoked");
            }
        }
    }
    Ok(())
}
