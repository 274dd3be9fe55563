//! `mamori demo` (feature `demo`): the seeded demo verifier with its shop and mailbox, on a
//! throwaway SQLite database in a data directory.
//!
//! It takes the configuration as every command does, then replaces what a demo must own: the
//! address and URL (from `--listen`), the database and the secrets file (in `--data-dir`), and
//! mail delivery (the in-database mailbox).
// A command line's output is its interface: printing is the point here.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tokio::net::TcpListener;

use super::{Failure, init_tracing, shutdown_signal};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, DatabaseUrl, Delivery, PublicUrl};
use crate::demo::{self, mailbox::MailboxMailer};
use crate::secrets::Secrets;
use crate::server;
use crate::state::AppState;
use crate::store::{self, Store};

/// The arguments of `mamori demo`.
#[derive(Debug, Args)]
pub(super) struct DemoArgs {
    /// Where the demo keeps its database and secrets.
    #[arg(long, default_value = "mamori-demo")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A directory to serve at /assets/ (the demo shop's pages in demo/) and /widget/ (the
    /// widget's release, as `cargo xtask package` writes it).
    #[arg(long)]
    assets_dir: Option<PathBuf>,
}

/// Seeds the demo merchant and cards, prints how to use them and serves until a signal.
pub(super) async fn run(base: Config, args: DemoArgs) -> Result<(), Failure> {
    std::fs::create_dir_all(&args.data_dir)?;
    // Bound first, so that port 0 (a free port, as the end-to-end tests ask for) is resolved
    // before the URL and the merchant's origins are derived from it.
    let listener = TcpListener::bind(args.listen).await?;
    let listen = listener.local_addr()?;
    let mut config = base;
    config.listen = listen;
    config.public_url = PublicUrl::try_from(format!("http://{listen}"))?;
    let database = args.data_dir.join("mamori.db");
    config.database_url = DatabaseUrl::try_from(format!("sqlite://{}", database.display()))?;
    config.secrets_file = args.data_dir.join("secrets.key");
    config.mail.delivery = Delivery::Mailbox;
    // The assets directory holds the widget's release beside the shop's pages; the demo serves
    // it at /widget/ as a verifier does.
    if let Some(dir) = &args.assets_dir {
        config.widget_dir = Some(dir.clone());
    }
    init_tracing(config.log_format);
    let (store, secrets) = open(&config).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    demo::seed(
        store.as_ref(),
        &secrets,
        demo::origins(&listen),
        clock.now(),
    )
    .await?;
    let url = &config.public_url;
    println!("mamori demo verifier on {url}");
    println!("  shop:          {url}/");
    println!("  mailbox:       {url}/demo/mailbox");
    println!("  API document:  {url}/openapi.json");
    println!("  merchant id:   {}", demo::MERCHANT_ID);
    println!(
        "  merchant key:  {}  (public on purpose: it opens only this demo's database)",
        demo::MERCHANT_SECRET_KEY
    );
    println!("  widget origins: {}", demo::origins(&listen).join(", "));
    println!("  cards:");
    for card in demo::CARDS {
        println!("    {}  {}", card.number, card.outcome);
    }
    let mailer = Arc::new(MailboxMailer::new(Arc::clone(&store), Arc::clone(&clock)));
    let state = AppState::new(config, store, secrets, clock).load_widget()?;
    let router = demo::app(state.clone(), args.assets_dir.as_deref());
    server::run_router(listener, router, state, mailer, shutdown_signal()).await?;
    Ok(())
}

/// The store and keys, as `super::open` gives them to the other commands, except that the demo
/// makes its secrets when it has none: its data directory is a throwaway sandbox.
async fn open(config: &Config) -> Result<(Arc<dyn Store>, Secrets), Failure> {
    let secrets = match config.master_secret {
        Some(_) => Secrets::load(config)?,
        None => Secrets::load_or_create(&config.secrets_file)?,
    };
    let store = store::open_with(&config.database_url, &config.store_options()).await?;
    Ok((store, secrets))
}
