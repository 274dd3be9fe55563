//! The device fingerprint: which signals there are, how each is hashed, and how two are compared.
//!
//! The widget collects each signal of [`SCHEMA`] as a canonical string (documented per component),
//! and sends only [`hash_component`] of it; the verifier stores the hashes of a trusted device and
//! scores a later visit with [`similarity`]. Both sides run this module, so the score a merchant's
//! customer gets does not depend on which side computed a hash.
//!
//! The hashes are unkeyed and some signals have few values, so they are a compact, fixed-size
//! encoding rather than a secret: the verifier treats a fingerprint as evidence that supports a
//! device token, never as an identity on its own.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::fmt;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version of [`SCHEMA`] and of the hash; a fingerprint of another version is refused.
pub const VERSION: u8 = 1;

/// Bytes kept of each component's SHA-256.
pub const HASH_LEN: usize = 16;

/// Similarity is given in thousandths: `1000` is identical.
pub const MAX_SCORE: u16 = 1000;

/// Domain separation for [`hash_component`].
const HASH_CONTEXT: &[u8] = b"mamori-fp-v1";

/// A browser family; each makes different signals noisy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    /// Chrome, Edge, Opera, Brave and other Blink browsers.
    Chromium,
    /// Firefox and other Gecko browsers.
    Firefox,
    /// Safari and every browser on iOS (all WebKit).
    Safari,
    /// Anything else.
    Other,
}

impl Browser {
    /// The family a `User-Agent` string names, read from its UTF-8 bytes (the widget's
    /// WebAssembly passes them as the browser encoded them, with no UTF-8 check to ship).
    pub fn from_user_agent(user_agent: impl AsRef<[u8]>) -> Self {
        let user_agent = user_agent.as_ref();
        // A plain search over the bytes: `str::contains` would bring its two-way searcher (about
        // 2 KB) into the widget's WebAssembly for these few short needles.
        let contains = |needle: &str| {
            user_agent
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        };
        if contains("Firefox/") {
            Self::Firefox
        } else if contains("Chrome/") || contains("Chromium/") {
            Self::Chromium
        } else if contains("Safari/") || contains("AppleWebKit/") {
            Self::Safari
        } else {
            Self::Other
        }
    }
}

/// One signal of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// The id used on the wire.
    pub id: &'static str,
    /// How much a match counts; rarer, steadier signals weigh more.
    pub weight: u16,
    /// Browsers that randomise or round this signal, where it is left out of the score.
    pub noisy_in: &'static [Browser],
    /// What the widget collects and the canonical string it hashes.
    pub canonical: &'static str,
}

/// Every signal, sorted by id. Weights are relative; a mismatch costs exactly as much as a match
/// earns, and a signal missing on one side counts as a mismatch.
pub const SCHEMA: &[Component] = &[
    Component {
        id: "avail_screen",
        weight: 2,
        noisy_in: &[],
        canonical: "available screen size as `larger x smaller` CSS pixels, e.g. `1920x1040`",
    },
    Component {
        id: "canvas",
        weight: 8,
        noisy_in: &[Browser::Firefox, Browser::Safari],
        canonical: "hex SHA-256 of a fixed canvas drawing, read back twice; absent when the two differ",
    },
    Component {
        id: "color_depth",
        weight: 2,
        noisy_in: &[],
        canonical: "`screen.colorDepth` as a decimal integer",
    },
    Component {
        id: "color_gamut",
        weight: 2,
        noisy_in: &[],
        canonical: "widest matching `color-gamut`: `rec2020`, `p3`, `srgb` or `none`",
    },
    Component {
        id: "color_scheme",
        weight: 1,
        noisy_in: &[],
        canonical: "`dark` or `light` from `prefers-color-scheme`",
    },
    Component {
        id: "device_memory",
        weight: 3,
        noisy_in: &[],
        canonical: "`navigator.deviceMemory` as a decimal, absent where unsupported",
    },
    Component {
        id: "dpr",
        weight: 4,
        noisy_in: &[],
        canonical: "`devicePixelRatio` rounded to two decimals, e.g. `1.25`",
    },
    Component {
        id: "dynamic_range",
        weight: 1,
        noisy_in: &[],
        canonical: "`high` or `standard` from `dynamic-range`",
    },
    Component {
        id: "forced_colors",
        weight: 1,
        noisy_in: &[],
        canonical: "`active` or `none` from `forced-colors`",
    },
    Component {
        id: "hardware_concurrency",
        weight: 4,
        noisy_in: &[Browser::Safari],
        canonical: "`navigator.hardwareConcurrency` as a decimal integer",
    },
    Component {
        id: "languages",
        weight: 5,
        noisy_in: &[],
        canonical: "`navigator.languages` joined with `,`",
    },
    Component {
        id: "math",
        weight: 3,
        noisy_in: &[],
        canonical: "results of a fixed set of `Math` functions joined with `,`",
    },
    Component {
        id: "platform",
        weight: 5,
        noisy_in: &[],
        canonical: "`navigator.userAgentData.platform`, else `navigator.platform`",
    },
    Component {
        id: "pointer",
        weight: 2,
        noisy_in: &[],
        canonical: "`fine`, `coarse` or `none` from `pointer`, then `,hover` or `,none`",
    },
    Component {
        id: "reduced_motion",
        weight: 1,
        noisy_in: &[],
        canonical: "`reduce` or `no-preference` from `prefers-reduced-motion`",
    },
    Component {
        id: "screen",
        weight: 5,
        noisy_in: &[],
        canonical: "screen size as `larger x smaller` CSS pixels, so rotation does not change it",
    },
    Component {
        id: "timezone",
        weight: 6,
        noisy_in: &[],
        canonical: "the IANA time zone of `Intl.DateTimeFormat().resolvedOptions().timeZone`",
    },
    Component {
        id: "touch_points",
        weight: 3,
        noisy_in: &[],
        canonical: "`navigator.maxTouchPoints` as a decimal integer",
    },
    Component {
        id: "user_agent",
        weight: 3,
        noisy_in: &[],
        canonical: "browser brand and major version, e.g. `Chromium/156`",
    },
    Component {
        id: "webgl_renderer",
        weight: 8,
        noisy_in: &[],
        canonical: "unmasked WebGL renderer string, absent without WebGL",
    },
    Component {
        id: "webgl_vendor",
        weight: 6,
        noisy_in: &[],
        canonical: "unmasked WebGL vendor string, absent without WebGL",
    },
];

