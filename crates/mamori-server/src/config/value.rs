//! Setting values that validate while they parse: a [`Bounded`] integer, a [`BodyLimit`], a
//! [`PublicUrl`], a [`DatabaseUrl`], a [`HeaderName`]. Each is made only through a check (`TryFrom`, which serde
//! calls on deserialization, or a constant checked at compile time), so a configuration that
//! exists is in range and nothing downstream checks it again.
//!
//! A refusal says what the value must be, without the setting's name: the loader knows which
//! setting (or variable) it was reading and names it ([`super::env`]).

use std::fmt;
use std::ops::{Add, Deref, Sub};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a value cannot be a setting's: what it must be instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue(pub(super) String);

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidValue {}

/// An integer setting within `MIN..=MAX` (seconds or a count).
///
/// It reads as the integer it is where it is used: a Unix time plus or minus a `Bounded` number
/// of seconds is a Unix time (saturating, so a huge lifetime means "never" rather than an
/// overflow), and a count compares with it directly. [`Self::get`] gives the integer itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Bounded<const MIN: i64, const MAX: i64>(i64);

/// At least one: lifetimes, windows, attempts.
pub type Positive = Bounded<1, { i64::MAX }>;

/// Zero or more: cooldowns, overlaps, resends.
pub type NonNegative = Bounded<0, { i64::MAX }>;

/// A result token's lifetime: at most what `mamori-core` accepts (600 seconds).
pub type ResultTokenLifetime = Bounded<1, { seconds(mamori_core::token::RESULT_LIFETIME) }>;

/// A trusted device's lifetime: at most what `mamori-core` accepts (180 days).
pub type DeviceLifetime = Bounded<1, { seconds(mamori_core::token::DEVICE_LIFETIME) }>;

/// Connections a verifier instance opens to PostgreSQL for everything but the rate-limit counts:
/// at least four, so that each of the two sets they are split into (see
/// `store::PostgresStore::open_with`) has two and one slow statement never holds up a whole
/// path; at most 500, more than a PostgreSQL server is usually configured to accept in all.
pub type DatabaseConnections = Bounded<4, 500>;

/// Mails delivered at once: at least one, and few enough that a relay does not take them for
/// a flood (each is an SMTP connection held open in the pool).
pub type Concurrency = Bounded<1, 64>;

/// Seconds an outbox claim holds unless renewed: at least three, so that renewing every third
/// of it still leaves a whole second on a clock that counts whole seconds; at most an hour, so
/// a crashed worker's mail is sent again the same hour.
pub type Lease = Bounded<3, 3600>;

/// Seconds an SMTP exchange may take: at least one (zero would abandon every delivery at
/// once and count every send as hung), at most ten minutes.
pub type SmtpTimeout = Bounded<1, 600>;

/// Seconds a webhook delivery attempt may take: at least one, at most two minutes (an
/// endpoint is expected to answer at once and do its work afterwards).
pub type WebhookTimeout = Bounded<1, 120>;

/// Days a delivered or given-up webhook event is kept: at least one (a receiver asking about
/// yesterday's event can be told), at most ten years.
pub type WebhookRetention = Bounded<1, 3650>;

/// `mamori-core`'s unsigned seconds as a bound (saturating; its limits are far below).
const fn seconds(value: u64) -> i64 {
    if value > i64::MAX as u64 {
        i64::MAX
    } else {
        // In range: checked on the line above.
        value as i64
    }
}

impl<const MIN: i64, const MAX: i64> Bounded<MIN, MAX> {
    /// `value`, if it is within `MIN..=MAX`.
    ///
    /// # Errors
    ///
    /// [`InvalidValue`] saying what the value must be.
    pub fn new(value: i64) -> Result<Self, InvalidValue> {
        if (MIN..=MAX).contains(&value) {
            Ok(Self(value))
        } else {
            let must = match (MIN, MAX) {
                (1, i64::MAX) => "must be positive".to_owned(),
                (0, i64::MAX) => "must not be negative".to_owned(),
                (min, i64::MAX) => format!("must be at least {min}"),
                (min, max) => format!("must be {min}..={max}"),
            };
            Err(InvalidValue(format!("{must}, not {value}")))
        }
    }

