//! Starting an authentication for a merchant's purchase, and reading it back.
//!
//! Succeeds for any well-formed card number, enrolled or not: only the merchant's later read
//! says which (see the crate docs on enumeration). A sandbox merchant may name only the test
//! cards of [`crate::sandbox`].
//!
//! With an idempotency key, a retried request (same key, same purchase) answers the
//! authentication the first one created — same id, same client secret, nothing new stored or
//! counted — and another purchase under a used key is refused.
//!
//! An order has at most one live (pending or challenging) authentication per merchant: while
//! one is live, creating another for the same `order_ref` is refused with
//! [`FlowError::OrderInProgress`] and stores nothing, so the merchant's binding of a result to
//! the authentication it created (`sub`) cannot be sidestepped by a second one of the same order
//! made with another card. The store's unique index decides (one statement, race-free); a
//! blocking authentication already past its lifetime is first expired, as any read of it would,
//! and then no longer blocks. A finished authentication never blocks. A retry of the request
//! that created the live one (same idempotency key) still answers it, not a refusal.

use sha2::{Digest, Sha256};

use super::finish::expiry_due;
use super::{Flow, FlowError};
use crate::card::CardNumber;
use crate::model::{
    Amount, Authentication, AuthenticationId, ChallengePreference, Currency, IdempotencyKey,
    MailboxMessage, MerchantId, MerchantKey, OrderRef, Progress,
};
use crate::sandbox::SandboxCard;
use crate::secrets::{hex, hmac_sha256};
use crate::store::StoreError;

/// How many kept mails [`Flow::sandbox_mail`] answers.
const SANDBOX_MAIL_LIMIT: i64 = 50;

/// The card of a purchase, as the merchant named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardInput {
    /// The number itself (Luhn-checked).
    Number(CardNumber),
    /// The issuer's reference for it: 64 lowercase hex digits.
    Reference(String),
}

/// A purchase to authenticate, parsed from the merchant's request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPurchase {
    /// The card.
    pub card: CardInput,
    /// The amount.
    pub amount: Amount,
    /// Its currency.
    pub currency: Currency,
    /// The merchant's order reference.
    pub order_ref: OrderRef,
    /// The merchant's challenge preference.
    pub preference: ChallengePreference,
}

/// A started (or replayed) authentication, as the merchant is answered: no more, since a new
/// one's cardholder is found by the store as it inserts, and not read back.
#[derive(Debug)]
pub struct Created {
    /// The authentication's id.
    pub id: AuthenticationId,
    /// When it expires unless finished first.
    pub expires_at: i64,
    /// The secret the widget presents; never stored.
    pub client_secret: String,
    /// Whether this answers a retry of an earlier request.
    pub replayed: bool,
}