/// The schema entry with this id.
pub fn component(id: &str) -> Option<&'static Component> {
    SCHEMA
        .binary_search_by(|c| c.id.cmp(id))
        .ok()
        .map(|index| &SCHEMA[index])
}

/// The truncated hash of one component's canonical value.
///
/// SHA-256 over `"mamori-fp-v1" || 0x00 || id || 0x00 || value`, first [`HASH_LEN`] bytes. The
/// id and value are text, hashed as their UTF-8 bytes; they are taken as bytes so that the
/// widget's WebAssembly, which only hashes them, ships no UTF-8 check.
pub fn hash_component(id: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> ComponentHash {
    let mut sha = Sha256::new();
    sha.update(HASH_CONTEXT);
    sha.update([0]);
    sha.update(id.as_ref());
    sha.update([0]);
    sha.update(value.as_ref());
    let full = sha.finalize();
    let mut hash = [0; HASH_LEN];
    hash.copy_from_slice(&full[..HASH_LEN]);
    ComponentHash(hash)
}

/// A component hash; lowercase hex on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ComponentHash([u8; HASH_LEN]);

impl ComponentHash {
    /// Parses exactly `2 * HASH_LEN` lowercase hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = hex.as_bytes();
        if bytes.len() != 2 * HASH_LEN {
            return None;
        }
        let nibble = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let mut hash = [0; HASH_LEN];
        for (byte, pair) in hash.iter_mut().zip(bytes.chunks_exact(2)) {
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(Self(hash))
    }

    /// The hash's bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }

    /// The hash as lowercase hex, its wire form. Written without `core::fmt`, so a WebAssembly
    /// build that needs only this does not carry the formatting machinery.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut hex = String::with_capacity(2 * HASH_LEN);
        for byte in self.0 {
            hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
            hex.push(char::from(DIGITS[usize::from(byte & 0xf)]));
        }
        hex
    }
}

impl fmt::Display for ComponentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ComponentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ComponentHash({self})")
    }
}

/// Why a fingerprint was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintError {
    /// A component id that is not in [`SCHEMA`].
    UnknownComponent,
}

impl fmt::Display for FingerprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownComponent => "component id is not in the fingerprint schema",
        })
    }
}

impl core::error::Error for FingerprintError {}

/// The hashed signals of one browser on one device.
///
/// On the wire: `{"v":1,"browser":"chromium","components":{"canvas":"<32 hex>",…}}` with
/// components sorted by id — its canonical encoding, which [`Fingerprint::to_json`] produces.
/// Parsing refuses another version, an unknown browser or component id, a malformed hash, and
/// unknown or duplicate members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    browser: Browser,
    components: BTreeMap<&'static str, ComponentHash>,
}