    /// `VALUE`, checked when the program is compiled: for defaults and constants.
    pub const fn constant<const VALUE: i64>() -> Self {
        const { assert!(MIN <= VALUE && VALUE <= MAX, "the constant is out of range") };
        Self(VALUE)
    }

    /// The integer.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The value as a duration in seconds; for bounds that exclude negative values, which the
    /// compiler checks.
    pub const fn duration(self) -> Duration {
        const { assert!(MIN >= 0, "a duration cannot be negative") };
        Duration::from_secs(self.0.unsigned_abs())
    }
}

impl<const MIN: i64, const MAX: i64> TryFrom<i64> for Bounded<MIN, MAX> {
    type Error = InvalidValue;

    fn try_from(value: i64) -> Result<Self, InvalidValue> {
        Self::new(value)
    }
}

impl<const MIN: i64, const MAX: i64> From<Bounded<MIN, MAX>> for i64 {
    fn from(value: Bounded<MIN, MAX>) -> Self {
        value.0
    }
}

impl<const MIN: i64, const MAX: i64> TryFrom<Bounded<MIN, MAX>> for u64 {
    type Error = std::num::TryFromIntError;

    fn try_from(value: Bounded<MIN, MAX>) -> Result<Self, Self::Error> {
        Self::try_from(value.0)
    }
}

impl<const MIN: i64, const MAX: i64> fmt::Display for Bounded<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<const MIN: i64, const MAX: i64> Add<Bounded<MIN, MAX>> for i64 {
    type Output = Self;

    fn add(self, seconds: Bounded<MIN, MAX>) -> Self {
        self.saturating_add(seconds.0)
    }
}

impl<const MIN: i64, const MAX: i64> Sub<Bounded<MIN, MAX>> for i64 {
    type Output = Self;

    fn sub(self, seconds: Bounded<MIN, MAX>) -> Self {
        self.saturating_sub(seconds.0)
    }
}

impl<const MIN: i64, const MAX: i64> Sub<i64> for Bounded<MIN, MAX> {
    type Output = i64;

    fn sub(self, used: i64) -> i64 {
        self.0.saturating_sub(used)
    }
}

impl<const MIN: i64, const MAX: i64> PartialEq<i64> for Bounded<MIN, MAX> {
    fn eq(&self, other: &i64) -> bool {
        self.0 == *other
    }
}

impl<const MIN: i64, const MAX: i64> PartialEq<Bounded<MIN, MAX>> for i64 {
    fn eq(&self, other: &Bounded<MIN, MAX>) -> bool {
        *self == other.0
    }
}

impl<const MIN: i64, const MAX: i64> PartialOrd<i64> for Bounded<MIN, MAX> {
    fn partial_cmp(&self, other: &i64) -> Option<std::cmp::Ordering> {
        self.0.partial_cmp(other)
    }
}

impl<const MIN: i64, const MAX: i64> PartialOrd<Bounded<MIN, MAX>> for i64 {
    fn partial_cmp(&self, other: &Bounded<MIN, MAX>) -> Option<std::cmp::Ordering> {
        self.partial_cmp(&other.0)
    }
}

/// The largest request body, in bytes: at least [`Self::MIN`], so that every legitimate
/// request fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "usize", into = "usize")]
pub struct BodyLimit(usize);

impl BodyLimit {
    /// The smallest limit accepted.
    pub const MIN: usize = 1024;

    /// The default: 16 KiB.
    pub const DEFAULT: Self = Self(16 * 1024);

    /// The limit in bytes.
    pub const fn get(self) -> usize {
        self.0
    }
}

impl TryFrom<usize> for BodyLimit {
    type Error = InvalidValue;

    fn try_from(bytes: usize) -> Result<Self, InvalidValue> {
        if bytes >= Self::MIN {
            Ok(Self(bytes))
        } else {
            Err(InvalidValue(format!(
                "must be at least {}, not {bytes}",
                Self::MIN
            )))
        }
    }
}

impl From<BodyLimit> for usize {
    fn from(limit: BodyLimit) -> Self {
        limit.0
    }
}

impl PartialEq<usize> for BodyLimit {
    fn eq(&self, other: &usize) -> bool {
        self.0 == *other
    }
}

