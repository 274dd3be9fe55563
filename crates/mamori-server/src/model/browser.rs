//! What the widget reports about the browser, as types that hold only what they claim to be.
//!
//! The widget's `language`, `timezone` and `user_agent` are whatever the page (or anyone with
//! the client secret) sends. They are stored, compared by the risk engine, and the first two are
//! copied into the cardholder's fraud-alert mail; so a value is kept only if it is what it
//! says — a [`LanguageTag`], a [`TimeZone`] — and a value that is not is **dropped**, not
//! refused: the purchase goes on without that evidence, as when a browser sends none. Nothing a
//! browser types then reaches a mail as prose ("Call +1-800-…", a link, a bidi override).
//!
//! The [`UserAgent`] is kept for the record (bounded, without control characters) but can only
//! be shown as its [`Browser`] family: it has no `Display`.
//!
//! Stored values are read back through the same parsers ([`BrowserInfo::from_stored`]): a row
//! written before these rules, whose value no longer parses, reads as absent, not as corrupt.

use std::fmt;
use std::sync::LazyLock;

use mamori_core::fingerprint::Browser;

/// What the widget reported about the browser; each fact absent when not sent or not valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowserInfo {
    /// `navigator.language`.
    pub language: Option<LanguageTag>,
    /// `Intl.DateTimeFormat().resolvedOptions().timeZone`.
    pub timezone: Option<TimeZone>,
    /// `navigator.userAgent`.
    pub user_agent: Option<UserAgent>,
}

impl BrowserInfo {
    /// The facts as the widget sent them, each kept only if it parses.
    pub fn parse(language: Option<&str>, timezone: Option<&str>, user_agent: Option<&str>) -> Self {
        Self {
            language: language.and_then(LanguageTag::parse),
            timezone: timezone.and_then(TimeZone::parse),
            user_agent: user_agent.and_then(UserAgent::parse),
        }
    }

    /// The facts as a row stores them: the same parsing as [`Self::parse`], so that a value
    /// stored before a rule existed reads as absent.
    pub fn from_stored(
        language: Option<String>,
        timezone: Option<String>,
        user_agent: Option<String>,
    ) -> Self {
        Self::parse(
            language.as_deref(),
            timezone.as_deref(),
            user_agent.as_deref(),
        )
    }

    /// The browser family of the user agent, if one was sent.
    pub fn family(&self) -> Option<Browser> {
        self.user_agent.as_ref().map(UserAgent::family)
    }
}

/// A BCP 47 language tag (RFC 5646) of the form browsers report in `navigator.language`, in
/// the case BCP 47 recommends: `ja`, `ja-JP`, `zh-Hant-TW`, `es-419`, `de-CH-1996`.
///
/// The subset of RFC 5646's well-formed syntax accepted, subtags separated by `-`:
///
/// - language: 2–3 letters, or 5–8 (registered languages); lower-case. No extended language
///   subtags (`zh-yue`), which browsers do not send.
/// - script, optional: 4 letters; title-case (`Hant`).
/// - region, optional: 2 letters (upper-case) or 3 digits (`419`).
/// - variants, any number: 5–8 letters or digits, or a digit and 3 letters or digits;
///   lower-case.
/// - at most 35 characters in all, the length RFC 5646 (section 4.4.1) asks implementations
///   to keep for such a tag.
///
/// Refused: extensions (`-u-…`) and private use (`-x-…`), grandfathered tags (`i-klingon`),
/// `_` as a separator, and anything else — URLs, digits, spaces, non-ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    /// The longest tag kept.
    pub const MAX_LEN: usize = 35;

    /// `text` as a tag in its canonical case, if it is one of the subset above.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > Self::MAX_LEN || !text.is_ascii() {
            return None;
        }
        let mut subtags = text.split('-').peekable();
        let mut tag = String::with_capacity(text.len());
        let language = subtags.next()?;
        if !(matches!(language.len(), 2 | 3 | 5..=8) && alpha(language)) {
            return None;
        }
        tag.push_str(&language.to_ascii_lowercase());
        if let Some(script) = subtags.next_if(|s| s.len() == 4 && alpha(s)) {
            tag.push('-');
            tag.push_str(&script[..1].to_ascii_uppercase());
            tag.push_str(&script[1..].to_ascii_lowercase());
        }
        if let Some(region) = subtags.next_if(|s| {
            (s.len() == 2 && alpha(s)) || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        }) {
            tag.push('-');
            tag.push_str(&region.to_ascii_uppercase());
        }
        for variant in subtags {
            let alphanumeric = variant.bytes().all(|b| b.is_ascii_alphanumeric());
            let long = (5..=8).contains(&variant.len());
            let digit_first = variant.len() == 4 && variant.as_bytes()[0].is_ascii_digit();
            if !(alphanumeric && (long || digit_first)) {
                return None;
            }
            tag.push('-');
            tag.push_str(&variant.to_ascii_lowercase());
        }
        Some(Self(tag))
    }

    /// The tag, as stored and compared.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` is ASCII letters only.
