//! The client's address: the peer's, or behind trusted proxies the one they forwarded.
//!
//! Each proxy appends the address it received the request from to `X-Forwarded-For` (or the
//! header `client_ip_header` names), so the header reads, left to right, from the farthest hop
//! to the nearest. Only the entries appended by proxies we trust are facts; whatever is left of
//! them the client wrote itself. So the header is read from the right:
//!
//! 1. No `trusted_proxies`, or a peer that is not one of them: the peer is the client, and the
//!    header is ignored (a client that reaches us directly could write anything there).
//! 2. Otherwise each entry from the right is the address the hop on its right saw; the first
//!    that is not a trusted proxy's is the client.
//! 3. An entry that is not an address (`unknown`, a name, garbage, an empty item) ends the
//!    walk: nothing to its left can be believed, and the client is the last address walked —
//!    a trusted proxy's. Requests with a broken chain then share that proxy's address, which
//!    fails safe: velocity limits count them together instead of letting each pick its own.
//! 4. Every entry a trusted proxy's (requests from inside the network): the leftmost.
//!
//! Addresses compare and are reported in their canonical form: an IPv4 address written as IPv6
//! (`::ffff:192.0.2.1`) is the IPv4 address.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

use crate::config::{Config, TrustedProxies};

/// The client of a request from `peer` with `headers`, as `config` says to find it (see the
/// module docs).
pub fn client_address(config: &Config, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    if config.trusted_proxies.is_empty() {
        return peer.to_canonical();
    }
    // Several header lines are one list, in order (RFC 9110, section 5.3). A value that is not
    // visible ASCII is one malformed entry.
    let entries = headers
        .get_all(config.forwarded_header())
        .iter()
        .flat_map(|value| match value.to_str() {
            Ok(text) => text.split(',').map(Some).collect(),
            Err(_) => vec![None],
        });
    select(peer, entries, &config.trusted_proxies)
}

/// The client, from the peer and the forwarded `entries` in header order (`None`: an entry
/// that is not text).
fn select<'a>(
    peer: IpAddr,
    entries: impl DoubleEndedIterator<Item = Option<&'a str>>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    for entry in entries.rev() {
        let Some(address) = entry.and_then(address) else {
            break;
        };
        client = address;
        if !trusted.contains(address) {
            break;
        }
    }
    client
}

/// One entry's address: an IP address, perhaps with a port as some proxies append it
/// (`192.0.2.1:443`, `[2001:db8::1]:443`).
fn address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::config::HeaderName;

    fn config(proxies: &str) -> Config {
        Config {
            trusted_proxies: TrustedProxies::try_from(proxies).unwrap(),
            ..Config::default()
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn client(config: &Config, peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        client_address(config, &headers, ip(peer)).to_string()
    }

    const PROXIES: &str = "10.0.0.0/8, fd00::/8";

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let config = config("");
        assert_eq!(client(&config, "10.0.0.1", &["198.51.100.7"]), "10.0.0.1");
        assert_eq!(client(&config, "::ffff:192.0.2.1", &[]), "192.0.2.1");
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let config = config(PROXIES);
        assert_eq!(
            client(&config, "203.0.113.5", &["198.51.100.7, 10.0.0.2"]),
            "203.0.113.5"
        );
    }

    #[test]
    fn the_rightmost_untrusted_entry_is_the_client() {
        let config = config(PROXIES);
        // One proxy: its entry.
        assert_eq!(
            client(&config, "10.0.0.1", &["198.51.100.7"]),
            "198.51.100.7"
        );
        // The client wrote addresses of its own on the left: they are not believed.
        assert_eq!(
            client(
                &config,
                "10.0.0.1",
                &["1.2.3.4, 127.0.0.1, 198.51.100.7, 10.9.9.9"]
            ),
            "198.51.100.7"
        );
        // Several header lines are one list.
        assert_eq!(
            client(
                &config,
                "10.0.0.1",
                &["6.6.6.6", "198.51.100.7", "10.0.0.3"]
            ),
            "198.51.100.7"
        );
        // IPv6 clients and proxies, ports, IPv4 written as IPv6.
        assert_eq!(
            client(&config, "fd00::1", &["2001:db8::1, fd12::7"]),
            "2001:db8::1"
        );
        assert_eq!(
            client(&config, "::ffff:10.0.0.1", &["[2001:db8::2]:443"]),
            "2001:db8::2"
        );
        assert_eq!(
            client(&config, "10.0.0.1", &["::ffff:198.51.100.8"]),
            "198.51.100.8"
        );
        assert_eq!(
            client(&config, "10.0.0.1", &["198.51.100.9:55123"]),
            "198.51.100.9"
        );
    }

    #[test]
    fn a_malformed_entry_ends_the_chain_at_the_last_trusted_hop() {
        let config = config(PROXIES);
        for forwarded in [
            "198.51.100.7, unknown",
            "198.51.100.7, evil.example",
            "198.51.100.7,",
            "198.51.100.7, 10.0.0.999",
            "",
        ] {
            assert_eq!(
                client(&config, "10.0.0.1", &[forwarded]),
                "10.0.0.1",
                "{forwarded}"
            );
        }
        // Past a trusted hop, the hop.
        assert_eq!(
            client(&config, "10.0.0.1", &["198.51.100.7, garbage, 10.0.0.2"]),
            "10.0.0.2"
        );
        // A value that is not text is one malformed entry.
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", HeaderValue::from_static("198.51.100.7"));
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff\xfe").unwrap(),
        );
        assert_eq!(
            client_address(&config, &headers, ip("10.0.0.1")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn an_all_trusted_chain_is_its_leftmost_entry() {
        let config = config(PROXIES);
        assert_eq!(
            client(&config, "10.0.0.1", &["10.1.1.1, fd00::9"]),
            "10.1.1.1"
        );
        // No header at all: the peer.
        assert_eq!(client(&config, "10.0.0.1", &[]), "10.0.0.1");
    }

    #[test]
    fn the_header_is_the_configured_one() {
        let config = Config {
            client_ip_header: Some(HeaderName::from_static("x-real-ip")),
            ..config(PROXIES)
        };
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_static("198.51.100.1"));
        headers.insert("x-real-ip", HeaderValue::from_static("198.51.100.2"));
        assert_eq!(
            client_address(&config, &headers, ip("10.0.0.1")),
            ip("198.51.100.2")
        );
    }
}
