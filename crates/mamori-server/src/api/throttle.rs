//! Request rates per merchant key, admin token and client address, counted in the store so every
//! instance shares them (see [`crate::config::RateLimits`]).
//!
//! A fixed window: each request adds one to its bucket's count for the current window, and the
//! request over the limit is refused with `429 rate_limited` and the seconds until the window
//! ends. The first request an instance counts in a new window also forgets the windows before
//! it (once per window and instance, not per bucket), so the table holds about one window's
//! buckets.
//!
//! Admin authentications are counted per client address in two buckets of their own
//! ([`reserve_admin_attempt`], [`AdminAttempt`]), both bounded by `admin_failures_per_address`:
//!
//! - **lookups**: every admin request reserves a place here, with the same atomic count as the
//!   other buckets, **before** its token is looked up, and holds it while the lookup runs. A
//!   request whose token turns out live gives its place back, and so does one whose token is
//!   known but revoked (its holder's, perhaps a job nobody updated, not a guess; still `401`),
//!   and one whose lookup failed in the store (it tested no guess). A failed token keeps its
//!   place. So the bucket holds the lookups in flight and the window's failures, and a request
//!   whose reservation is over the limit is refused `429 rate_limited` without a lookup — and
//!   gives its place back at once. One read of the failures bucket then tells the two causes
//!   apart: failures at the limit (perhaps reached on another instance) are a lockout, which
//!   this instance now remembers ([`AdminLockouts`]) and answers with the window's
//!   `Retry-After`; otherwise it is too many lookups in flight, a moment's crowd, answered
//!   `Retry-After: 1` and not remembered. Neither is logged beyond its access-log line. So however many requests an address sends at once, at most the limit of
//!   them are looked up together, and at most the limit of failures are looked up per window.
//!   A request cancelled between its reservation and the end of its lookup (the client hung
//!   up, or a proxy gave up on a stalled store) gives its place back too, from a task of its
//!   own when the reservation is dropped: it got no answer, so it learnt nothing from its
//!   token, and a run of such timeouts must not lock the back office out. A place whose
//!   give-back fails in the store (logged) stays counted until the window ends.
//! - **failures**: confirmed failures only (a missing, malformed or unknown token). The failure
//!   that brings this count to the limit locks the address out for the rest of the window, and
//!   is logged (`WARN`, naming the address): the count is never taken back, and every instance
//!   shares it, so that is one line per address and window. Live traffic, however concurrent,
//!   never adds to it.
//!
//! An address at its limit is refused whatever token it presents, a correct one too: a guesser
//! whose right guess were let in would learn from the answer that it was right, and the limit
//! would bound nothing. Every instance refuses it without a lookup: its failures fill its
//! lookups bucket. Its cost falls on whoever shares the address (a NAT, an IPv6 /64, a
//! proxy missing from `trusted_proxies`); the operator's remedy is
//! `rate_limits.admin_exempt_networks`, whose addresses the admin API never counts (the
//! caller, [`crate::api::admin`], skips the reservation for them). The instance that logs the
//! lockout also remembers the address ([`AdminLockouts`]) and refuses its further requests in
//! the window without asking the store; another instance asks once, counts one place over the
//! limit, gives it back, reads the failures and remembers the lockout from then on. Like every
//! request, each refusal still gets the access log's one `request` line.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::Store;

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

/// Reserves a place for an admin request from `client` among the address's lookups, before
/// its token is looked up (see the module docs).
///
/// # Errors
///
/// [`ApiError::RateLimited`] for an address locked out, with the seconds left in the window,
/// or with too many lookups in flight, with one second; [`ApiError::Internal`] when the store fails.
pub async fn reserve_admin_attempt(
    state: &AppState,
    client: &str,
) -> Result<AdminAttempt, ApiError> {
    let block = address_block(client);
    let lookups = format!("admin-lookups:{block}");
    let failures = format!("admin-failures:{block}");
    let limit = state.config.rate_limits.admin_failures_per_address.get();
    let window = Window::current(state);
    if state.admin_lockouts.holds(&failures, window.start) {
        return Err(window.refusal());
    }
    if count(state, &lookups, window).await? > limit {
        // Not a failure, and perhaps only a crowd of live lookups: kept, the place would crowd
        // out the next window's worth of them too.
        take_back(state.store.as_ref(), &lookups, window.start, client).await;
        return Err(refuse_full_lookups(state, &failures, limit, window).await);
    }
    Ok(AdminAttempt {
        client: client.to_owned(),
        lookups,
        failures,
        window,
        limit,
        store: Arc::clone(&state.store),
        settled: false,
    })
}

