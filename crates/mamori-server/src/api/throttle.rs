//! Request rates per merchant key, admin token and client address, counted in the store so every
//! instance shares them (see [`crate::config::RateLimits`]).
//!
//! A fixed window: each request adds one to its bucket's count for the current window, and the
//! request over the limit is refused with `429 rate_limited` and the seconds until the window
//! ends. The first request an instance counts in a new window also forgets the windows before
//! it (once per window and instance, not per bucket), so the table holds about one window's
//! buckets.
//!
//! Failed admin authentications are counted per client address the other way round
//! ([`admit_admin_client`], [`count_admin_failure`]): only a request whose token is refused is
//! counted, and the check comes before the token is looked up, so an address that has failed
//! `admin_failures_per_address` times is refused until the window ends without costing a
//! lookup — whatever token it presents, a correct one too, so that the answer never tells a
//! guesser whether a guess was right. The request that reaches the limit is logged once
//! (every instance shares the count, so exactly one request in the window sees it reach the
//! limit); the refusals after it are not, so a flood cannot fill the log. Each instance also
//! remembers the addresses it found locked out ([`AdminLockouts`]) and refuses their next
//! requests in the window without asking the store. Requests already past the check when the
//! limit is reached (those in flight at once) are still looked up, and counted.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, PoisonError};

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
    /// Failed admin authentications from a client address (see the module docs).
    AdminFailures(&'a str),
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
            Self::AdminFailures(ip) => (
                format!("admin-failures:{}", address_block(ip)),
                limits.admin_failures_per_address.get(),
            ),
        }
    }
}

/// The counting window that holds the present moment.
#[derive(Debug, Clone, Copy)]
struct Window {
    /// Its first second.
    start: i64,
    /// Seconds from now to its end: never zero (see [`window_start`]).
    left: i64,
}

impl Window {
    fn current(state: &AppState) -> Self {
        let window = state.config.rate_limits.window.get();
        let now = state.now();
        let start = window_start(now, window);
        Self {
            start,
            left: start + window - now,
        }
    }

    fn refusal(self) -> ApiError {
        ApiError::RateLimited {
            retry_after: self.left,
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
    let window = Window::current(state);
    if count(state, &name, window).await? > limit {
        return Err(window.refusal());
    }
    Ok(())
}

/// Refuses an admin request from `client` when the address has failed authentication its
/// limit of times in the current window; counts nothing. Called before the request's token is
/// looked up.
///
/// # Errors
///
/// [`ApiError::RateLimited`] for an address at its limit, with the seconds left in the window;
/// [`ApiError::Internal`] when the store fails.
pub async fn admit_admin_client(state: &AppState, client: &str) -> Result<(), ApiError> {
    let (name, limit) = Bucket::AdminFailures(client).name_and_limit(state);
    let window = Window::current(state);
    if state.admin_lockouts.holds(&name, window.start) {
        return Err(window.refusal());
    }
    if state.store.requests_counted(&name, window.start).await? >= limit {
        state.admin_lockouts.lock(name, window.start);
        return Err(window.refusal());
    }
    Ok(())
}

/// Counts a failed admin authentication from `client`; the failure that reaches the limit
/// locks the address out for the rest of the window, and is logged.
///
/// # Errors
///
/// [`ApiError::Internal`] when the store fails.
pub async fn count_admin_failure(state: &AppState, client: &str) -> Result<(), ApiError> {
    let (name, limit) = Bucket::AdminFailures(client).name_and_limit(state);
    let window = Window::current(state);
    let failures = count(state, &name, window).await?;
    if failures >= limit {
        state.admin_lockouts.lock(name, window.start);
    }
    // Exactly one request per address and window sees its count reach the limit.
    if failures == limit {
        // The address, and what is locked out: for IPv6 its whole /64.
        tracing::warn!(
            client,
            locked = %address_block(client),
            failures,
            seconds = window.left,
            "admin API: too many failed authentications; every admin request from this \
             address is refused until the window ends"
        );
    }
    Ok(())
}

/// Counts one request in bucket `name` in `window` and answers the window's count; the first
/// count an instance makes in a new window also forgets the windows before it.
async fn count(state: &AppState, name: &str, window: Window) -> Result<i64, ApiError> {
    let count = state.store.count_request(name, window.start).await?;
    if state
        .rate_windows_forgotten
        .fetch_max(window.start, Ordering::Relaxed)
        < window.start
    {
        state.store.forget_requests(window.start).await?;
    }
    Ok(count)
}

/// The admin-failure buckets this instance has seen at their limit, with the window they are
/// locked out for: their requests are refused without a store read until the window ends.
///
/// Only buckets that failed `admin_failures_per_address` times get an entry, and the entries
/// of windows that have ended go when the next one is added, so it holds at most one window's
/// locked-out addresses. A `std::sync::Mutex`: held for one map operation, never across an
/// `.await`.
#[derive(Debug, Default)]
pub struct AdminLockouts {
    locked: Mutex<HashMap<String, i64>>,
}

impl AdminLockouts {
    /// Whether `bucket` is locked out for the window starting at `window_start`.
    fn holds(&self, bucket: &str, window_start: i64) -> bool {
        let locked = self.locked.lock().unwrap_or_else(PoisonError::into_inner);
        locked.get(bucket) == Some(&window_start)
    }

    /// Locks `bucket` out for the window starting at `window_start`.
    fn lock(&self, bucket: String, window_start: i64) {
        let mut locked = self.locked.lock().unwrap_or_else(PoisonError::into_inner);
        locked.retain(|_, start| *start >= window_start);
        locked.insert(bucket, window_start);
    }
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

    #[test]
    fn a_lockout_holds_for_its_window_and_ended_windows_are_dropped() {
        let lockouts = AdminLockouts::default();
        assert!(!lockouts.holds("admin-failures:192.0.2.7", 60));
        lockouts.lock("admin-failures:192.0.2.7".into(), 60);
        assert!(lockouts.holds("admin-failures:192.0.2.7", 60));
        assert!(
            !lockouts.holds("admin-failures:192.0.2.8", 60),
            "another address"
        );
        assert!(
            !lockouts.holds("admin-failures:192.0.2.7", 120),
            "the next window"
        );
        lockouts.lock("admin-failures:192.0.2.8".into(), 120);
        let locked = lockouts.locked.lock().unwrap();
        assert_eq!(
            locked.len(),
            1,
            "the ended window's entry is gone: {locked:?}"
        );
    }
}