impl Flow<'_> {
    /// Starts an authentication of `purchase` for the merchant of `key`.
    ///
    /// # Errors
    ///
    /// [`FlowError::SandboxCardRequired`] for a sandbox merchant naming another card,
    /// [`FlowError::IdempotencyKeyReused`] for a used key with another purchase,
    /// [`FlowError::OrderInProgress`] while the merchant has a live authentication of the same
    /// order.
    pub async fn create(
        &self,
        key: &MerchantKey,
        purchase: NewPurchase,
        idempotency_key: Option<String>,
    ) -> Result<Created, FlowError> {
        let merchant = self
            .store
            .merchant(&key.merchant_id)
            .await?
            .ok_or_else(|| FlowError::Internal(format!("key {} has no merchant", key.kid)))?;
        let (card_ref, sandbox_card) = self.card_of(merchant.sandbox, &purchase.card)?;
        let request_hash = request_hash(&card_ref, &purchase);
        if let Some(used) = &idempotency_key {
            if let Some(first) = self.store.idempotency_key(&merchant.id, used).await? {
                return self.replay(&first, &request_hash).await;
            }
        }
        let now = self.now();
        let id = AuthenticationId::mint()?;
        let client_secret = self.client_secret(&id);
        let auth = Authentication {
            id: id.clone(),
            merchant_id: merchant.id.clone(),
            // Found by the insert from the card's reference (see `insert`): the answer does not
            // depend on it, so the card is not read first.
            cardholder_id: None,
            amount: purchase.amount,
            currency: purchase.currency,
            order_ref: purchase.order_ref,
            challenge_preference: purchase.preference,
            client_secret_hash: Sha256::digest(client_secret.as_bytes()).to_vec(),
            created_at: now,
            expires_at: now + self.config.security.authentication_lifetime,
            sandbox_card,
            progress: Progress::Pending,
        };
        let record = idempotency_key.map(|key| IdempotencyKey {
            merchant_id: merchant.id.clone(),
            key,
            request_hash,
            authentication_id: id,
            created_at: now,
        });
        // A test card is nobody's card, whatever its reference.
        let card_ref = sandbox_card.is_none().then_some(card_ref.as_str());
        if let Some(first) = self
            .insert_once_per_order(&auth, card_ref, record.as_ref())
            .await?
        {
            return Ok(first);
        }
        self.metrics.authentication("created");
        tracing::info!(authentication = %auth.id, merchant = %auth.merchant_id,
            "authentication created");
        Ok(Created {
            id: auth.id,
            expires_at: auth.expires_at,
            client_secret,
            replayed: false,
        })
    }

    /// Stores `auth`, of the card enrolled under `card_ref` if any, unless its order has a live
    /// authentication. A blocking one past its
    /// lifetime is expired and the insert tried once more (a second live one by then is a
    /// concurrent create, which won). `None` when stored; `Some` when a concurrent request with
    /// the same idempotency key stored first, whose retry is then the answer.
    async fn insert_once_per_order(
        &self,
        auth: &Authentication,
        card_ref: Option<&str>,
        record: Option<&IdempotencyKey>,
    ) -> Result<Option<Created>, FlowError> {
        let mut retried = false;
        loop {
            match self.insert(auth, card_ref, record).await? {
                Inserted::Stored => return Ok(None),
                Inserted::Replayed(first) => return Ok(Some(*first)),
                Inserted::OrderInProgress => {}
            }
            let blocking = self
                .store
                .live_authentication_for_order(&auth.merchant_id, &auth.order_ref)
                .await?;
            match blocking {
                Some(live) if !retried && expiry_due(&live, self.now()) => {
                    self.expire_if_due(live).await?;
                    retried = true;
                }
                // Finished between the insert and the look-up: the order is free now.
                None if !retried => retried = true,
                _ => return Err(FlowError::OrderInProgress(auth.order_ref.clone())),
            }
        }
    }

    /// One attempt at storing `auth`, with the idempotency key that created it when given. Its
    /// cardholder is the card enrolled under `card_ref`, found by the insert itself.
    async fn insert(
        &self,
        auth: &Authentication,
        card_ref: Option<&str>,
        record: Option<&IdempotencyKey>,
    ) -> Result<Inserted, FlowError> {
        let Some(record) = record else {
            return match self.store.insert_authentication(auth, card_ref).await {
                Ok(()) => Ok(Inserted::Stored),
                Err(StoreError::OrderInProgress) => Ok(Inserted::OrderInProgress),
                Err(other) => Err(other.into()),
            };
        };
        match self
            .store
            .insert_authentication_with_key(auth, record, card_ref)
            .await
        {
            Ok(()) => Ok(Inserted::Stored),
            // A concurrent request with the same key stored first (its authentication is the
            // live one of this order when the purchase is the same): answer as its retry.
            Err(refused @ (StoreError::Conflict | StoreError::OrderInProgress)) => {
                match self
                    .store
                    .idempotency_key(&record.merchant_id, &record.key)
                    .await?
                {
                    Some(first) => Ok(Inserted::Replayed(Box::new(
                        self.replay(&first, &record.request_hash).await?,
                    ))),
                    None if matches!(refused, StoreError::OrderInProgress) => {
                        Ok(Inserted::OrderInProgress)
                    }
                    None => Err(FlowError::Internal("idempotency key vanished".into())),
                }
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The card reference, and the test card when the merchant is a sandbox.
    fn card_of(
        &self,
        sandbox: bool,
        card: &CardInput,
    ) -> Result<(String, Option<SandboxCard>), FlowError> {
        match (card, sandbox) {
            (CardInput::Number(number), true) => {
                let test_card =
                    SandboxCard::from_number(number).ok_or(FlowError::SandboxCardRequired)?;
                Ok((number.reference(&self.secrets.card_key), Some(test_card)))
            }
            (CardInput::Number(number), false) => {
                Ok((number.reference(&self.secrets.card_key), None))
            }
            // A reference hides the number, so it cannot be a test card.
            (CardInput::Reference(_), true) => Err(FlowError::SandboxCardRequired),
            (CardInput::Reference(reference), false) => Ok((reference.clone(), None)),
        }
    }

    /// An authentication's client secret: keyed by the server, derived from its id, so it can
    /// be answered again to a retried request and is never stored (only its SHA-256 is).
    fn client_secret(&self, authentication_id: &AuthenticationId) -> String {
        let mac = hmac_sha256(
            &self.secrets.client_secret_key,
            &[
                b"mamori-client-secret-v1\0",
                authentication_id.as_str().as_bytes(),
            ],
        );
        format!("cs_{}", hex(&mac))
    }

    /// The answer to a retried request: the first request's authentication, if it was the
    /// same purchase.
    async fn replay(
        &self,
        first: &IdempotencyKey,
        request_hash: &[u8],
    ) -> Result<Created, FlowError> {
        // The hash is of the merchant's own request, no secret: a plain comparison is enough.
        if first.request_hash != request_hash {
            return Err(FlowError::IdempotencyKeyReused);
        }
        let auth = self
            .store
            .authentication(&first.authentication_id)
            .await?
            .ok_or_else(|| {
                FlowError::Internal("idempotency key without its authentication".into())
            })?;
        let client_secret = self.client_secret(&auth.id);
        Ok(Created {
            id: auth.id,
            expires_at: auth.expires_at,
            client_secret,
            replayed: true,
        })
    }

    /// The merchant's authentication `id`, expired first if its lifetime is over, so a merchant
    /// polling an abandoned one gets its final answer.
    ///
    /// # Errors
    ///
    /// [`FlowError::NotFound`] when there is none, or it is another merchant's.
    pub async fn lookup(
        &self,
        merchant_id: &MerchantId,
        id: &AuthenticationId,
    ) -> Result<Authentication, FlowError> {
        let auth = self
            .store
            .authentication(id)
            .await?
            .filter(|a| a.merchant_id == *merchant_id)
            .ok_or(FlowError::NotFound)?;
        self.expire_if_due(auth).await
    }

    /// A sandbox merchant's kept mail, newest first, for its tests to read codes and alerts
    /// from.
    ///
    /// # Errors
    ///
    /// [`FlowError::NotFound`] for a live merchant: its mail goes to cardholders only.
    pub async fn sandbox_mail(
        &self,
        merchant_id: &MerchantId,
    ) -> Result<Vec<MailboxMessage>, FlowError> {
        let merchant = self.store.merchant(merchant_id).await?;
        if !merchant.is_some_and(|m| m.sandbox) {
            return Err(FlowError::NotFound);
        }
        Ok(self
            .store
            .sandbox_mail(merchant_id, SANDBOX_MAIL_LIMIT)
            .await?)
    }
}

/// What one attempt at storing a new authentication came to.
enum Inserted {
    /// Stored.
    Stored,
    /// Not stored: a request with the same idempotency key stored first; its retry's answer.
    Replayed(Box<Created>),
    /// Not stored: the merchant has a live authentication of the same order.
    OrderInProgress,
}

/// What makes two create requests the same: the card (as its reference, never the number),
/// amount, currency, order and preference. Lengths prefix the strings, so no two requests
/// share an encoding.
fn request_hash(card_ref: &str, purchase: &NewPurchase) -> Vec<u8> {
    let mut hash = Sha256::new();
    for field in [
        card_ref,
        &purchase.amount.get().to_string(),
        purchase.currency.as_str(),
        purchase.order_ref.as_str(),
        purchase.preference.as_str(),
    ] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hash.finalize().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purchase(order_ref: &str, amount: i64) -> NewPurchase {
        NewPurchase {
            card: CardInput::Reference("0".repeat(64)),
            amount: Amount::new(amount).unwrap(),
            currency: Currency::new("JPY").unwrap(),
            order_ref: OrderRef::parse(order_ref.into()).unwrap(),
            preference: ChallengePreference::NoPreference,
        }
    }

    #[test]
    fn the_request_hash_tells_purchases_apart() {
        let base = request_hash("ref", &purchase("order-1", 100));
        assert_eq!(base, request_hash("ref", &purchase("order-1", 100)));
        assert_ne!(base, request_hash("ref", &purchase("order-1", 101)));
        assert_ne!(base, request_hash("ref", &purchase("order-2", 100)));
        assert_ne!(base, request_hash("other", &purchase("order-1", 100)));
        // Length prefixes: moving a character between fields changes the hash.
        assert_ne!(
            request_hash("ab", &purchase("c", 1)),
            request_hash("a", &purchase("bc", 1))
        );
    }
}
