//! `MAMORI_*` environment variables over the configuration file.
//!
//! Every setting has a variable: its TOML path upper-cased, dots and all joined with `_`, after
//! `MAMORI_` — `listen` is `MAMORI_LISTEN`, `security.code_lifetime` is
//! `MAMORI_SECURITY_CODE_LIFETIME`, `mail.smtp.password` is `MAMORI_MAIL_SMTP_PASSWORD`. The
//! list is not written by hand: it is read off the configuration types themselves
//! ([`settings`]), so a new field has its variable the day it is added.
//!
//! A variable's value goes into the file's TOML table *before* the table is deserialized, so an
//! environment value passes exactly the parsing and checks a file value does; one that does
//! not is refused with the variable's name. Settings whose value is text (addresses, paths,
//! URLs, the enumerations) take the variable verbatim; so do lists (`trusted_proxies`), whose
//! variable is the items comma-separated (`MAMORI_TRUSTED_PROXIES=10.0.0.0/8,fd00::/8`); the
//! others (numbers) read it as a TOML value, so `MAMORI_SECURITY_CODE_LIFETIME=300` is the
//! integer 300.
//!
//! Settings that only make sense together are checked together once each is valid on its own
//! (`client_ip_header` without `trusted_proxies` is refused).
//!
//! Each setting is checked on its own — deserialized alone, so its error is about it and nothing
//! else — and every one that fails is reported, named by its path or its variable: an operator
//! fixes them all in one go ([`inspect`], which `mamori config check` shows in full).
//!
//! The secret-bearing settings — `database_url`, `mail.smtp.password` and the master secret —
//! also read `<NAME>_FILE`: the path of a file holding the value, as container secret mounts
//! and systemd credentials provide it. One trailing newline is dropped. A variable and its
//! `_FILE` twin together are refused: which should win would be a guess.
//!
//! Other variables starting with `MAMORI_` are left alone — tools and test harnesses have
//! their own (`MAMORI_BIN`, `MAMORI_TEST_POSTGRES_URL`) — and `mamori config check` lists them,
//! since a misspelt setting is one of them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError, DkimSettings, HeaderName, Invalid, MailConfig, SmtpConfig};
use crate::secrets::MasterSecret;

/// Every variable this module reads starts with this.
pub const PREFIX: &str = "MAMORI_";

/// The master secret, instead of the secrets file (64 hex digits).
pub const MASTER_SECRET: &str = "MAMORI_MASTER_SECRET";

/// Appended to a secret-bearing variable's name: its value is the content of that file.
pub const FILE_SUFFIX: &str = "_FILE";

/// The settings whose value is a secret: they accept `_FILE`, and `config check` redacts them.
pub const SECRET_SETTINGS: &[&str] = &["database_url", "mail.smtp.password"];

/// The `MAMORI_*` variables of a process (or of a test).
#[derive(Clone, Default)]
pub struct Environment(BTreeMap<String, String>);

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: some values are secrets.
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Environment {
    /// The process's variables that start with `MAMORI_`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Env`] for such a variable whose value is not UTF-8.
    pub fn from_process() -> Result<Self, ConfigError> {
        let mut vars = BTreeMap::new();
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().filter(|n| n.starts_with(PREFIX)) else {
                continue;
            };
            let value = value.into_string().map_err(|_| ConfigError::Env {
                var: name.to_owned(),
                problem: "the value is not UTF-8".into(),
            })?;
            vars.insert(name.to_owned(), value);
        }
        Ok(Self(vars))
    }

    /// An environment with exactly these variables (for tests and embedding).
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .filter(|(k, _)| k.starts_with(PREFIX))
                .collect(),
        )
    }

    /// The value of `var`, or with `file_twin` the content of the file `<var>_FILE` names,
    /// with the name of the variable it came from.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Env`] when both are set or the file cannot be read.
    fn lookup(&self, var: &str, file_twin: bool) -> Result<Option<(String, String)>, ConfigError> {
        let direct = self.0.get(var);
        let file_var = format!("{var}{FILE_SUFFIX}");
        let file = if file_twin {
            self.0.get(&file_var)
        } else {
            None
        };
        match (direct, file) {
            (Some(_), Some(_)) => Err(ConfigError::Env {
                var: var.to_owned(),
                problem: format!("set {var} or {file_var}, not both"),
            }),
            (Some(value), None) => Ok(Some((var.to_owned(), value.clone()))),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Env {
                    var: file_var.clone(),
                    problem: format!("cannot read {path}: {e}"),
                })?;
                // Files end with a newline; a secret does not.
                let value = text
                    .strip_suffix('\n')
                    .map_or(text.as_str(), |t| t.strip_suffix('\r').unwrap_or(t));
                Ok(Some((file_var, value.to_owned())))
            }
            (None, None) => Ok(None),
        }
    }
}