/// Text settings that are a checked string: read as `&str` through `Deref`.
macro_rules! checked_text {
    ($name:ident) => {
        impl TryFrom<&str> for $name {
            type Error = InvalidValue;

            fn try_from(text: &str) -> Result<Self, InvalidValue> {
                Self::try_from(text.to_owned())
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidValue;

            fn from_str(text: &str) -> Result<Self, InvalidValue> {
                Self::try_from(text)
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

/// The verifier's public base URL: `http://` or `https://`, a host, perhaps a path; no query,
/// fragment or whitespace, since tokens carry it as their issuer and links are built on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicUrl(String);

checked_text!(PublicUrl);

impl TryFrom<String> for PublicUrl {
    type Error = InvalidValue;

    fn try_from(url: String) -> Result<Self, InvalidValue> {
        let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        else {
            return Err(InvalidValue(format!(
                "{url:?} must start with http:// or https://"
            )));
        };
        if rest.split('/').next().is_none_or(str::is_empty) {
            return Err(InvalidValue(format!(
                "{url:?} must name a host after http(s)://"
            )));
        }
        if url.contains(['?', '#']) || url.contains(char::is_whitespace) {
            return Err(InvalidValue(format!(
                "{url:?} must be a base URL, without query, fragment or whitespace"
            )));
        }
        Ok(Self(url))
    }
}

impl Default for PublicUrl {
    /// `http://127.0.0.1:8080`, where `serve` listens by default.
    fn default() -> Self {
        Self("http://127.0.0.1:8080".into())
    }
}

impl fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the store is: `sqlite:…` or `postgres:…` / `postgresql:…`. It may hold a password,
/// so a refusal never repeats it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DatabaseUrl(String);

checked_text!(DatabaseUrl);

impl TryFrom<String> for DatabaseUrl {
    type Error = InvalidValue;

    fn try_from(url: String) -> Result<Self, InvalidValue> {
        if ["sqlite:", "postgres:", "postgresql:"]
            .iter()
            .any(|scheme| url.starts_with(scheme))
        {
            Ok(Self(url))
        } else {
            Err(InvalidValue(
                "must be sqlite://path or postgres://user@host/database".into(),
            ))
        }
    }
}

impl Default for DatabaseUrl {
    /// `sqlite://mamori.db`, beside the working directory.
    fn default() -> Self {
        Self("sqlite://mamori.db".into())
    }
}

/// An HTTP header's name (`client_ip_header`): valid, and lower-case as HTTP/2 sends it, so a
/// typo that no request could ever carry is refused instead of never matching.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HeaderName(axum::http::HeaderName);

impl HeaderName {
    /// `name`, which must be a valid lower-case header name: for constants.
    ///
    /// # Panics
    ///
    /// When it is not, as [`axum::http::HeaderName::from_static`] does.
    pub const fn from_static(name: &'static str) -> Self {
        Self(axum::http::HeaderName::from_static(name))
    }

    /// The name, lower-case.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl TryFrom<String> for HeaderName {
    type Error = InvalidValue;

    fn try_from(name: String) -> Result<Self, InvalidValue> {
        axum::http::HeaderName::from_bytes(name.as_bytes())
            .map(Self)
            .map_err(|_| InvalidValue(format!("{name:?} is not an HTTP header name")))
    }
}

impl From<HeaderName> for String {
    fn from(name: HeaderName) -> Self {
        name.0.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_integers_say_what_they_must_be() {
        assert_eq!(Positive::new(1).unwrap().get(), 1);
        assert_eq!(
            Positive::new(0).unwrap_err().to_string(),
            "must be positive, not 0"
        );
        assert_eq!(NonNegative::new(0).unwrap(), 0);
        assert_eq!(
            NonNegative::new(-1).unwrap_err().to_string(),
            "must not be negative, not -1"
        );
        assert_eq!(ResultTokenLifetime::new(600).unwrap(), 600);
        assert_eq!(
            ResultTokenLifetime::new(601).unwrap_err().to_string(),
            "must be 1..=600, not 601"
        );
        assert_eq!(
            DeviceLifetime::new(15_552_001).unwrap_err().to_string(),
            "must be 1..=15552000, not 15552001"
        );
        assert_eq!(
            DatabaseConnections::new(3).unwrap_err().to_string(),
            "must be 4..=500, not 3"
        );
        assert_eq!(
            Bounded::<10, { i64::MAX }>::new(9).unwrap_err().to_string(),
            "must be at least 10, not 9"
        );
    }

    #[test]
    fn bounded_integers_read_as_integers() {
        let lifetime = Positive::constant::<600>();
        assert_eq!(1_000 + lifetime, 1_600);
        assert_eq!(1_000 - lifetime, 400);
        assert_eq!(
            i64::MAX - 1 + lifetime,
            i64::MAX,
            "saturates: never, not overflow"
        );
        let attempts = Positive::constant::<5>();
        assert_eq!(attempts - 2, 3);
        assert!(5 >= attempts && 4 < attempts);
        assert!(attempts > 4 && attempts <= 5);
        assert_eq!(u64::try_from(lifetime), Ok(600));
        assert_eq!(lifetime.duration(), Duration::from_secs(600));
        assert_eq!(lifetime.to_string(), "600");
    }

    #[test]
    fn bounded_integers_are_checked_when_deserialized() {
        #[derive(Debug, Deserialize, Serialize)]
        struct Setting {
            value: ResultTokenLifetime,
        }
        let ok: Setting = toml::from_str("value = 600").unwrap();
        assert_eq!(ok.value, 600);
        assert_eq!(toml::to_string(&ok).unwrap(), "value = 600\n");
        let error = toml::from_str::<Setting>("value = 601").unwrap_err();
        assert!(error.message().contains("must be 1..=600"), "{error}");
    }

    #[test]
    fn body_limits_have_a_floor() {
        assert_eq!(BodyLimit::try_from(1024).unwrap().get(), 1024);
        assert_eq!(
            BodyLimit::try_from(1023).unwrap_err().to_string(),
            "must be at least 1024, not 1023"
        );
        assert_eq!(BodyLimit::DEFAULT, 16_384);
    }

    #[test]
    fn public_urls_are_http_base_urls() {
        for good in [
            "http://127.0.0.1:8080",
            "https://safekey.issuer.example",
            "https://issuer.example/safekey/",
        ] {
            let url = PublicUrl::try_from(good).unwrap();
            assert_eq!(url, good);
            assert!(url.starts_with("http"), "reads as a str");
        }
        for (bad, says) in [
            ("verify.example", "must start with http:// or https://"),
            ("ftp://verify.example", "must start with http"),
            ("https://", "must name a host"),
            ("https:///path", "must name a host"),
            ("https://verify.example/?x=1", "without query"),
            ("https://verify.example/#top", "fragment"),
            ("https://verify.example /", "whitespace"),
        ] {
            let error = PublicUrl::try_from(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn header_names_are_valid_and_lower_case() {
        let name = HeaderName::try_from(String::from("X-Forwarded-For")).unwrap();
        assert_eq!(name.as_str(), "x-forwarded-for");
        assert_eq!(name, HeaderName::from_static("x-forwarded-for"));
        for bad in ["", "x forwarded for", "x-forwarded-for:"] {
            let error = HeaderName::try_from(String::from(bad)).unwrap_err();
            assert!(
                error.to_string().contains("not an HTTP header name"),
                "{error}"
            );
        }
    }

    #[test]
    fn the_defaults_pass_their_own_checks() {
        let url = PublicUrl::default();
        assert_eq!(PublicUrl::try_from(String::from(url.clone())), Ok(url));
        let url = DatabaseUrl::default();
        assert_eq!(DatabaseUrl::try_from(String::from(url.clone())), Ok(url));
    }

    #[test]
    fn database_urls_name_a_backend_and_never_repeat_a_password() {
        for good in [
            "sqlite://mamori.db",
            "sqlite::memory:",
            "postgres://mamori@db/mamori",
            "postgresql://db/mamori?sslmode=require",
        ] {
            assert_eq!(DatabaseUrl::try_from(good).unwrap(), good);
        }
        let error = DatabaseUrl::try_from("mysql://root:hunter2@db/m")
            .unwrap_err()
            .to_string();
        assert!(error.contains("sqlite://path or postgres://"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }
}