fn alpha(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphabetic())
}

/// The IANA time zone names, zones and links (`Asia/Calcutta` as well as `Asia/Kolkata`, since
/// browsers report either), one a line after a comment naming the tzdata release. Made from
/// Debian's `tzdata` package:
///
/// ```sh
/// awk '$1=="Z"{print $2} $1=="L"{print $3}' /usr/share/zoneinfo/tzdata.zi \
///   | grep -vx Factory | LC_ALL=C sort -u
/// ```
///
/// A name added by a later release is dropped until the list is regenerated: the purchase
/// only lacks that piece of evidence.
const TIME_ZONES: &str = include_str!("time_zones.txt");

/// An IANA time zone name from the list the verifier carries (`Asia/Tokyo`, `UTC`), in its
/// canonical spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeZone(&'static str);

impl TimeZone {
    /// The zone named `text`, matched regardless of ASCII case, if the list has it.
    ///
    /// Every stored value and nearly every browser's is the canonical spelling, found by a
    /// binary search of the sorted list (this runs on every device step and every read of an
    /// authentication); only another spelling pays for the case-blind scan.
    pub fn parse(text: &str) -> Option<Self> {
        static SORTED: LazyLock<Vec<&'static str>> = LazyLock::new(|| names().collect());
        let sorted = &*SORTED;
        match sorted.binary_search(&text) {
            Ok(at) => Some(Self(sorted[at])),
            Err(_) => sorted
                .iter()
                .find(|name| name.eq_ignore_ascii_case(text))
                .map(|name| Self(name)),
        }
    }

    /// The name, as stored and compared.
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The names of [`TIME_ZONES`].
fn names() -> impl Iterator<Item = &'static str> {
    TIME_ZONES.lines().filter(|line| !line.starts_with('#'))
}

/// A `User-Agent` string: kept for the record, shown only as its [`Browser`] family (it has no
/// `Display`, so it cannot be formatted into a mail or a page by mistake).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserAgent(String);

impl UserAgent {
    /// The longest user agent kept, in characters.
    pub const MAX_CHARS: usize = 512;

    /// `text`, if it is at most [`Self::MAX_CHARS`] characters without control characters.
    pub fn parse(text: &str) -> Option<Self> {
        let fits = text.chars().count() <= Self::MAX_CHARS;
        (fits && !text.chars().any(char::is_control)).then(|| Self(text.to_owned()))
    }

    /// The browser family it names.
    pub fn family(&self) -> Browser {
        Browser::from_user_agent(&self.0)
    }