/// One setting of [`Config`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// Its dotted TOML path, e.g. `mail.smtp.port`.
    pub path: String,
    /// Its environment variable, e.g. `MAMORI_MAIL_SMTP_PORT`.
    pub var: String,
    /// Whether its value is text (or a list, read from comma-separated text), taken verbatim
    /// from the variable.
    pub text: bool,
    /// Whether it is a secret (accepts `_FILE`, redacted when shown).
    pub secret: bool,
}

/// The variable of a dotted path: `mail.smtp.port` → `MAMORI_MAIL_SMTP_PORT`.
pub fn var_name(path: &str) -> String {
    format!("{PREFIX}{}", path.replace('.', "_").to_ascii_uppercase())
}

/// Every setting of [`Config`], in file order.
///
/// Read off a configuration with every optional field set, serialized to TOML: each leaf is a
/// setting, and its TOML type says whether the variable is text.
///
/// # Errors
///
/// [`ConfigError::Parse`] if the configuration cannot be serialized, which would be a bug.
pub fn settings() -> Result<Vec<Setting>, ConfigError> {
    let table = to_table(&probe())?;
    let mut out = Vec::new();
    collect(&table, "", &mut out);
    Ok(out)
}

/// A configuration whose every `Option` is `Some`, so that serializing it shows every field.
///
/// A new optional field must be set here; `every_setting_is_documented` in the tests fails
/// until it is, because the README lists it and [`settings`] then does not.
fn probe() -> Config {
    let some = || Some(PathBuf::new());
    Config {
        widget_dir: some(),
        client_ip_header: Some(HeaderName::from_static("x-forwarded-for")),
        mail: MailConfig {
            smtp: SmtpConfig {
                username: Some(String::new()),
                password: Some(String::new()),
                ca_file: some(),
                ..SmtpConfig::default()
            },
            dkim: DkimSettings {
                key_file: some(),
                ..DkimSettings::default()
            },
            ..MailConfig::default()
        },
        ..Config::default()
    }
}

fn collect(table: &toml::Table, prefix: &str, out: &mut Vec<Setting>) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => collect(inner, &path, out),
            value => out.push(Setting {
                var: var_name(&path),
                // A list's type reads the variable's comma-separated text itself.
                text: value.is_str() || value.is_array(),
                secret: SECRET_SETTINGS.contains(&path.as_str()),
                path,
            }),
        }
    }
}

/// `config` as a TOML table.
///
/// # Errors
///
/// [`ConfigError::Parse`] if it cannot be serialized (a path that is not UTF-8).
pub fn to_table(config: &Config) -> Result<toml::Table, ConfigError> {
    toml::Table::try_from(config).map_err(|e| ConfigError::Parse(e.to_string()))
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Nobody set it.
    Default,
    /// The configuration file.
    File,
    /// This environment variable (perhaps a `_FILE` one).
    Env(String),
}

/// The configuration as the file and the environment make it, with where each value came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration, every value checked.
    pub config: Config,
    /// Each setting's path and source, in file order.
    pub sources: Vec<(Setting, Source)>,
    /// The variable the master secret came from, when not from the secrets file.
    pub master_secret_from: Option<String>,
    /// `MAMORI_*` variables that name no setting (ignored).
    pub unknown: Vec<String>,
}

