//! The cardholder's own page, behind the signed link in every mail: the card's trusted browsers
//! (each removable) and its cases the issuer has not decided yet.
//!
//! The link names one card as long as the issuer has not changed its address since the link was
//! mailed ([`crate::tokens::Tokens::selfservice_holds`]); everything here is that card's only.
//! Removing a browser revokes this card's trust in it, so its next purchase with the card is
//! challenged; other cards' trust in the same browser stays.

use super::{Flow, FlowError};
use crate::model::{CardStatus, Cardholder, CardholderId, DeviceId, ProtectionCase};
use crate::store::TrustedBrowser;

/// What the cardholder's page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfService {
    /// The card the link names.
    pub cardholder: Cardholder,
    /// Its live trusted browsers, oldest first.
    pub browsers: Vec<TrustedBrowser>,
    /// Its open and under-review cases, oldest first.
    pub cases: Vec<ProtectionCase>,
}

impl Flow<'_> {
    /// The page the self-service link `token` opens.
    ///
    /// # Errors
    ///
    /// [`FlowError::InvalidSelfServiceLink`] for a forged or expired link, or one naming a card
    /// no longer enrolled.
    pub async fn selfservice(&self, token: &str) -> Result<SelfService, FlowError> {
        let cardholder = self.selfservice_card(token).await?;
        let now = self.now();
        let browsers = self.store.trusted_browsers(&cardholder.id, now).await?;
        let cases = self.store.unresolved_cases_of(&cardholder.id).await?;
        Ok(SelfService {
            cardholder,
            browsers,
            cases,
        })
    }

    /// Removes the browser `device_id` from the card the link `token` names; answers the card.
    ///
    /// # Errors
    ///
    /// As [`Flow::selfservice`]; [`FlowError::UnknownBrowser`] (nothing changed) when
    /// `device_id` is not a browser this card trusts now.
    pub async fn remove_browser(
        &self,
        token: &str,
        device_id: &str,
    ) -> Result<Cardholder, FlowError> {
        let cardholder = self.selfservice_card(token).await?;
        let device_id = DeviceId::parse(device_id).ok_or(FlowError::UnknownBrowser)?;
        let removed = self
            .store
            .revoke_browser(&cardholder.id, &device_id, self.now())
            .await?;
        if !removed {
            return Err(FlowError::UnknownBrowser);
        }
        tracing::info!(cardholder = %cardholder.id, device = %device_id,
            "trusted browser removed by its cardholder");
        Ok(cardholder)
    }

    /// The enrolled card a valid, unexpired link names, if the issuer has not changed the card's
    /// address since the link was mailed (a link from before the last change, whatever the
    /// address is now, or one naming an unenrolled card, names nobody).
    async fn selfservice_card(&self, token: &str) -> Result<Cardholder, FlowError> {
        let tokens = self.tokens();
        let id: CardholderId = tokens
            .selfservice_claim(token, self.now())
            .ok_or(FlowError::InvalidSelfServiceLink)?;
        let cardholder = self.store.cardholder(&id).await?;
        cardholder
            .filter(|c| c.status != CardStatus::Unenrolled)
            .filter(|c| tokens.selfservice_holds(token, c))
            .ok_or(FlowError::InvalidSelfServiceLink)
    }
}
