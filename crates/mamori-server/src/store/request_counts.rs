//! The rate-limit counts of a SQLite store, kept in the verifier's memory.
//!
//! SQLite serves one verifier process (several instances share PostgreSQL instead), so there is
//! no other instance to share the counts with: counting in the database only made every request
//! queue one more write for SQLite's one writer connection. Here a count is a map entry behind
//! a mutex held for one lookup. A restart forgets the counts, which lets a client start its
//! current window afresh — the same as PostgreSQL forgetting its last moments' counts in a
//! crash (see the server README's "Durability").

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Requests per bucket and window start.
#[derive(Debug, Default)]
pub(super) struct RequestCounts {
    counts: Mutex<HashMap<(String, i64), i64>>,
}

impl RequestCounts {
    /// Counts one request in `bucket`'s window starting at `window_start`, and answers the
    /// window's count so far, this request included.
    pub(super) fn count(&self, bucket: &str, window_start: i64) -> i64 {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let hits = counts.entry((bucket.to_owned(), window_start)).or_insert(0);
        *hits += 1;
        *hits
    }

    /// Takes back one request counted in `bucket`'s window starting at `window_start`; nothing
    /// for a window with no count (never counted, or forgotten).
    pub(super) fn uncount(&self, bucket: &str, window_start: i64) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        // The key is a pair holding an owned bucket name; the one allocation it costs.
        if let Some(hits) = counts.get_mut(&(bucket.to_owned(), window_start)) {
            *hits = (*hits - 1).max(0);
        }
    }

    /// The count of `bucket`'s window starting at `window_start`, counting nothing: zero for a
    /// window with no count.
    pub(super) fn counted(&self, bucket: &str, window_start: i64) -> i64 {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        // The key is a pair holding an owned bucket name; the one allocation it costs.
        counts
            .get(&(bucket.to_owned(), window_start))
            .copied()
            .unwrap_or(0)
    }

    /// Forgets the counts of windows that started before `before`; answers how many.
    pub(super) fn forget(&self, before: i64) -> u64 {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let held = counts.len();
        counts.retain(|(_, start), _| *start >= before);
        let forgotten = held - counts.len();
        // A burst's buckets are gone with their window; so is the memory they took.
        counts.shrink_to_fit();
        u64::try_from(forgotten).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bucket_and_window_counts_on_its_own_and_old_windows_are_forgotten() {
        let counts = RequestCounts::default();
        assert_eq!(counts.count("a", 60), 1);
        assert_eq!(counts.count("a", 60), 2);
        assert_eq!(counts.count("b", 60), 1);
        counts.uncount("a", 60);
        assert_eq!(
            counts.count("a", 60),
            2,
            "one taken back, one counted again"
        );
        counts.uncount("c", 120);
        assert_eq!(
            counts.count("c", 120),
            1,
            "taking back from nothing leaves nothing"
        );
        assert_eq!(counts.count("a", 120), 1);
        assert_eq!(counts.forget(120), 2, "both buckets' window at 60");
        assert_eq!(counts.count("a", 120), 2, "the current window is kept");
        assert_eq!(counts.count("a", 60), 1, "a forgotten window starts again");
    }
}
