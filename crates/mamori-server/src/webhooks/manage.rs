//! Setting, showing, rotating and removing an owner's endpoint: the one implementation behind
//! `mamori webhooks …` and the admin API's webhook routes.
//!
//! A new secret is made here, printed to its owner once ([`Secret::expose`]) and stored only
//! sealed. A rotation keeps the previous secrets signing for [`SECRET_OVERLAP`] beside the new
//! one, so a receiver can switch without missing a delivery.

use super::deliver::EndpointUrl;
use super::sign::Secret;
use super::{Endpoint, Owner};
use crate::secrets::RandomError;
use crate::store::{Store, StoreError};
use crate::wire::webhooks::{EndpointSecrets, WebhookEndpoint, WebhookSecret};

/// Seconds a rotated-out secret keeps signing beside the new one.
pub const SECRET_OVERLAP: i64 = 24 * 60 * 60;

/// Why a change was refused.
#[derive(Debug)]
pub enum ManageError {
    /// The URL breaks a rule of [`EndpointUrl::parse`]; the text says which.
    InvalidUrl(&'static str),
    /// The merchant does not exist.
    NoSuchMerchant,
    /// The owner has no endpoint.
    NoEndpoint,
    /// No randomness for a secret.
    Random(RandomError),
    /// The store failed.
    Store(StoreError),
}

impl std::fmt::Display for ManageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidUrl(why) => f.write_str(why),
            Self::NoSuchMerchant => f.write_str("no such merchant"),
            Self::NoEndpoint => f.write_str("no webhook endpoint is set"),
            Self::Random(e) => e.fmt(f),
            Self::Store(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ManageError {}

impl From<StoreError> for ManageError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<RandomError> for ManageError {
    fn from(error: RandomError) -> Self {
        Self::Random(error)
    }
}

/// Where the webhook commands act, with what they need.
#[derive(Clone, Copy)]
pub struct Endpoints<'a> {
    /// Persistence.
    pub store: &'a dyn Store,
    /// Seals new secrets ([`crate::secrets::Secrets::webhook_key`]).
    pub key: &'a [u8; 32],
    /// Seconds since the Unix epoch.
    pub now: i64,
    /// `webhooks.allow_private_addresses`: whether `http://` to loopback is accepted.
    pub allow_private_addresses: bool,
}

impl std::fmt::Debug for Endpoints<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoints")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl Endpoints<'_> {
    /// Points `owner`'s endpoint at `url` with a fresh secret (every older one stops at once),
    /// live again if it was disabled; answers the secret, shown this once.
    ///
    /// # Errors
    ///
    /// [`ManageError::InvalidUrl`], [`ManageError::NoSuchMerchant`], or a store failure.
    pub async fn set(&self, owner: &Owner, url: &str) -> Result<WebhookSecret, ManageError> {
        let url = EndpointUrl::parse(url, self.allow_private_addresses)
            .map_err(ManageError::InvalidUrl)?;
        self.check_owner(owner).await?;
        let secret = Secret::generate()?;
        let url = url.as_str();
        self.store
            .set_webhook(owner, &url, &secret.seal(self.key)?, self.now)
            .await?;
        Ok(WebhookSecret {
            url,
            secret: secret.expose(),
        })
    }

    /// Adds a fresh secret; the older ones keep signing for [`SECRET_OVERLAP`].
    ///
    /// # Errors
    ///
    /// [`ManageError::NoEndpoint`], [`ManageError::NoSuchMerchant`], or a store failure.
    pub async fn rotate(&self, owner: &Owner) -> Result<WebhookSecret, ManageError> {
        self.check_owner(owner).await?;
        let endpoint = self.endpoint(owner).await?;
        let secret = Secret::generate()?;
        let rotated = self
            .store
            .rotate_webhook_secret(
                owner,
                &secret.seal(self.key)?,
                self.now,
                self.now + SECRET_OVERLAP,
            )
            .await?;
        if !rotated {
            // Removed between the two statements.
            return Err(ManageError::NoEndpoint);
        }
        Ok(WebhookSecret {
            url: endpoint.url,
            secret: secret.expose(),
        })
    }

    /// The endpoint, its live secrets' dates and its events' counts.
    ///
    /// # Errors
    ///
    /// [`ManageError::NoEndpoint`], [`ManageError::NoSuchMerchant`], or a store failure.
    pub async fn show(&self, owner: &Owner) -> Result<WebhookEndpoint, ManageError> {
        self.check_owner(owner).await?;
        let endpoint = self.endpoint(owner).await?;
        Ok(WebhookEndpoint {
            owner: endpoint.owner.as_str().to_owned(),
            url: endpoint.url,
            created_at: endpoint.created_at,
            disabled_at: endpoint.disabled.as_ref().map(|d| d.at),
            disabled_reason: endpoint.disabled.map(|d| d.reason),
            secrets: endpoint
                .secrets
                .iter()
                .map(|s| EndpointSecrets {
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                })
                .collect(),
            pending: endpoint.pending,
            given_up: endpoint.given_up,
        })
    }

    /// Removes the endpoint; the events still owed to it are given up.
    ///
    /// # Errors
    ///
    /// [`ManageError::NoEndpoint`], [`ManageError::NoSuchMerchant`], or a store failure.
    pub async fn remove(&self, owner: &Owner) -> Result<(), ManageError> {
        self.check_owner(owner).await?;
        if self.store.remove_webhook(owner).await? {
            Ok(())
        } else {
            Err(ManageError::NoEndpoint)
        }
    }

    async fn endpoint(&self, owner: &Owner) -> Result<Endpoint, ManageError> {
        self.store
            .webhook(owner, self.now)
            .await?
            .ok_or(ManageError::NoEndpoint)
    }

    async fn check_owner(&self, owner: &Owner) -> Result<(), ManageError> {
        match owner {
            Owner::Issuer => Ok(()),
            Owner::Merchant(id) => match self.store.merchant(id).await? {
                Some(_) => Ok(()),
                None => Err(ManageError::NoSuchMerchant),
            },
        }
    }
}