/// A setting whose value (from the file or a variable) cannot be used.
#[derive(Debug)]
pub struct Problem {
    /// The setting's dotted path (`master_secret` for the master secret's variables).
    pub setting: String,
    /// What is wrong, naming the setting or the variable.
    pub error: ConfigError,
}

/// What [`inspect`] makes of a configuration: everything usable, and every problem.
#[derive(Debug)]
pub struct Inspection {
    /// The configuration with each setting that has a problem left at its default.
    pub loaded: Loaded,
    /// The settings that cannot be used, in file order.
    pub problems: Vec<Problem>,
}

impl Inspection {
    /// The configuration, if no setting has a problem.
    ///
    /// # Errors
    ///
    /// The problem, or [`ConfigError::Several`] listing them all.
    pub fn into_loaded(self) -> Result<Loaded, ConfigError> {
        ConfigError::any(self.problems.into_iter().map(|p| p.error).collect())?;
        Ok(self.loaded)
    }
}

/// Reads `file` (if any), lays `env` over it and checks every value: what every command but
/// `config check` runs on.
///
/// # Errors
///
/// [`ConfigError`]: the file unreadable or malformed, or the values that cannot be used, each
/// naming its setting or, when the environment set it, its variable.
pub fn load(file: Option<&Path>, env: &Environment) -> Result<Loaded, ConfigError> {
    inspect(file, env)?.into_loaded()
}

/// [`load`] without stopping at invalid values: they are left at their defaults and listed,
/// so that `mamori config check` can show them all beside everything else it checks.
///
/// # Errors
///
/// [`ConfigError`] when no configuration can be made at all: the file unreadable or not TOML,
/// a setting that is not one (an unknown field, a value where a table belongs).
pub fn inspect(file: Option<&Path>, env: &Environment) -> Result<Inspection, ConfigError> {
    let table = match file {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| ConfigError::Read(path.into(), e))?;
            text.parse::<toml::Table>()
                .map_err(|e| ConfigError::Parse(e.to_string()))?
        }
        None => toml::Table::new(),
    };
    inspect_table(table, env)
}

/// [`inspect`] of TOML already parsed.
///
/// # Errors
///
/// As [`inspect`].
pub(super) fn inspect_table(
    mut table: toml::Table,
    env: &Environment,
) -> Result<Inspection, ConfigError> {
    let settings = settings()?;
    let mut sources = Vec::with_capacity(settings.len());
    let mut problems = Vec::new();
    for setting in settings {
        let (source, error) = overlay(&mut table, &setting, env)?;
        let error = error.or_else(|| {
            let value = lookup_path(&table, &setting.path)?;
            let problem = check_alone(&setting.path, value.clone()).err()?;
            Some(match &source {
                Source::Env(var) => ConfigError::Env {
                    var: var.clone(),
                    problem,
                },
                Source::File | Source::Default => ConfigError::Invalid(Invalid {
                    setting: setting.path.clone(),
                    problem,
                }),
            })
        });
        if let Some(error) = error {
            // Left out, so that the other settings still make a configuration to show.
            remove(&mut table, &setting.path);
            problems.push(Problem {
                setting: setting.path.clone(),
                error,
            });
        }
        sources.push((setting, source));
    }
    let mut config = match table.try_into::<Config>() {
        Ok(config) => config,
        // Not a value out of range but a shape that is no configuration (an unknown field, a
        // value where a table belongs): nothing to show, only what is wrong.
        Err(e) => {
            let parse = ConfigError::Parse(e.to_string());
            if problems.is_empty() {
                return Err(parse);
            }
            let mut all: Vec<ConfigError> = problems.into_iter().map(|p| p.error).collect();
            all.push(parse);
            return Err(ConfigError::Several(all));
        }
    };

    problems.extend(related(&config, &sources));

    let master_secret_from = match env.lookup(MASTER_SECRET, true) {
        Ok(Some((var, value))) => match MasterSecret::parse(&value) {
            Some(secret) => {
                config.master_secret = Some(secret);
                Some(var)
            }
            None => {
                problems.push(Problem {
                    setting: "master_secret".into(),
                    error: ConfigError::Env {
                        var: var.clone(),
                        problem: "the master secret must be 64 hex digits (32 bytes from a \
                                  CSPRNG, e.g. the content of a file `mamori init` wrote)"
                            .into(),
                    },
                });
                Some(var)
            }
        },
        Ok(None) => None,
        Err(error) => {
            problems.push(Problem {
                setting: "master_secret".into(),
                error,
            });
            None
        }
    };

    let known = |name: &str| {
        let base = name.strip_suffix(FILE_SUFFIX);
        name == MASTER_SECRET
            || base == Some(MASTER_SECRET)
            || sources
                .iter()
                .any(|(s, _)| s.var == name || (s.secret && base == Some(s.var.as_str())))
    };
    let unknown = env.0.keys().filter(|n| !known(n)).cloned().collect();
    Ok(Inspection {
        loaded: Loaded {
            config,
            sources,
            master_secret_from,
            unknown,
        },
        problems,
    })
}

