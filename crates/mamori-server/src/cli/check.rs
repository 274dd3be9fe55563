//! `mamori config check`: the effective configuration, secrets redacted, and whether `serve`
//! would start on it.
//!
//! It reads what `serve` reads — the file, the `MAMORI_*` variables, the master secret, the
//! widget release, the mail settings — and opens no connection: a check an operator can run on
//! a host before the database or the relay is reachable. Every setting whose value cannot be
//! used is an error of its own, named by its path or variable, and the rest is still checked:
//! one run lists everything to fix.
// A command line's output is its interface: printing is the point here.
#![allow(clippy::print_stdout)]

use std::path::Path;

use serde::Serialize;

use super::Failure;
use crate::api::widget_files::WidgetFiles;
use crate::config::TlsMode;
use crate::config::env::{self, Inspection, Loaded, Source};
use crate::mail::mailer_for;
use crate::secrets::{self, SecretsError};

/// What `config check` prints instead of a secret.
pub(super) const REDACTED: &str = "<redacted>";

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    /// Checked and fine.
    Ok,
    /// `serve` starts, but an operator should look.
    Warning,
    /// `serve` would refuse to start.
    Error,
}

/// One finding.
#[derive(Debug, Serialize)]
struct Finding {
    level: Level,
    message: String,
}

/// The `--json` answer.
#[derive(Debug, Serialize)]
struct Report<'a> {
    /// The effective configuration, secrets redacted.
    config: &'a toml::Table,
    /// Each setting's source: `default`, `file`, or the variable's name.
    sources: Vec<(&'a str, String)>,
    findings: &'a [Finding],
    ok: bool,
}

/// Runs the check; `config_file` is the `--config` argument, for messages.
///
/// # Errors
///
/// A message when any finding is an error.
pub(super) fn run(
    config_file: Option<&Path>,
    inspection: &Inspection,
    json: bool,
) -> Result<(), Failure> {
    let loaded = &inspection.loaded;
    let mut table = redacted(loaded)?;
    // The defaults that stand in for invalid values are not what the operator configured.
    for problem in &inspection.problems {
        env::remove(&mut table, &problem.setting);
    }
    let findings = findings(config_file, inspection);
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    if json {
        let report = Report {
            config: &table,
            sources: loaded
                .sources
                .iter()
                .map(|(setting, source)| (setting.path.as_str(), source_name(source)))
                .collect(),
            findings: &findings,
            ok: errors == 0,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let file = config_file.map_or_else(
            || "no file (defaults)".to_owned(),
            |f| f.display().to_string(),
        );
        println!("# The effective configuration: {file}, then MAMORI_* environment variables.");
        println!("# A comment names where a value came from; none means the default.");
        print!("{}", annotated(&table, inspection));
        println!();
        for finding in &findings {
            let level = match finding.level {
                Level::Ok => "ok",
                Level::Warning => "warning",
                Level::Error => "error",
            };
            println!("# {level}: {}", finding.message);
        }
    }
    match errors {
        0 => Ok(()),
        n => Err(format!("the configuration has {n} error(s); `serve` would not start").into()),
    }
}

/// `networks`' blocks, comma-separated, as they are matched (an IPv4 block written as IPv6
/// shows as the IPv4 block it is).
fn listed(networks: &crate::config::Networks) -> String {
    Vec::<String>::from(networks.clone()).join(", ")
}

/// The effective configuration as TOML, with the secrets replaced by [`REDACTED`].
fn redacted(loaded: &Loaded) -> Result<toml::Table, Failure> {
    let mut table = env::to_table(&loaded.config)?;
    if let Some(toml::Value::String(url)) = table.get_mut("database_url") {
        *url = redact_url(url);
    }
    let password = table
        .get_mut("mail")
        .and_then(|mail| mail.get_mut("smtp"))
        .and_then(|smtp| smtp.get_mut("password"));
    if let Some(password) = password {
        *password = toml::Value::String(REDACTED.into());
    }
    Ok(table)
}

/// A database URL without its password: in the user part (`postgres://user:pw@host`) and in a
/// `password=` query parameter, both of which PostgreSQL accepts.
pub(super) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:{REDACTED}@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}={REDACTED}")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

fn source_name(source: &Source) -> String {
    match source {
        Source::Default => "default".into(),
        Source::File => "file".into(),
        Source::Env(var) => var.clone(),
    }
}

/// TOML text of `table`, one line per setting with its source as a comment, top-level settings
/// first and then each section (TOML needs them in that order). A setting whose value cannot be
/// used says so instead of showing the default that stands in for it.
fn annotated(table: &toml::Table, inspection: &Inspection) -> String {
    let loaded = &inspection.loaded;
    let invalid = |path: &str| inspection.problems.iter().any(|p| p.setting == path);
    let mut sections: Vec<&str> = vec![""];
    for (setting, _) in &loaded.sources {
        let section = setting.path.rsplit_once('.').map_or("", |(s, _)| s);
        if !sections.contains(&section) {
            sections.push(section);
        }
    }
    let mut out = String::new();
    for section in sections {
        if !section.is_empty() {
            out.push_str(&format!("\n[{section}]\n"));
        }
        for (setting, source) in &loaded.sources {
            let (parent, key) = setting.path.rsplit_once('.').unwrap_or(("", &setting.path));
            if parent != section {
                continue;
            }
            let comment = match source {
                Source::Default => String::new(),
                other => format!("  # {}", source_name(other)),
            };
            match lookup(table, &setting.path) {
                _ if invalid(&setting.path) => {
                    out.push_str(&format!("# {key} is invalid (see below){comment}\n"));
                }
                Some(value) => out.push_str(&format!("{key} = {value}{comment}\n")),
                None => out.push_str(&format!("# {key} is not set{comment}\n")),
            }
        }
    }
    out
}

