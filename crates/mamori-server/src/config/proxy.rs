//! Lists of address blocks ([`Networks`]): `trusted_proxies`, the address ranges of the reverse
//! proxies in front of the verifier, whose `X-Forwarded-For` entries are believed
//! ([`crate::api::forwarded`] picks the client with it), and
//! `rate_limits.admin_exempt_networks`, the clients never locked out of the admin API.
//!
//! A range is a CIDR block, `10.0.0.0/8` or `2001:db8::/32`, or a single address (`/32` or
//! `/128`). A block with bits set after its prefix (`10.0.0.1/8`) is refused rather than
//! rounded: it is most often a typo for a narrower range, and trusting more addresses than
//! meant is the mistake that matters here. An IPv4 block written as IPv6
//! (`::ffff:10.20.0.0/112`, prefix 96 or more) is the IPv4 block it names (`10.20.0.0/16`), as
//! an IPv4 client written as IPv6 is the IPv4 address it names.
//!
//! In the file a setting is a list of strings; in its variable (`MAMORI_TRUSTED_PROXIES`) one
//! string, comma-separated. Both pass through the same check.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::InvalidValue;

/// An IPv4 or IPv6 address block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    /// The first address of the block (its host bits are zero).
    network: IpAddr,
    /// Leading bits that every address of the block shares with [`Self::network`].
    prefix: u8,
}

impl Cidr {
    /// Whether `address` is in the block. An IPv4 address written as IPv6 (`::ffff:10.0.0.1`,
    /// as a dual-stack listener reports IPv4 peers) is compared as the IPv4 address it is.
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, address.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                masked(u32::from(address).into(), 32, self.prefix) == u32::from(network).into()
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                masked(u128::from(address), 128, self.prefix) == u128::from(network)
            }
            _ => false,
        }
    }

    /// Whether the block has prefix 0: every IPv4 or every IPv6 address. Allowed, but nearly
    /// always a mistake (`::ffff:0:0/96`, the IPv4 range written as IPv6, is `0.0.0.0/0`), so
    /// `mamori config check` warns about it.
    pub fn is_everything(&self) -> bool {
        self.prefix == 0
    }
}

/// `bits` (an address of `width` bits, right-aligned) with all but its first `prefix` bits
/// cleared.
fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    let host = u32::from(width - prefix);
    // A shift by the whole width (prefix 0 of an IPv6 block) would overflow: nothing is left.
    bits.checked_shr(host)
        .and_then(|n| n.checked_shl(host))
        .unwrap_or(0)
}

impl TryFrom<&str> for Cidr {
    type Error = InvalidValue;