/// The problems of settings that are valid alone but not together, each under the setting
/// at fault and named as it was set (its path, or its variable).
fn related(config: &Config, sources: &[(Setting, Source)]) -> Vec<Problem> {
    let mut problems = Vec::new();
    if config.client_ip_header.is_some() && config.trusted_proxies.is_empty() {
        let setting = "client_ip_header";
        let problem = "is set but trusted_proxies is empty: the header is read only from \
                       trusted proxies; list their address blocks in trusted_proxies (or \
                       remove client_ip_header to use the peer address)"
            .to_owned();
        let source = sources.iter().find(|(s, _)| s.path == setting);
        let error = match source {
            Some((_, Source::Env(var))) => ConfigError::Env {
                var: var.clone(),
                problem,
            },
            _ => ConfigError::Invalid(Invalid {
                setting: setting.into(),
                problem,
            }),
        };
        problems.push(Problem {
            setting: setting.into(),
            error,
        });
    }
    problems
}

/// Puts `setting`'s variable, if set, into `table`: its source, and the error when the variable
/// cannot be read or its value is not even of the setting's TOML type.
///
/// # Errors
///
/// [`ConfigError::Parse`] when a table on the setting's path is something else in the file.
fn overlay(
    table: &mut toml::Table,
    setting: &Setting,
    env: &Environment,
) -> Result<(Source, Option<ConfigError>), ConfigError> {
    match env.lookup(&setting.var, setting.secret) {
        Ok(Some((var, value))) => match env_value(setting, &var, value) {
            Ok(value) => {
                insert(table, &setting.path, value)?;
                Ok((Source::Env(var), None))
            }
            Err(error) => Ok((Source::Env(var), Some(error))),
        },
        Ok(None) if lookup_path(table, &setting.path).is_some() => Ok((Source::File, None)),
        Ok(None) => Ok((Source::Default, None)),
        Err(error) => Ok((Source::Env(setting.var.clone()), Some(error))),
    }
}

/// A variable's value as the TOML value of its setting.
fn env_value(setting: &Setting, var: &str, value: String) -> Result<toml::Value, ConfigError> {
    if setting.text {
        return Ok(toml::Value::String(value));
    }
    value
        .trim()
        .parse::<toml::Value>()
        .map_err(|_| ConfigError::Env {
            var: var.to_owned(),
            problem: format!("{value:?} is not a number"),
        })
}

/// Why `value` cannot be the setting at `path`, if it cannot: the same deserialization the whole
/// configuration gets, on a table holding only this setting (every other field has a default),
/// so the error is about this value and nothing else.
fn check_alone(path: &str, value: toml::Value) -> Result<(), String> {
    let mut alone = toml::Table::new();
    insert(&mut alone, path, value).map_err(|e| e.to_string())?;
    alone
        .try_into::<Config>()
        .map(drop)
        .map_err(|e| e.message().trim().to_owned())
}

