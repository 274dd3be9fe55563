//! The merchant rows every purchase reads — the merchant (origins, webhook flag), its keys, a
//! key by its `kid` — kept in memory for [`FRESH_FOR`], so that a purchase does not read them
//! from the database four times.
//!
//! A change this store makes to them (a merchant added, a key rotated, origins replaced, a
//! webhook endpoint set, removed or disabled) forgets every kept row once it is written, and a
//! row read while the change was being made is not kept (each forgetting starts a new
//! generation, and a row is kept only under the generation its read started in): this process
//! never serves a row older than its own writes. A change made by another process — the
//! `mamori` CLI beside a running verifier, another instance on PostgreSQL — is seen within
//! [`FRESH_FOR`]. Nothing about these rows needs to be quicker: a rotated key keeps verifying
//! for `security.key_overlap` anyway (with an overlap of 0, a key retired from another process
//! is accepted for up to two more seconds), and a replaced origin taking two more seconds to
//! reach every instance is well inside what an operator can observe. A webhook endpoint set
//! from another process misses the `authentication.finished` of the device steps that end in
//! those two seconds (a code's acceptance or last wrong entry, an expiry or a cancel queue the
//! event whatever the row says).
//!
//! Only rows that exist are kept, and at most [`MOST`] of each kind: a caller presenting made-up
//! `kid`s cannot grow the memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::model::{KeyId, Merchant, MerchantId, MerchantKey};

/// How long a kept row is served before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(2);

/// The most rows of one kind kept; past it the shelf is emptied and fills again.
const MOST: usize = 10_000;

/// Rows of one kind by their key, each with when it was read.
#[derive(Debug)]
struct Shelf<K, V> {
    rows: HashMap<K, (Instant, V)>,
}

impl<K, V> Default for Shelf<K, V> {
    fn default() -> Self {
        Self {
            rows: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    /// The row kept under `key`, if read less than [`FRESH_FOR`] before `now`.
    fn get_at(&self, key: &K, now: Instant) -> Option<V> {
        self.rows
            .get(key)
            .filter(|(read, _)| now.saturating_duration_since(*read) < FRESH_FOR)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read just now, under `key`.
    fn put(&mut self, key: K, value: V) {
        if self.rows.len() >= MOST {
            self.rows.clear();
        }
        self.rows.insert(key, (Instant::now(), value));
    }
}

/// Everything kept, and the generation it belongs to: one lock, so that checking a read's
/// generation and keeping its row is one step, as forgetting is.
#[derive(Debug, Default)]
struct Kept {
    /// Goes up at each [`HotRows::forget`].
    generation: u64,
    merchants: Shelf<MerchantId, Merchant>,
    keys: Shelf<MerchantId, Vec<MerchantKey>>,
    kids: Shelf<KeyId, MerchantKey>,
}

/// The kept merchant rows of one store.
#[derive(Debug, Default)]
pub(super) struct HotRows {
    kept: Mutex<Kept>,
}

/// When a read started: what a row read from the database is kept under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Generation(u64);

impl HotRows {
    fn lock(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Taken before reading a row from the database, and handed to `keep_…` with it.
    pub(super) fn generation(&self) -> Generation {
        Generation(self.lock().generation)
    }

    /// Runs `keep` on what is kept, if nothing was forgotten since `read`.
    fn keep_if_current(&self, read: Generation, keep: impl FnOnce(&mut Kept)) {
        let mut kept = self.lock();
        if kept.generation == read.0 {
            keep(&mut kept);
        }
    }

    /// The merchant with this id, if kept and fresh.
    pub(super) fn merchant(&self, id: &MerchantId) -> Option<Merchant> {
        self.lock().merchants.get_at(id, Instant::now())
    }

    /// Keeps a merchant read since `read`.
    pub(super) fn keep_merchant(&self, read: Generation, merchant: &Merchant) {
        self.keep_if_current(read, |kept| {
            kept.merchants.put(merchant.id.clone(), merchant.clone());
        });
    }

    /// The merchant's keys, if kept and fresh.
    pub(super) fn keys(&self, merchant_id: &MerchantId) -> Option<Vec<MerchantKey>> {
        self.lock().keys.get_at(merchant_id, Instant::now())
    }

    /// Keeps a merchant's keys read since `read` (a merchant always has one: none is not
    /// kept).
    pub(super) fn keep_keys(
        &self,
        read: Generation,
        merchant_id: &MerchantId,
        keys: &[MerchantKey],
    ) {
        if !keys.is_empty() {
            self.keep_if_current(read, |kept| {
                kept.keys.put(merchant_id.clone(), keys.to_vec());
            });
        }
    }

    /// The key with this `kid`, if kept and fresh.
    pub(super) fn key(&self, kid: &KeyId) -> Option<MerchantKey> {
        self.lock().kids.get_at(kid, Instant::now())
    }

    /// Keeps a key read since `read`.
    pub(super) fn keep_key(&self, read: Generation, key: &MerchantKey) {
        self.keep_if_current(read, |kept| kept.kids.put(key.kid.clone(), key.clone()));
    }

    /// Forgets every kept row, and any read under way: this store has just changed one.
    pub(super) fn forget(&self) {
        let mut kept = self.lock();
        let generation = kept.generation.wrapping_add(1);
        *kept = Kept {
            generation,
            ..Kept::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merchant(id: &'static str) -> Merchant {
        Merchant {
            id: MerchantId::from_static(id),
            name: id.into(),
            origins: vec![],
            sandbox: false,
            created_at: 0,
            webhook: false,
        }
    }

    #[test]
    fn a_kept_row_is_served_until_it_is_two_seconds_old_or_forgotten() {
        let hot = HotRows::default();
        let m = merchant("m_1");
        hot.keep_merchant(hot.generation(), &m);
        assert_eq!(hot.merchant(&m.id), Some(m.clone()));
        let later = Instant::now() + FRESH_FOR;
        assert_eq!(hot.lock().merchants.get_at(&m.id, later), None, "stale");
        hot.forget();
        assert_eq!(hot.merchant(&m.id), None, "forgotten");
    }

    #[test]
    fn a_row_read_while_the_store_changed_it_is_not_kept() {
        let hot = HotRows::default();
        let m = merchant("m_1");
        let read = hot.generation();
        hot.forget();
        hot.keep_merchant(read, &m);
        assert_eq!(hot.merchant(&m.id), None);
        hot.keep_merchant(hot.generation(), &m);
        assert_eq!(hot.merchant(&m.id), Some(m));
    }

    #[test]
    fn the_shelf_never_holds_more_than_its_bound() {
        let mut shelf: Shelf<usize, ()> = Shelf::default();
        for n in 0..=MOST {
            shelf.put(n, ());
        }
        assert!(shelf.rows.len() <= MOST, "{}", shelf.rows.len());
        assert_eq!(
            shelf.get_at(&MOST, Instant::now()),
            Some(()),
            "the newest row is kept"
        );
    }
}
