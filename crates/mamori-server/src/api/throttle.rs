//! Request rates per merchant key, admin token and client address, counted in the store so every
//! instance shares them (see [`crate::config::RateLimits`]).
//!
//! A fixed window: each request adds one to its bucket's count for the current window, and the
//! request over the limit is refused with `429 rate_limited` and the seconds until the window
//! ends. The first request an instance counts in a new window also forgets the windows before
//! it (once per window and instance, not per bucket), so the table holds about one window's
//! buckets.

use std::sync::atomic::Ordering;

use crate::error::ApiError;
use crate::state::AppState;

/// What a request is counted against.
#[derive(Debug, Clone, Copy)]
pub enum Bucket<'a> {
    /// A merchant key creating authentications, by its `kid`.
    MerchantKey(&'a str),
    /// A browser calling the widget routes, by its address.
    ClientAddress(&'a str),
    /// An admin API token, by its id; it shares the merchant keys' limit per window.
    AdminToken(&'a str),
}

impl Bucket<'_> {
    /// The stored bucket name and the limit per window.
    fn name_and_limit(self, state: &AppState) -> (String, i64) {
        let limits = &state.config.rate_limits;
        match self {
            Self::MerchantKey(kid) => (format!("create:{kid}"), limits.create_per_key.get()),
            Self::ClientAddress(ip) => (
                format!("widget:{}", address_block(ip)),
                limits.widget_per_address.get(),
            ),
            Self::AdminToken(id) => (format!("admin:{id}"), limits.create_per_key.get()),
        }
    }
}

/// Counts one request against `bucket`.
///
/// # Errors
///
/// [`ApiError::RateLimited`] over the limit, with the seconds left in the window;
/// [`ApiError::Internal`] when the store fails.
pub async fn admit(state: &AppState, bucket: Bucket<'_>) -> Result<(), ApiError> {
    let (name, limit) = bucket.name_and_limit(state);
    let window = state.config.rate_limits.window.get();
    let now = state.now();
    let start = window_start(now, window);
    let count = state.store.count_request(&name, start).await?;
    if state
        .rate_windows_forgotten
        .fetch_max(start, Ordering::Relaxed)
        < start
    {
        state.store.forget_requests(start).await?;
    }
    if count > limit {
        return Err(ApiError::RateLimited {
            retry_after: start + window - now,
        });
    }
    Ok(())
}

/// What a client address is counted as: an IPv4 address itself, an IPv6 address by its /64 —
/// one subscriber's network, whose 2^64 addresses would otherwise each get a limit of their own
/// (and a count to keep).
fn address_block(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map_or_else(|| ip.to_owned(), |v4| v4.to_string()),
        _ => ip.to_owned(),
    }
}

/// The start of the window of `window` seconds holding `now`.
fn window_start(now: i64, window: i64) -> i64 {
    now - now.rem_euclid(window)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_ipv4_by_itself() {
        assert_eq!(address_block("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            address_block("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_eq!(address_block("2001:db8:1:3::1"), "2001:db8:1:3::/64");
        assert_eq!(address_block("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(address_block("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_block("not an address"), "not an address");
    }

    #[test]
    fn windows_tile_the_clock() {
        assert_eq!(window_start(1_800_000_000, 60), 1_800_000_000);
        assert_eq!(window_start(1_800_000_059, 60), 1_800_000_000);
        assert_eq!(window_start(1_800_000_060, 60), 1_800_000_060);
        // What is left of the window is never zero, so `Retry-After` is at least one second.
        let now = 1_800_000_059;
        assert_eq!(window_start(now, 60) + 60 - now, 1);
    }
}