/// Sets `path` in `table`, making the tables on the way.
fn insert(table: &mut toml::Table, path: &str, value: toml::Value) -> Result<(), ConfigError> {
    let mut parts = path.split('.').peekable();
    let mut current = table;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return Ok(());
        }
        let next = current
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = next
            .as_table_mut()
            .ok_or_else(|| ConfigError::Parse(format!("`{part}` must be a table ([{part}])")))?;
    }
    Ok(())
}

/// Removes the setting at the dotted `path` from `table`, if it is there.
pub(crate) fn remove(table: &mut toml::Table, path: &str) {
    match path.split_once('.') {
        Some((first, rest)) => {
            if let Some(inner) = table.get_mut(first).and_then(toml::Value::as_table_mut) {
                remove(inner, rest);
            }
        }
        None => {
            table.remove(path);
        }
    }
}

fn lookup_path<'a>(table: &'a toml::Table, path: &str) -> Option<&'a toml::Value> {
    let (first, rest) = path.split_once('.').unwrap_or((path, ""));
    let value = table.get(first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        lookup_path(value.as_table()?, rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Delivery, LogFormat};

    fn load_with(file: &str, vars: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mamori.toml");
        std::fs::write(&path, file).unwrap();
        load(Some(&path), &Environment::from_pairs(vars.iter().copied()))
    }

    #[test]
    fn every_field_has_a_variable() {
        let settings = settings().unwrap();
        let vars: Vec<&str> = settings.iter().map(|s| s.var.as_str()).collect();
        for var in [
            "MAMORI_LISTEN",
            "MAMORI_DATABASE_URL",
            "MAMORI_DATABASE_CONNECTIONS",
            "MAMORI_PUBLIC_URL",
            "MAMORI_SECRETS_FILE",
            "MAMORI_WIDGET_DIR",
            "MAMORI_TRUSTED_PROXIES",
            "MAMORI_RATE_LIMITS_ADMIN_EXEMPT_NETWORKS",
            "MAMORI_CLIENT_IP_HEADER",
            "MAMORI_LOG_FORMAT",
            "MAMORI_SECURITY_CODE_LIFETIME",
            "MAMORI_RISK_SIMILARITY_THRESHOLD",
            "MAMORI_RISK_WEIGHT_TIMEZONE",
            "MAMORI_MAIL_DELIVERY",
            "MAMORI_MAIL_POLL_INTERVAL",
            "MAMORI_MAIL_SMTP_HOST",
            "MAMORI_MAIL_SMTP_USERNAME",
            "MAMORI_MAIL_SMTP_PASSWORD",
            "MAMORI_MAIL_SMTP_TIMEOUT",
            "MAMORI_WEBHOOKS_TIMEOUT",
            "MAMORI_WEBHOOKS_CONCURRENCY",
            "MAMORI_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES",
            "MAMORI_WEBHOOKS_RETENTION",
        ] {
            assert!(vars.contains(&var), "{var} missing from {vars:?}");
        }
        let mut unique = vars.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), vars.len(), "two settings share a variable");
        let secret: Vec<&str> = settings
            .iter()
            .filter(|s| s.secret)
            .map(|s| s.path.as_str())
            .collect();
        assert_eq!(secret, ["database_url", "mail.smtp.password"]);
    }

    #[test]
    fn every_setting_is_documented() {
        // The README's configuration block lists every setting (optional ones commented out);
        // the environment reads exactly those.
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\nlisten").unwrap() + "```toml\n".len();
        let block = &readme[start..];
        let block = &block[..block.find("```").unwrap()];
        let mut section = String::new();
        let mut documented = Vec::new();
        for line in block.lines() {
            let line = line.strip_prefix("# ").unwrap_or(line);
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = format!("{name}.");
            } else if let Some((key, _)) = line.split_once(" = ") {
                if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    documented.push(format!("{section}{key}"));
                }
            }
        }
        let mut settings: Vec<String> = settings().unwrap().into_iter().map(|s| s.path).collect();
        settings.sort();
        documented.sort();
        assert_eq!(documented, settings);
    }

    #[test]
    fn the_environment_wins_over_the_file() {
        let loaded = load_with(
            "listen = \"127.0.0.1:9000\"\nlog_format = \"json\"\n[security]\ncode_lifetime = 60\n",
            &[
                ("MAMORI_LISTEN", "0.0.0.0:8443"),
                ("MAMORI_SECURITY_CODE_LIFETIME", " 300 "),
                ("MAMORI_MAIL_DELIVERY", "mailbox"),
                ("MAMORI_MAIL_SMTP_PORT", "587"),
                ("MAMORI_WIDGET_DIR", "/usr/share/mamori/widget"),
                ("MAMORI_RISK_VELOCITY_IP", "99"),
            ],
        )
        .unwrap();
        let c = &loaded.config;
        assert_eq!(c.listen.to_string(), "0.0.0.0:8443");
        assert_eq!(c.log_format, LogFormat::Json, "file values stay");
        assert_eq!(c.security.code_lifetime, 300);
        assert_eq!(c.security.max_attempts, 5, "defaults stay");
        assert_eq!(c.mail.delivery, Delivery::Mailbox);
        assert_eq!(c.mail.smtp.port, 587);
        assert_eq!(c.risk.velocity_ip, 99);
        assert_eq!(
            c.widget_dir.as_deref(),
            Some(Path::new("/usr/share/mamori/widget"))
        );
        let source = |path: &str| {
            loaded
                .sources
                .iter()
                .find(|(s, _)| s.path == path)
                .map(|(_, source)| source.clone())
                .unwrap()
        };
        assert_eq!(source("listen"), Source::Env("MAMORI_LISTEN".into()));
        assert_eq!(source("log_format"), Source::File);
        assert_eq!(source("public_url"), Source::Default);
    }

    #[test]
    fn no_file_and_no_variables_is_the_defaults() {
        let loaded = load(None, &Environment::default()).unwrap();
        assert_eq!(loaded.config, Config::default());
        assert!(loaded.unknown.is_empty());
        assert!(loaded.master_secret_from.is_none());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (var, value, says) in [
            ("MAMORI_LISTEN", "not an address", "socket address"),
            (
                "MAMORI_SECURITY_CODE_LIFETIME",
                "ten minutes",
                "not a number",
            ),
            ("MAMORI_SECURITY_BODY_LIMIT", "-1", "usize"),
            ("MAMORI_MAIL_SMTP_PORT", "70000", "u16"),
            ("MAMORI_LOG_FORMAT", "yaml", "yaml"),
            ("MAMORI_SECURITY_RESULT_TOKEN_LIFETIME", "601", "1..=600"),
            ("MAMORI_DATABASE_CONNECTIONS", "2", "4..=500"),
            ("MAMORI_PUBLIC_URL", "verify.example", "http"),
        ] {
            let error = load_with("", &[(var, value)]).unwrap_err();
            let text = error.to_string();
            assert!(
                matches!(&error, ConfigError::Env { var: v, .. } if v == var),
                "{var}: {text}"
            );
            assert!(text.contains(var) && text.contains(says), "{var}: {text}");
        }
        // A range violated by the file names the setting, not a variable.
        let error = load_with("[security]\nresult_token_lifetime = 601\n", &[]).unwrap_err();
        assert!(matches!(error, ConfigError::Invalid(_)), "{error}");
    }

    #[test]
    fn every_bad_value_is_reported_by_name() {
        let file = "public_url = \"verify.example\"\n[security]\nmax_attempts = 0\n\
                    result_token_lifetime = 601\n[mail]\npoll_interval = 0\n";
        let vars = [
            ("MAMORI_SECURITY_KEY_OVERLAP", "-1"),
            ("MAMORI_DATABASE_URL", "mysql://root:hunter2@db/m"),
            ("MAMORI_MASTER_SECRET", "abcd"),
        ];
        let error = load_with(file, &vars).unwrap_err();
        let ConfigError::Several(all) = &error else {
            panic!("{error}");
        };
        assert_eq!(all.len(), 7, "{error}");
        let text = error.to_string();
        for says in [
            "MAMORI_DATABASE_URL: must be sqlite://path or postgres://",
            "public_url: \"verify.example\" must start with http:// or https://",
            "security.max_attempts: must be positive, not 0",
            "security.result_token_lifetime: must be 1..=600, not 601",
            "MAMORI_SECURITY_KEY_OVERLAP: must not be negative, not -1",
            "mail.poll_interval: must be positive, not 0",
            "MAMORI_MASTER_SECRET: the master secret must be 64 hex digits",
        ] {
            assert!(text.contains(says), "{says}: {text}");
        }
        assert!(
            !text.contains("hunter2") && !text.contains("abcd"),
            "{text}"
        );

        // `inspect` goes on: the rest is read, the bad values are left at their defaults.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mamori.toml");
        std::fs::write(&path, format!("listen = \"0.0.0.0:9000\"\n{file}")).unwrap();
        let inspection = inspect(Some(&path), &Environment::from_pairs(vars)).unwrap();
        let invalid: Vec<&str> = inspection
            .problems
            .iter()
            .map(|p| p.setting.as_str())
            .collect();
        assert_eq!(
            invalid,
            [
                "database_url",
                "mail.poll_interval",
                "public_url",
                "security.key_overlap",
                "security.max_attempts",
                "security.result_token_lifetime",
                "master_secret",
            ]
        );
        let c = &inspection.loaded.config;
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(
            c.security.max_attempts,
            Config::default().security.max_attempts
        );
        assert!(inspection.into_loaded().is_err());

        // A shape that is no configuration stops `inspect` too, with the values' problems.
        let error = load_with("nope = 1\n[security]\nmax_attempts = 0\n", &[]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("max_attempts") && text.contains("unknown field `nope`"),
            "{text}"
        );
    }

    #[test]
    fn secrets_come_from_files_too() {
        let dir = tempfile::tempdir().unwrap();
        let password = dir.path().join("smtp-password");
        std::fs::write(&password, "s3cret with spaces \n").unwrap();
        let url = dir.path().join("database-url");
        std::fs::write(&url, "postgres://mamori:pw@db/mamori\r\n").unwrap();
        let master = dir.path().join("master");
        std::fs::write(&master, format!("{}\n", "ab".repeat(32))).unwrap();
        let loaded = load_with(
            "",
            &[
                ("MAMORI_MAIL_SMTP_PASSWORD_FILE", password.to_str().unwrap()),
                ("MAMORI_DATABASE_URL_FILE", url.to_str().unwrap()),
                ("MAMORI_MASTER_SECRET_FILE", master.to_str().unwrap()),
            ],
        )
        .unwrap();
        let c = &loaded.config;
        assert_eq!(c.mail.smtp.password.as_deref(), Some("s3cret with spaces "));
        assert_eq!(c.database_url, "postgres://mamori:pw@db/mamori");
        assert_eq!(c.master_secret, MasterSecret::parse(&"ab".repeat(32)));
        assert_eq!(
            loaded.master_secret_from.as_deref(),
            Some("MAMORI_MASTER_SECRET_FILE")
        );
        assert!(loaded.unknown.is_empty(), "{:?}", loaded.unknown);

        let both = load_with(
            "",
            &[
                ("MAMORI_DATABASE_URL", "sqlite://x.db"),
                ("MAMORI_DATABASE_URL_FILE", url.to_str().unwrap()),
            ],
        )
        .unwrap_err();
        assert!(both.to_string().contains("not both"), "{both}");
        let missing =
            load_with("", &[("MAMORI_MAIL_SMTP_PASSWORD_FILE", "/nonexistent/pw")]).unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("MAMORI_MAIL_SMTP_PASSWORD_FILE"),
            "{missing}"
        );
        let short = load_with("", &[("MAMORI_MASTER_SECRET", "abcd")]).unwrap_err();
        assert!(
            short.to_string().contains("MAMORI_MASTER_SECRET")
                && !short.to_string().contains("abcd"),
            "{short}"
        );
    }

    #[test]
    fn other_mamori_variables_are_ignored_and_listed() {
        let loaded = load_with(
            "",
            &[
                ("MAMORI_BIN", "/usr/bin/mamori"),
                ("MAMORI_TEST_POSTGRES_URL", "postgres://x"),
                ("MAMORI_LISTN", "0.0.0.0:1"),
                ("MAMORI_LISTEN_FILE", "/x"),
                ("MAMORI_MASTER_SECRET", &"00".repeat(32)),
                ("PATH", "/bin"),
            ],
        )
        .unwrap();
        assert_eq!(loaded.config.listen, Config::default().listen);
        assert_eq!(
            loaded.unknown,
            [
                "MAMORI_BIN",
                "MAMORI_LISTEN_FILE",
                "MAMORI_LISTN",
                "MAMORI_TEST_POSTGRES_URL"
            ]
        );
    }

    #[test]
    fn trusted_proxies_are_a_list_in_the_file_and_commas_in_a_variable() {
        let proxies = |loaded: &Loaded| Vec::<String>::from(loaded.config.trusted_proxies.clone());
        let loaded = load_with("trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n", &[]).unwrap();
        assert_eq!(proxies(&loaded), ["10.0.0.0/8", "::1/128"]);
        let loaded = load_with(
            "trusted_proxies = [\"10.0.0.0/8\"]\n",
            &[("MAMORI_TRUSTED_PROXIES", "192.168.0.0/16, fd00::/8")],
        )
        .unwrap();
        assert_eq!(proxies(&loaded), ["192.168.0.0/16", "fd00::/8"]);

        let error = load_with("", &[("MAMORI_TRUSTED_PROXIES", "10.0.0.0/8,10.0.0.1/8")])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("MAMORI_TRUSTED_PROXIES") && error.contains("\"10.0.0.1/8\" has bits"),
            "{error}"
        );
        let error = load_with("trusted_proxies = [\"proxy\"]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("trusted_proxies: \"proxy\" is not"),
            "{error}"
        );
    }

    #[test]
    fn admin_exempt_networks_read_like_trusted_proxies() {
        let exempt = |loaded: &Loaded| {
            Vec::<String>::from(loaded.config.rate_limits.admin_exempt_networks.clone())
        };
        let loaded = load_with(
            "[rate_limits]\nadmin_exempt_networks = [\"10.20.0.0/16\"]\n",
            &[],
        )
        .unwrap();
        assert_eq!(exempt(&loaded), ["10.20.0.0/16"]);
        let loaded = load_with(
            "",
            &[(
                "MAMORI_RATE_LIMITS_ADMIN_EXEMPT_NETWORKS",
                "10.20.0.0/16, 2001:db8::/48",
            )],
        )
        .unwrap();
        assert_eq!(exempt(&loaded), ["10.20.0.0/16", "2001:db8::/48"]);
        let error = load_with(
            "",
            &[("MAMORI_RATE_LIMITS_ADMIN_EXEMPT_NETWORKS", "10.20.0.1/16")],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("has bits set after its prefix"), "{error}");
    }

    #[test]
    fn a_client_ip_header_needs_trusted_proxies() {
        let error = load_with("client_ip_header = \"x-forwarded-for\"\n", &[]).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid(i) if i.setting == "client_ip_header"),
            "{error}"
        );
        assert!(
            error.to_string().contains("trusted_proxies is empty"),
            "{error}"
        );
        let error = load_with("", &[("MAMORI_CLIENT_IP_HEADER", "x-real-ip")]).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Env { var, .. } if var == "MAMORI_CLIENT_IP_HEADER"),
            "{error}"
        );

        let loaded = load_with(
            "client_ip_header = \"X-Real-IP\"\n",
            &[("MAMORI_TRUSTED_PROXIES", "10.0.0.0/8")],
        )
        .unwrap();
        assert_eq!(loaded.config.forwarded_header(), "x-real-ip");
        let loaded = load_with("trusted_proxies = [\"10.0.0.0/8\"]\n", &[]).unwrap();
        assert_eq!(loaded.config.forwarded_header(), "x-forwarded-for");
    }
}