/// Gives a place back among `lookups`; a store failure is logged and nothing more: the answer
/// does not depend on it, and the place stays counted until the window ends.
async fn take_back(store: &dyn Store, lookups: &str, window_start: i64, client: &str) {
    if let Err(error) = store.uncount_request(lookups, window_start).await {
        tracing::warn!(
            client,
            %error,
            "admin API: cannot give back a lookup's place; it stays counted until the window \
             ends"
        );
    }
}

/// The refusal of a request whose address's lookups are full: a lockout (the address's
/// failures are at the limit, perhaps reached on another instance) is remembered here and
/// refused for the rest of the window; too many lookups in flight, a moment's crowd, is refused
/// for a second.
async fn refuse_full_lookups(
    state: &AppState,
    failures: &str,
    limit: i64,
    window: Window,
) -> ApiError {
    match state.store.requests_counted(failures, window.start).await {
        Ok(failed) if failed >= limit => {
            state.admin_lockouts.lock(failures, window.start);
            window.refusal()
        }
        Ok(_) => ApiError::RateLimited { retry_after: 1 },
        // Refused all the same, as the transient refusal it may be; nothing is remembered.
        Err(error) => {
            tracing::warn!(%error, "admin API: cannot read an address's failures");
            ApiError::RateLimited { retry_after: 1 }
        }
    }
}

/// An admin request's reserved place among its address's lookups: kept, and counted as a
/// failure, by [`Self::fail`]; given back by [`Self::give_back`], or, when it is dropped
/// unsettled (the request was cancelled during its lookup), by a task spawned on drop.
#[must_use = "a reservation is kept until it is given back"]
pub struct AdminAttempt {
    /// The client address, for the log.
    client: String,
    /// The address's lookups bucket, where the place is held.
    lookups: String,
    /// The address's failures bucket.
    failures: String,
    /// The window the place was counted in (a give-back or a failure goes to the same one).
    window: Window,
    /// `admin_failures_per_address`.
    limit: i64,
    /// Where the place is counted, for the give-back on drop.
    store: Arc<dyn Store>,
    /// Whether [`Self::fail`] or [`Self::give_back`] has taken the place in hand; if not, drop
    /// gives it back.
    settled: bool,
}

impl std::fmt::Debug for AdminAttempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAttempt")
            .field("client", &self.client)
            .field("lookups", &self.lookups)
            .field("window", &self.window)
            .field("settled", &self.settled)
            .finish_non_exhaustive()
    }
}

impl Drop for AdminAttempt {
    /// A request cancelled between its reservation and the end of its lookup got no answer, so
    /// it tested no guess: its place is given back, from a task because drop cannot wait.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // No runtime only while the process shuts down, when the count no longer matters.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = Arc::clone(&self.store);
        let lookups = std::mem::take(&mut self.lookups);
        let client = std::mem::take(&mut self.client);
        let window_start = self.window.start;
        runtime.spawn(async move {
            take_back(store.as_ref(), &lookups, window_start, &client).await;
        });
    }
}

impl AdminAttempt {
    /// The request tested no guess (its token was live or revoked, its lookup failed, or it
    /// was refused before it): the place is given back. A store failure here is logged and
    /// nothing more: the request's answer does not depend on it, and the place stays counted
    /// until the window ends.
    pub async fn give_back(mut self, state: &AppState) {
        // Settled before the wait: a request cancelled during it is not given back twice.
        self.settled = true;
        take_back(
            state.store.as_ref(),
            &self.lookups,
            self.window.start,
            &self.client,
        )
        .await;
    }