fn lookup<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let value = table.get(first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        lookup(value.as_table()?, rest)
    }
}

/// Everything `serve` would trip over, and what deserves a look: first each value that cannot
/// be used, then the rest of the configuration as it stands without them.
fn findings(config_file: Option<&Path>, inspection: &Inspection) -> Vec<Finding> {
    let loaded = &inspection.loaded;
    let config = &loaded.config;
    let mut out = Vec::new();
    let mut add = |level, message: String| out.push(Finding { level, message });

    for problem in &inspection.problems {
        add(Level::Error, problem.error.to_string());
    }

    match &loaded.master_secret_from {
        Some(var) => add(
            Level::Ok,
            format!(
                "master secret: {REDACTED}, from {var} (64 hex digits); secrets_file is not read"
            ),
        ),
        None => match secrets::read_file(&config.secrets_file) {
            Ok(_) => {
                add(
                    Level::Ok,
                    format!(
                        "master secret: {REDACTED}, from {} (64 hex digits)",
                        config.secrets_file.display()
                    ),
                );
                if let Some(mode) = loose_mode(&config.secrets_file) {
                    add(
                        Level::Warning,
                        format!(
                            "{} has mode {mode:o}: other users can read the master secret \
                             (chmod 600 it)",
                            config.secrets_file.display()
                        ),
                    );
                }
            }
            Err(SecretsError::Missing(path)) => {
                add(Level::Error, super::missing_secrets(&path, config_file));
            }
            Err(e) => add(Level::Error, e.to_string()),
        },
    }

    match &config.widget_dir {
        Some(dir) => match WidgetFiles::load(dir) {
            Ok(_) => add(
                Level::Ok,
                format!("widget_dir {} holds a widget release", dir.display()),
            ),
            Err(e) => add(Level::Error, e.to_string()),
        },
        None => add(
            Level::Warning,
            "widget_dir is not set: /widget/ answers 404 (fine if the widget is hosted \
             elsewhere)"
                .into(),
        ),
    }

    match mailer_for(&config.mail) {
        Ok(_) => {
            let smtp = &config.mail.smtp;
            let tls = match smtp.tls {
                TlsMode::None => "no TLS",
                TlsMode::Starttls => "STARTTLS",
                TlsMode::Tls => "TLS",
            };
            add(
                Level::Ok,
                format!(
                    "mail: SMTP to {}:{} ({tls}), from {}",
                    smtp.host, smtp.port, config.mail.from
                ),
            );
        }
        Err(e) => add(Level::Error, e),
    }

    let proxies = &config.trusted_proxies;
    add(
        Level::Ok,
        if proxies.is_empty() {
            "client address: the peer's (no trusted_proxies; no header is read)".into()
        } else {
            format!(
                "client address: from a peer in trusted_proxies ({}), the rightmost {} entry \
                 that is not a trusted proxy's; from any other peer, the peer's",
                listed(proxies),
                config.forwarded_header()
            )
        },
    );

    let exempt = &config.rate_limits.admin_exempt_networks;
    add(
        Level::Ok,
        if exempt.is_empty() {
            "admin API: every client address is counted (no rate_limits.admin_exempt_networks)"
                .into()
        } else {
            format!(
                "admin API: never counted nor locked out: {} (rate_limits.admin_exempt_networks)",
                listed(exempt)
            )
        },
    );
    // A block of prefix 0 is every IPv4 or every IPv6 address: allowed (a verifier reachable
    // only through its proxies may mean it), but most often a slip such as `::ffff:0:0/96`,
    // which names the whole IPv4 range. Trusting every peer lets any client write its own
    // address; exempting every address turns the admin lockout off.
    for (setting, networks) in [
        ("trusted_proxies", proxies),
        ("rate_limits.admin_exempt_networks", exempt),
    ] {
        for block in networks.blocks().iter().filter(|b| b.is_everything()) {
            add(
                Level::Warning,
                format!(
                    "{setting} lists {block}, every address of its family (an IPv4 block \
                     written as IPv6, ::ffff:a.b.c.d/N, is the IPv4 block a.b.c.d/(N-96)); \
                     list the real blocks"
                ),
            );
        }
    }

    if config.public_url.starts_with("http://") {
        add(
            Level::Warning,
            format!(
                "public_url {} is not https: report links and the token issuer should use \
                 the TLS address cardholders and merchants see",
                config.public_url
            ),
        );
    }

    for var in &loaded.unknown {
        add(
            Level::Warning,
            format!("{var} names no setting and is ignored (a misspelling?)"),
        );
    }
    out
}

/// The file's permission bits when anyone but its owner may read or write it.
#[cfg(unix)]
fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_: &Path) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_leave_database_urls() {
        for (url, shown) in [
            ("sqlite://mamori.db", "sqlite://mamori.db"),
            (
                "postgres://mamori:hunter2@db:5432/mamori?sslmode=require",
                "postgres://mamori:<redacted>@db:5432/mamori?sslmode=require",
            ),
            ("postgres://mamori@db/mamori", "postgres://mamori@db/mamori"),
            (
                "postgresql://db/mamori?user=m&password=hunter2&sslmode=verify-full",
                "postgresql://db/mamori?user=m&password=<redacted>&sslmode=verify-full",
            ),
            ("postgres://u:p@ss@db/m", "postgres://u:<redacted>@db/m"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }
}