    fn try_from(text: &str) -> Result<Self, InvalidValue> {
        let refuse = |why: &str| {
            InvalidValue(format!(
                "{text:?} {why} (a block such as 10.0.0.0/8 or 2001:db8::/32, or an address)"
            ))
        };
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| refuse("is not an IP address block"))?;
        let width: u8 = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            // Digits only: `u8::from_str` would also take a leading `+`.
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= width)
                .ok_or_else(|| refuse(&format!("has a prefix longer than {width} bits")))?,
            Some(_) => return Err(refuse("has no prefix length after /")),
        };
        let bits = match network {
            IpAddr::V4(v4) => u128::from(u32::from(v4)),
            IpAddr::V6(v6) => u128::from(v6),
        };
        if masked(bits, width, prefix) != bits {
            return Err(refuse("has bits set after its prefix"));
        }
        // An IPv4 block written as IPv6 (`::ffff:10.20.0.0/112`) is kept as the IPv4 block it
        // is, since `contains` compares IPv4 addresses written as IPv6 as IPv4: kept as IPv6,
        // it would contain nothing. (A shorter IPv6 prefix than the mapped range's 96 bits is
        // an IPv6 block like any other.)
        if let IpAddr::V6(v6) = network
            && prefix >= 96
            && let Some(v4) = v6.to_ipv4_mapped()
        {
            return Ok(Self {
                network: IpAddr::V4(v4),
                prefix: prefix - 96,
            });
        }
        Ok(Self { network, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// A setting that lists address blocks, perhaps none (the default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "BlockList", into = "Vec<String>")]
pub struct Networks(Vec<Cidr>);

/// The `trusted_proxies` setting; none (the default) trusts no proxy: the peer is the client.
pub type TrustedProxies = Networks;

impl Networks {
    /// Whether no block is listed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The blocks, in the order listed.
    pub fn blocks(&self) -> &[Cidr] {
        &self.0
    }

    /// Whether `address` is in one of the blocks.
    pub fn contains(&self, address: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(address))
    }
}

/// How the setting may be written: a TOML list, or the variable's comma-separated text.
#[derive(Deserialize)]
#[serde(untagged)]
enum BlockList {
    List(Vec<String>),
    Text(String),
}

impl TryFrom<BlockList> for Networks {
    type Error = InvalidValue;

    fn try_from(list: BlockList) -> Result<Self, InvalidValue> {
        let blocks: Vec<String> = match list {
            BlockList::List(blocks) => blocks,
            BlockList::Text(text) => text.split(',').map(str::to_owned).collect(),
        };
        blocks
            .iter()
            .map(|block| block.trim())
            // An empty variable, or a trailing comma, names no block.
            .filter(|block| !block.is_empty())
            .map(Cidr::try_from)
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl TryFrom<&str> for Networks {
    type Error = InvalidValue;

    fn try_from(text: &str) -> Result<Self, InvalidValue> {
        Self::try_from(BlockList::Text(text.to_owned()))
    }
}

impl From<Networks> for Vec<String> {
    fn from(proxies: Networks) -> Self {
        proxies.0.iter().map(Cidr::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let block = Cidr::try_from("10.0.0.0/8").unwrap();
        assert!(block.contains(ip("10.255.0.1")));
        assert!(!block.contains(ip("11.0.0.1")));
        assert!(
            block.contains(ip("::ffff:10.1.2.3")),
            "IPv4 written as IPv6"
        );
        assert!(!block.contains(ip("::a01:203")), "IPv4-compatible is IPv6");

        let block = Cidr::try_from("2001:db8::/32").unwrap();
        assert!(block.contains(ip("2001:db8:ffff::1")));
        assert!(!block.contains(ip("2001:db9::1")));
        assert!(!block.contains(ip("10.0.0.1")));

        let single = Cidr::try_from("192.0.2.7").unwrap();
        assert_eq!(single.to_string(), "192.0.2.7/32");
        assert!(single.contains(ip("192.0.2.7")) && !single.contains(ip("192.0.2.8")));
        let single = Cidr::try_from("::1").unwrap();
        assert_eq!(single.to_string(), "::1/128");

        for everything in ["0.0.0.0/0", "::/0"] {
            let block = Cidr::try_from(everything).unwrap();
            let other = if everything.contains(':') {
                "fe80::1"
            } else {
                "203.0.113.9"
            };
            assert!(block.contains(ip(other)), "{everything}");
        }
    }

    #[test]
    fn an_ipv4_block_written_as_ipv6_is_that_ipv4_block() {
        let block = Cidr::try_from("::ffff:10.20.0.0/112").unwrap();
        assert_eq!(block.to_string(), "10.20.0.0/16");
        assert!(block.contains(ip("10.20.3.4")));
        assert!(block.contains(ip("::ffff:10.20.3.4")));
        assert!(!block.contains(ip("10.21.0.1")));
        assert!(!block.contains(ip("::a14:304")), "IPv4-compatible is IPv6");

        let single = Cidr::try_from("::ffff:192.0.2.7").unwrap();
        assert_eq!(single.to_string(), "192.0.2.7/32");
        assert!(single.contains(ip("192.0.2.7")));
        let every_ipv4 = Cidr::try_from("::ffff:0:0/96").unwrap();
        assert_eq!(every_ipv4.to_string(), "0.0.0.0/0");
        assert!(every_ipv4.contains(ip("203.0.113.9")));
        assert!(!every_ipv4.contains(ip("2001:db8::1")));

        // Wider than the mapped range: an IPv6 block, and no IPv4 address is in it.
        let wider = Cidr::try_from("::/80").unwrap();
        assert_eq!(wider.to_string(), "::/80");
        assert!(!wider.contains(ip("10.20.3.4")));

        let error = Cidr::try_from("::ffff:10.20.0.1/112").unwrap_err();
        assert!(error.to_string().contains("bits set after its prefix"));

        let exempt = Networks::try_from("::ffff:10.20.0.0/112").unwrap();
        assert!(exempt.contains(ip("10.20.255.255")));
        assert_eq!(Vec::<String>::from(exempt), ["10.20.0.0/16"]);
    }

    #[test]
    fn malformed_blocks_say_why() {
        for (bad, says) in [
            ("10.0.0.1/8", "bits set after its prefix"),
            ("2001:db8::1/32", "bits set after its prefix"),
            ("10.0.0.0/33", "longer than 32 bits"),
            ("::/129", "longer than 128 bits"),
            ("10.0.0.0/", "no prefix length"),
            ("10.0.0.0/+8", "no prefix length"),
            ("10.0.0.0/08x", "no prefix length"),
            ("10.0.0/8", "not an IP address block"),
            ("proxy.internal", "not an IP address block"),
            ("[::1]/128", "not an IP address block"),
        ] {
            let error = Cidr::try_from(bad).unwrap_err().to_string();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn lists_read_from_toml_and_from_text() {
        let proxies = TrustedProxies::try_from(" 10.0.0.0/8, fd00::/8 ,,").unwrap();
        assert_eq!(
            Vec::<String>::from(proxies.clone()),
            ["10.0.0.0/8", "fd00::/8"]
        );
        assert!(TrustedProxies::try_from("").unwrap().is_empty());

        #[derive(Deserialize)]
        struct File {
            trusted_proxies: TrustedProxies,
        }
        let file: File =
            toml::from_str("trusted_proxies = [\"10.0.0.0/8\", \"fd00::/8\"]").unwrap();
        assert_eq!(file.trusted_proxies, proxies);
        let file: File = toml::from_str("trusted_proxies = \"10.0.0.0/8,fd00::/8\"").unwrap();
        assert_eq!(file.trusted_proxies, proxies);
        let error = toml::from_str::<File>("trusted_proxies = [\"10.0.0.1/8\"]")
            .err()
            .unwrap();
        assert!(error.message().contains("bits set after"), "{error}");
    }
}