    /// The token was refused: the place stays counted, and the failure is counted. The failure
    /// that brings the failures to the limit locks the address out for the rest of the
    /// window, and is logged. A store failure counting it is logged: the kept place still
    /// bounds the address's lookups.
    pub async fn fail(mut self, state: &AppState) {
        // Kept whatever happens next, even if this request is cancelled while it is counted.
        self.settled = true;
        let failures = match count(state, &self.failures, self.window).await {
            Ok(failures) => failures,
            Err(error) => {
                tracing::warn!(
                    client = self.client,
                    error = ?error,
                    "admin API: cannot count a failed authentication"
                );
                return;
            }
        };
        if failures < self.limit {
            return;
        }
        state.admin_lockouts.lock(&self.failures, self.window.start);
        // Past the limit only while instances disagree on it (a configuration being rolled
        // out): the lockout was logged by the failure that reached it.
        if failures > self.limit {
            return;
        }
        // The address, and what is locked out: for IPv6 its whole /64.
        tracing::warn!(
            client = self.client,
            locked = %address_block(&self.client),
            failures,
            seconds = self.window.left,
            "admin API: too many failed authentications; every admin request from this \
             address is refused until the window ends"
        );
    }
}

/// Counts one request in bucket `name` in `window` and answers the window's count; the first
/// count an instance makes in a new window also forgets the windows before it.
///
/// Forgetting is housekeeping, done after the count: a store failure there is logged and the
/// count still answered, since erring now would leave a counted request unanswered (an admin
/// place never settled, a failure at the limit never locked out or logged). The next instance
/// to enter a window forgets again.
async fn count(state: &AppState, name: &str, window: Window) -> Result<i64, ApiError> {
    let count = state.store.count_request(name, window.start).await?;
    if state
        .rate_windows_forgotten
        .fetch_max(window.start, Ordering::Relaxed)
        < window.start
        && let Err(error) = state.store.forget_requests(window.start).await
    {
        tracing::warn!(%error, "rate limits: cannot forget the ended windows' counts");
    }
    Ok(count)
}

/// The admin-failure buckets this instance has seen at their limit in the current window:
/// their requests are refused without a store read until the window ends.
///
/// One window's buckets only: a lock in a newer window clears the set first, so there is
/// nothing stale to sweep, and a lock or a check is one hash operation. A lock for a window
/// that has already ended (from a request that began in it) is ignored rather than allowed
/// to displace the current window. A `std::sync::Mutex`: held for one set operation, never
/// across an `.await`.
#[derive(Debug, Default)]
pub struct AdminLockouts {
    locked: Mutex<Lockouts>,
}

/// The buckets locked out, and the window they are locked out for.
#[derive(Debug, Default)]
struct Lockouts {
    /// The newest window anything was locked out for.
    window_start: i64,
    /// The buckets locked out in it.
    buckets: HashSet<String>,
}

impl AdminLockouts {
    /// Whether `bucket` is locked out for the window starting at `window_start`.
    fn holds(&self, bucket: &str, window_start: i64) -> bool {
        let locked = self.locked.lock().unwrap_or_else(PoisonError::into_inner);
        locked.window_start == window_start && locked.buckets.contains(bucket)
    }

    /// Locks `bucket` out for the window starting at `window_start`.
    fn lock(&self, bucket: &str, window_start: i64) {
        let mut locked = self.locked.lock().unwrap_or_else(PoisonError::into_inner);
        if window_start > locked.window_start {
            locked.window_start = window_start;
            locked.buckets.clear();
        }
        // Checked first so that an address refused again and again allocates nothing.
        if window_start == locked.window_start && !locked.buckets.contains(bucket) {
            locked.buckets.insert(bucket.to_owned());
        }
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
        lockouts.lock("admin-failures:192.0.2.7", 60);
        lockouts.lock("admin-failures:192.0.2.7", 60);
        assert!(lockouts.holds("admin-failures:192.0.2.7", 60));
        assert!(
            !lockouts.holds("admin-failures:192.0.2.8", 60),
            "another address"
        );
        assert!(
            !lockouts.holds("admin-failures:192.0.2.7", 120),
            "the next window"
        );
        lockouts.lock("admin-failures:192.0.2.8", 120);
        assert!(lockouts.holds("admin-failures:192.0.2.8", 120));
        {
            let locked = lockouts.locked.lock().unwrap();
            assert_eq!(
                locked.buckets.len(),
                1,
                "the ended window's entry is gone: {locked:?}"
            );
        }

        // A request that began in the ended window locks late: the current window keeps its
        // lockouts, the ended one gets none back.
        lockouts.lock("admin-failures:192.0.2.8", 60);
        lockouts.lock("admin-failures:192.0.2.9", 60);
        assert!(lockouts.holds("admin-failures:192.0.2.8", 120));
        assert!(!lockouts.holds("admin-failures:192.0.2.9", 60));
    }
}
