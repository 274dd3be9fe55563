//! The demo shop's order book: what its backend promised to charge, and whether it did.
//!
//! A real shop keeps orders in its own database; the demo keeps them in memory, bounded so a
//! script hammering `/demo/shop/checkout` cannot grow the process without limit. Losing them on
//! restart only means an open checkout has to be started again.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// How many orders are remembered; the oldest is forgotten first.
const CAPACITY: usize = 1000;

/// One checkout, as the shop's backend fixed it before the browser saw anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The shop's reference, sent to the verifier as `order_ref`.
    pub reference: String,
    /// Yen.
    pub amount: u64,
    /// The verifier's authentication id for this order.
    pub authentication: String,
    /// The `jti` of the result token that paid it, once paid: a token is redeemed once.
    pub paid_with: Option<String>,
}

/// Orders by reference.
#[derive(Debug, Default)]
pub struct Orders {
    // A std mutex: it is never held across an `.await`, and each use is a map lookup.
    inner: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    by_ref: HashMap<String, Order>,
    /// Insertion order, for forgetting the oldest.
    age: VecDeque<String>,
}

/// Why an order could not be marked paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayError {
    /// No such order (never placed, or forgotten).
    Unknown,
    /// Already paid, possibly with this very token: a replay.
    AlreadyPaid,
}

impl Orders {
    /// Remembers `order`, forgetting the oldest one when full.
    pub fn insert(&self, order: Order) {
        let mut book = self.lock();
        if book.by_ref.len() >= CAPACITY {
            if let Some(oldest) = book.age.pop_front() {
                book.by_ref.remove(&oldest);
            }
        }
        book.age.push_back(order.reference.clone());
        book.by_ref.insert(order.reference.clone(), order);
    }

    /// The order `reference`, if remembered.
    pub fn get(&self, reference: &str) -> Option<Order> {
        self.lock().by_ref.get(reference).cloned()
    }

    /// Marks the order paid with the token `jti`, once.
    ///
    /// # Errors
    ///
    /// [`PayError`] when the order is unknown or was paid before.
    pub fn pay(&self, reference: &str, jti: &str) -> Result<(), PayError> {
        let mut book = self.lock();
        let order = book.by_ref.get_mut(reference).ok_or(PayError::Unknown)?;
        if order.paid_with.is_some() {
            return Err(PayError::AlreadyPaid);
        }
        order.paid_with = Some(jti.to_owned());
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        // A panic while holding the lock cannot leave the map half-written (every update is a
        // single insert or field store), so a poisoned lock is still a consistent book.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(n: usize) -> Order {
        Order {
            reference: format!("order-{n}"),
            amount: 100,
            authentication: format!("au_{n}"),
            paid_with: None,
        }
    }

    #[test]
    fn an_order_is_paid_once() {
        let orders = Orders::default();
        orders.insert(order(1));
        assert_eq!(orders.pay("order-1", "j1"), Ok(()));
        assert_eq!(orders.pay("order-1", "j2"), Err(PayError::AlreadyPaid));
        assert_eq!(orders.pay("order-2", "j1"), Err(PayError::Unknown));
        assert_eq!(
            orders.get("order-1").unwrap().paid_with.as_deref(),
            Some("j1")
        );
    }

    #[test]
    fn the_oldest_order_is_forgotten_first() {
        let orders = Orders::default();
        for n in 0..=CAPACITY {
            orders.insert(order(n));
        }
        assert!(orders.get("order-0").is_none());
        assert!(orders.get("order-1").is_some());
        assert!(orders.get(&format!("order-{CAPACITY}")).is_some());
    }
}
