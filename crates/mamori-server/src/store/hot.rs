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
//! for `security.key_overlap`, and a retired key, a replaced origin or a new endpoint taking
//! two more seconds to reach every instance is well inside what an operator can observe.
//!
//! Only rows that exist are kept, and at most [`MOST`] of each kind: a caller presenting made-up
//! `kid`s cannot grow the memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::model::{KeyId, Merchant, MerchantId, MerchantKey};

/// How long a kept row is served before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(2);

/// The most rows of one kind kept; past it the shelf is emptied and fills again.
const MOST: usize = 10_000;

/// Rows of one kind by their key, each with when it was read.
#[derive(Debug)]
struct Shelf<K, V> {
    rows: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K, V> Default for Shelf<K, V> {
    fn default() -> Self {
        Self {
            rows: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    /// The row kept under `key`, if read less than [`FRESH_FOR`] ago.
    fn get(&self, key: &K) -> Option<V> {
        self.get_at(key, Instant::now())
    }

    /// [`Self::get`] at `now`.
    fn get_at(&self, key: &K, now: Instant) -> Option<V> {
        let rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        rows.get(key)
            .filter(|(read, _)| now.saturating_duration_since(*read) < FRESH_FOR)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read just now, under `key`.
    fn put(&self, key: K, value: V) {
        let mut rows = self.rows.lock().unwrap_or_else(PoisonError::into_inner);
        if rows.len() >= MOST {
            rows.clear();
        }
        rows.insert(key, (Instant::now(), value));
    }

    fn clear(&self) {
        self.rows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The kept merchant rows of one store.
#[derive(Debug, Default)]
pub(super) struct HotRows {
    /// Goes up at each [`Self::forget`].
    generation: AtomicU64,
    merchants: Shelf<MerchantId, Merchant>,
    keys: Shelf<MerchantId, Vec<MerchantKey>>,
    kids: Shelf<KeyId, MerchantKey>,
}

/// When a read started: what a row read from the database is kept under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Generation(u64);

impl HotRows {
    /// Taken before reading a row from the database, and handed to `keep_…` with it.
    pub(super) fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    /// Whether nothing was forgotten since `read`: a row read then may be kept.
    fn current(&self, read: Generation) -> bool {
        self.generation.load(Ordering::Acquire) == read.0
    }

    /// The merchant with this id, if kept and fresh.
    pub(super) fn merchant(&self, id: &MerchantId) -> Option<Merchant> {
        self.merchants.get(id)
    }

    /// Keeps a merchant read since `read`.
    pub(super) fn keep_merchant(&self, read: Generation, merchant: &Merchant) {
        if self.current(read) {
            self.merchants.put(merchant.id.clone(), merchant.clone());
        }
    }

    /// The merchant's keys, if kept and fresh.
    pub(super) fn keys(&self, merchant_id: &MerchantId) -> Option<Vec<MerchantKey>> {
        self.keys.get(merchant_id)
    }

    /// Keeps a merchant's keys read since `read` (a merchant always has one: none is not
    /// kept).
    pub(super) fn keep_keys(
        &self,
        read: Generation,
        merchant_id: &MerchantId,
        keys: &[MerchantKey],
    ) {
        if !keys.is_empty() && self.current(read) {
            self.keys.put(merchant_id.clone(), keys.to_vec());
        }
    }

    /// The key with this `kid`, if kept and fresh.
    pub(super) fn key(&self, kid: &KeyId) -> Option<MerchantKey> {
        self.kids.get(kid)
    }

    /// Keeps a key read since `read`.
    pub(super) fn keep_key(&self, read: Generation, key: &MerchantKey) {
        if self.current(read) {
            self.kids.put(key.kid.clone(), key.clone());
        }
    }

    /// Forgets every kept row, and any read under way: this store has just changed one.
    pub(super) fn forget(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.merchants.clear();
        self.keys.clear();
        self.kids.clear();
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
        assert_eq!(hot.merchants.get_at(&m.id, later), None, "stale");
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
        let shelf: Shelf<usize, ()> = Shelf::default();
        for n in 0..=MOST {
            shelf.put(n, ());
        }
        let held = shelf.rows.lock().unwrap().len();
        assert!(held <= MOST, "{held}");
        assert_eq!(shelf.get(&MOST), Some(()), "the newest row is kept");
    }
}
