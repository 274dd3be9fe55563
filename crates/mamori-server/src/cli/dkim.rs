//! `mamori dkim keygen`: a new DKIM key in `mail.dkim.key_file`, and the DNS record to publish
//! for it.

use std::path::Path;

use clap::Subcommand;
use serde::Serialize;

use crate::config::Config;
use crate::mail::dkim::{self, Algorithm};
use crate::secrets::SecretsError;

/// DKIM keys.
#[derive(Debug, Subcommand)]
pub(super) enum DkimCommand {
    /// Write a new private key to `mail.dkim.key_file` (mode 0600; an existing file is never
    /// replaced) and print the DNS TXT record that publishes its public key.
    Keygen {
        /// `rsa` (2048 bits, verified everywhere) or `ed25519` (RFC 8463).
        #[arg(long, value_enum, default_value = "rsa")]
        algorithm: Algorithm,
        /// One JSON document: `key_file`, and the record's DNS `name` and TXT `value`.
        #[arg(long)]
        json: bool,
    },
}

/// `mamori dkim keygen --json`.
#[derive(Serialize)]
struct Keygen<'a> {
    /// Where the private key was written.
    key_file: &'a Path,
    /// The DNS name of the TXT record: `<selector>._domainkey.<domain>`.
    name: String,
    /// The TXT record's value, whole (a zone file splits it into strings of 255 bytes).
    value: &'a str,
}

/// Runs `command` on `config`.
pub(super) fn run(config: &Config, command: DkimCommand) -> Result<(), super::Failure> {
    let DkimCommand::Keygen { algorithm, json } = command;
    let path = config.mail.dkim.key_file.as_ref().ok_or(
        "mail.dkim.key_file is not set: set it (or MAMORI_MAIL_DKIM_KEY_FILE) to where the \
         key should be written",
    )?;
    let from: lettre::message::Mailbox = config
        .mail
        .from
        .parse()
        .map_err(|e| format!("mail.from: {e}"))?;
    let selector = &config.mail.dkim.selector;
    let domain = from.email.domain();
    // Checked before a key is written: `serve` would refuse the key under these names.
    dkim::check_dns_name("mail.dkim.selector", selector)?;
    dkim::check_dns_name("the domain of mail.from", domain)?;
    let (pem, record) = dkim::generate(algorithm)?;
    crate::secrets::write_new_file(path, pem.as_bytes()).map_err(|e| match e {
        SecretsError::Exists(_) => format!(
            "{} already exists; a DKIM key is never replaced (choose another key_file, or \
             remove it yourself once no published record names it)",
            path.display()
        ),
        SecretsError::Io(_, e) => format!("cannot write {}: {e}", path.display()),
        other => other.to_string(),
    })?;
    if json {
        let keygen = Keygen {
            key_file: path,
            name: format!("{selector}._domainkey.{domain}"),
            value: &record,
        };
        return super::print_json(&keygen);
    }
    println!("wrote {} (mode 0600)", path.display());
    println!("Publish this record, then restart the verifier to sign with the key:");
    println!("{}", dkim::zone_line(selector, domain, &record));
    Ok(())
}