impl Fingerprint {
    /// An empty fingerprint of `browser`.
    pub fn new(browser: Browser) -> Self {
        Self {
            browser,
            components: BTreeMap::new(),
        }
    }

    /// Records the hash of one component, replacing an earlier one.
    ///
    /// # Errors
    ///
    /// [`FingerprintError::UnknownComponent`] when `id` is not in [`SCHEMA`].
    pub fn insert(&mut self, id: &str, hash: ComponentHash) -> Result<(), FingerprintError> {
        let component = component(id).ok_or(FingerprintError::UnknownComponent)?;
        self.components.insert(component.id, hash);
        Ok(())
    }

    /// The browser family the fingerprint was taken in.
    pub fn browser(&self) -> Browser {
        self.browser
    }

    /// The hash of component `id`, if it was collected.
    pub fn get(&self, id: &str) -> Option<ComponentHash> {
        self.components.get(id).copied()
    }

    /// How many components were collected.
    pub fn len(&self) -> usize {
        self.components.len()
    }

    /// Whether no component was collected.
    pub fn is_empty(&self) -> bool {
        self.components.is_empty()
    }

    /// The canonical JSON encoding.
    pub fn to_json(&self) -> String {
        // Serialising strings into memory cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Components<'a>(&'a BTreeMap<&'static str, ComponentHash>);
        impl Serialize for Components<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (id, hash) in self.0 {
                    map.serialize_entry(id, &hash.to_hex())?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("v", &VERSION)?;
        map.serialize_entry("browser", &self.browser)?;
        map.serialize_entry("components", &Components(&self.components))?;
        map.end()
    }
}

/// The wire form; `components` is checked entry by entry as it is read.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireFingerprint {
    v: u8,
    browser: Browser,
    components: WireComponents,
}

/// The `components` object: known ids, well-formed hashes, no id twice.
struct WireComponents(BTreeMap<&'static str, ComponentHash>);

impl<'de> Deserialize<'de> for WireComponents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ComponentsVisitor;
        impl<'de> de::Visitor<'de> for ComponentsVisitor {
            type Value = WireComponents;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of component ids to 32 lowercase hex digits")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut components = BTreeMap::new();
                while let Some((id, hex)) = map.next_entry::<String, String>()? {
                    let known = component(&id)
                        .ok_or_else(|| de::Error::custom(FingerprintError::UnknownComponent))?;
                    let hash = ComponentHash::from_hex(&hex)
                        .ok_or_else(|| de::Error::custom("component hash is not 32 hex digits"))?;
                    // serde's own maps keep the last of two equal keys; a fingerprint must not
                    // have two readings.
                    if components.insert(known.id, hash).is_some() {
                        return Err(de::Error::custom("component id given twice"));
                    }
                }
                Ok(WireComponents(components))
            }
        }
        deserializer.deserialize_map(ComponentsVisitor)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireFingerprint::deserialize(deserializer)?;
        if wire.v != VERSION {
            return Err(de::Error::custom("unsupported fingerprint version"));
        }
        Ok(Fingerprint {
            browser: wire.browser,
            components: wire.components.0,
        })
    }
}