    /// The string, for the store only.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_take_the_browsers_forms_in_canonical_case() {
        for (sent, kept) in [
            ("ja", "ja"),
            ("ja-JP", "ja-JP"),
            ("EN-us", "en-US"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("sr-Latn", "sr-Latn"),
            ("es-419", "es-419"),
            ("de-CH-1996", "de-CH-1996"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("ca-ES-VALENCIA", "ca-ES-valencia"),
            ("fil", "fil"),
            ("hy-arevela", "hy-arevela"),
        ] {
            assert_eq!(
                LanguageTag::parse(sent).map(|t| t.to_string()).as_deref(),
                Some(kept),
                "{sent}"
            );
        }
    }

    #[test]
    fn anything_else_is_no_language_tag() {
        for bad in [
            "",
            "https://evil.example",
            "evil.example",
            "Call +1-800-555-0100",
            "+1-800-555-0100",
            "1800",
            "en-US\u{202e}moc.live",
            "\u{202e}en",
            "en US",
            "en_US",
            "en-",
            "-en",
            "en--US",
            "e",
            "engl",
            "abcdefghi",
            "en-US-u-ca-gregory",
            "en-x-private",
            "x-private",
            "i-klingon",
            "en-12",
            "en-USA",
            "ja-JP-abc",
            "日本語",
            "ｊａ",
            "en-Latn-US-variant1-variant2-variant3",
        ] {
            assert_eq!(LanguageTag::parse(bad), None, "{bad:?}");
        }
        let long = format!("en-{}", ["abcdefgh"; 4].join("-"));
        assert!(long.len() > LanguageTag::MAX_LEN);
        assert_eq!(LanguageTag::parse(&long), None);
    }

    #[test]
    fn time_zones_are_the_iana_names() {
        for (sent, kept) in [
            ("Asia/Tokyo", "Asia/Tokyo"),
            ("asia/tokyo", "Asia/Tokyo"),
            ("UTC", "UTC"),
            ("Etc/GMT+9", "Etc/GMT+9"),
            (
                "America/Argentina/Buenos_Aires",
                "America/Argentina/Buenos_Aires",
            ),
            ("Asia/Calcutta", "Asia/Calcutta"),
            ("US/Pacific", "US/Pacific"),
        ] {
            assert_eq!(
                TimeZone::parse(sent).map(|z| z.as_str()),
                Some(kept),
                "{sent}"
            );
        }
        for bad in [
            "",
            "Asia",
            "Asia/",
            "Asia/Tokyo ",
            "Asia/Atlantis",
            "Factory",
            "https://evil.example",
            "Call +1-800-555-0100",
            "Asia/Tokyo\u{202e}",
            "+09:00",
            "GMT+9",
            "../../etc/passwd",
        ] {
            assert_eq!(TimeZone::parse(bad), None, "{bad:?}");
        }
        let header = TIME_ZONES.lines().next().unwrap();
        assert_eq!(TimeZone::parse(header), None, "the header is no name");
    }

    #[test]
    fn the_time_zone_list_is_sorted_unique_and_plain() {
        let names: Vec<&str> = names().collect();
        assert!(names.len() > 500, "{}", names.len());
        assert!(
            names.windows(2).all(|w| w[0] < w[1]),
            "not sorted and unique"
        );
        for name in &names {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b)),
                "{name}"
            );
        }
    }

    #[test]
    fn the_time_zone_list_is_this_machines_tzdata_when_it_is_the_same_release() {
        // Where the machine's tzdata is the release the list was made from, the list is exactly
        // its zones and links: the command in `TIME_ZONES`'s docs was run and not edited.
        let Ok(tzdata) = std::fs::read_to_string("/usr/share/zoneinfo/tzdata.zi") else {
            return;
        };
        let release = |text: &str| {
            text.lines()
                .next()
                .and_then(|l| l.split_whitespace().last())
                .map(str::to_owned)
        };
        if release(&tzdata) != release(TIME_ZONES) {
            return;
        }
        let mut expected: Vec<&str> = tzdata
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                match fields.as_slice() {
                    ["Z", name, ..] => Some(*name),
                    ["L", _, name, ..] => Some(*name),
                    _ => None,
                }
            })
            .filter(|name| *name != "Factory")
            .collect();
        expected.sort_unstable();
        expected.dedup();
        assert_eq!(names().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn user_agents_are_bounded_and_show_only_their_family() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko Firefox/128.0";
        let agent = UserAgent::parse(firefox).unwrap();
        assert_eq!(agent.family(), Browser::Firefox);
        assert_eq!(agent.as_str(), firefox);
        assert!(UserAgent::parse(&"a".repeat(UserAgent::MAX_CHARS)).is_some());
        assert!(UserAgent::parse(&"a".repeat(UserAgent::MAX_CHARS + 1)).is_none());
        assert!(UserAgent::parse("Mozilla/5.0\r\nBcc: x").is_none());
    }

    #[test]
    fn stored_values_that_no_longer_parse_read_as_absent() {
        let stored = BrowserInfo::from_stored(
            Some("https://evil.example".into()),
            Some("Call +1-800-555-0100".into()),
            Some("curl/8.0".into()),
        );
        assert_eq!(stored.language, None);
        assert_eq!(stored.timezone, None);
        assert_eq!(stored.family(), Some(Browser::Other));
        let stored =
            BrowserInfo::from_stored(Some("ja-JP".into()), Some("Asia/Tokyo".into()), None);
        assert_eq!(
            stored.language.map(|l| l.to_string()).as_deref(),
            Some("ja-JP")
        );
        assert_eq!(stored.timezone.map(|z| z.as_str()), Some("Asia/Tokyo"));
    }
}