/// How alike two fingerprints are, from `0` to [`MAX_SCORE`].
///
/// Fingerprints of different browser families score `0`: another browser is another device for
/// the purpose of trust. Otherwise, over every component of [`SCHEMA`] that is not noisy in that
/// browser and was collected on at least one side, the score is the weight of the components
/// that are equal, in thousandths of the weight of all of them (rounded down). Integer
/// arithmetic only, so the widget and the verifier agree to the unit.
pub fn similarity(stored: &Fingerprint, presented: &Fingerprint) -> u16 {
    if stored.browser != presented.browser {
        return 0;
    }
    let mut total: u32 = 0;
    let mut matched: u32 = 0;
    for component in SCHEMA
        .iter()
        .filter(|c| !c.noisy_in.contains(&presented.browser))
    {
        match (stored.get(component.id), presented.get(component.id)) {
            (None, None) => {}
            (a, b) => {
                total += u32::from(component.weight);
                if a == b {
                    matched += u32::from(component.weight);
                }
            }
        }
    }
    if total == 0 {
        return 0;
    }
    // `matched <= total`, so the quotient is at most MAX_SCORE and fits.
    u16::try_from(matched * u32::from(MAX_SCORE) / total).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_sorted_unique_and_about_twenty_signals() {
        assert!(SCHEMA.windows(2).all(|pair| pair[0].id < pair[1].id));
        assert!((18..=24).contains(&SCHEMA.len()));
        assert!(SCHEMA.iter().all(|c| c.weight > 0));
    }

    #[test]
    fn browser_families_from_user_agents() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/156.0.0.0 Safari/537.36";
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/18.0 Safari/605.1.15";
        assert_eq!(Browser::from_user_agent(chrome), Browser::Chromium);
        assert_eq!(Browser::from_user_agent(firefox), Browser::Firefox);
        assert_eq!(Browser::from_user_agent(safari), Browser::Safari);
        assert_eq!(Browser::from_user_agent("curl/8.0"), Browser::Other);
    }

    #[test]
    fn wire_form_round_trips_and_is_strict() -> Result<(), serde_json::Error> {
        let mut fp = Fingerprint::new(Browser::Chromium);
        fp.insert("timezone", hash_component("timezone", "Asia/Tokyo"))
            .ok();
        fp.insert("screen", hash_component("screen", "1920x1080"))
            .ok();
        let json = fp.to_json();
        assert!(json.starts_with(r#"{"v":1,"browser":"chromium","components":{"screen":"#));
        assert_eq!(serde_json::from_str::<Fingerprint>(&json)?, fp);
        let bad = [
            json.replace("\"v\":1", "\"v\":2"),
            json.replace("chromium", "netscape"),
            json.replace("timezone", "zodiac"),
            json.replace("\"}}", "A\"}}"),
            json.replace("}}", "},\"extra\":1}"),
            json.replace(
                "{\"screen\"",
                "{\"timezone\":\"00000000000000000000000000000000\",\"screen\"",
            ),
        ];
        for text in bad {
            assert!(
                serde_json::from_str::<Fingerprint>(&text).is_err(),
                "{text}"
            );
        }
        Ok(())
    }

    /// Every family's exclusions, one component at a time: a changed value of a component noisy
    /// in that family costs nothing, of any other component it costs; and a component the widget
    /// leaves out on both sides (a canvas whose two read-backs differ, in a randomising browser
    /// of any family) costs nothing either, so such a browser keeps its score.
    #[test]
    fn each_family_skips_exactly_its_noisy_components() {
        for browser in [
            Browser::Chromium,
            Browser::Firefox,
            Browser::Safari,
            Browser::Other,
        ] {
            let mut stored = Fingerprint::new(browser);
            for c in SCHEMA {
                stored.insert(c.id, hash_component(c.id, "x")).ok();
            }
            for c in SCHEMA {
                let mut changed = stored.clone();
                changed.insert(c.id, hash_component(c.id, "y")).ok();
                let score = similarity(&stored, &changed);
                if c.noisy_in.contains(&browser) {
                    assert_eq!(score, MAX_SCORE, "{} is noisy in {browser:?}", c.id);
                } else {
                    assert!(score < MAX_SCORE, "{} counts in {browser:?}", c.id);
                }
                let mut without = Fingerprint::new(browser);
                for other in SCHEMA.iter().filter(|other| other.id != c.id) {
                    without.insert(other.id, hash_component(other.id, "x")).ok();
                }
                assert_eq!(
                    similarity(&without, &without),
                    MAX_SCORE,
                    "{} left out on both sides in {browser:?}",
                    c.id
                );
            }
        }
        let noisy = |id: &str| component(id).map(|c| c.noisy_in);
        assert_eq!(
            noisy("canvas"),
            Some(&[Browser::Firefox, Browser::Safari][..])
        );
        assert_eq!(noisy("hardware_concurrency"), Some(&[Browser::Safari][..]));
    }

    #[test]
    fn similarity_weighs_matches_and_skips_noise() {
        let mut a = Fingerprint::new(Browser::Firefox);
        for c in SCHEMA {
            a.insert(c.id, hash_component(c.id, "x")).ok();
        }
        assert_eq!(similarity(&a, &a), MAX_SCORE);
        let mut b = a.clone();
        b.insert("canvas", hash_component("canvas", "randomised"))
            .ok();
        assert_eq!(similarity(&a, &b), MAX_SCORE, "canvas is noisy in Firefox");
        b.insert("timezone", hash_component("timezone", "Europe/Paris"))
            .ok();
        assert!(similarity(&a, &b) < MAX_SCORE);
        let mut other = a.clone();
        other.browser = Browser::Chromium;
        assert_eq!(similarity(&a, &other), 0);
        assert_eq!(
            similarity(
                &Fingerprint::new(Browser::Other),
                &Fingerprint::new(Browser::Other)
            ),
            0
        );
    }
}
