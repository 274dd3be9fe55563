//! [`BrowserStore`]: a card's trusted browsers as its cardholder sees them, and removing one.
//!
//! Trust is per (browser, card) (`device_trust`): removing a browser revokes that card's trust
//! in it only — another card trusted in the same browser, and the card's other browsers, keep
//! theirs. The browser's next purchase with the card is then challenged, as after a report.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use super::StoreError;
use super::rows::{db, parse_id};
use super::sql_store::{Pool, SqlStore, db_read, db_write};
use crate::model::{BrowserInfo, CardholderId, DeviceId, MerchantId};

/// `$1` cardholder_id, `$2` now: the card's live trust (neither revoked nor expired, in a device
/// not revoked), oldest first, each with the newest authentication of the card in that browser
/// (its time and its browser data), if any.
const TRUSTED_BROWSERS: &str = "SELECT t.device_id, t.created_at, t.expires_at, d.merchant_id, \
     m.name AS merchant_name, a.created_at AS last_used, a.language, a.timezone, a.user_agent \
     FROM device_trust t \
     JOIN devices d ON d.id = t.device_id \
     JOIN merchants m ON m.id = d.merchant_id \
     LEFT JOIN authentications a ON a.id = (SELECT x.id FROM authentications x \
         WHERE x.device_id = t.device_id AND x.cardholder_id = t.cardholder_id \
         ORDER BY x.created_at DESC, x.id DESC LIMIT 1) \
     WHERE t.cardholder_id = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 \
         AND d.revoked_at IS NULL \
     ORDER BY t.created_at, t.device_id";
/// `$1` now, `$2` cardholder_id, `$3` device_id: that card's live trust in that browser only.
const REVOKE_BROWSER: &str = "UPDATE device_trust SET revoked_at = $1 \
     WHERE cardholder_id = $2 AND device_id = $3 AND revoked_at IS NULL AND expires_at > $1";

/// A browser a card trusts, as the cardholder's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedBrowser {
    /// The browser's device.
    pub device_id: DeviceId,
    /// The merchant whose site the browser is trusted at (a device is per merchant origin).
    pub merchant_id: MerchantId,
    /// That merchant's display name.
    pub merchant_name: String,
    /// The browser as its newest purchase with the card reported it; empty when unknown.
    pub browser: BrowserInfo,
    /// When the card started trusting it (its correct code), seconds since the Unix epoch.
    pub trusted_since: i64,
    /// The newest purchase with the card in it; `None` if none is recorded.
    pub last_used: Option<i64>,
    /// When the trust lapses unless a purchase slides it.
    pub expires_at: i64,
}

/// A card's trusted browsers, over the same database as [`super::Store`].
#[async_trait]
pub trait BrowserStore {
    /// The card's live trust at `now` (not revoked, not expired), oldest first.
    async fn trusted_browsers(
        &self,
        cardholder_id: &CardholderId,
        now: i64,
    ) -> Result<Vec<TrustedBrowser>, StoreError>;
    /// Revokes the card's live trust in one browser; `false` (nothing changed) when the card
    /// has no live trust in it. Other cards' trust in the browser and the card's other browsers
    /// stay.
    async fn revoke_browser(
        &self,
        cardholder_id: &CardholderId,
        device_id: &DeviceId,
        now: i64,
    ) -> Result<bool, StoreError>;
}

#[async_trait]
impl BrowserStore for SqlStore {
    async fn trusted_browsers(
        &self,
        cardholder_id: &CardholderId,
        now: i64,
    ) -> Result<Vec<TrustedBrowser>, StoreError> {
        db_read!(self, |pool| {
            sqlx::query(TRUSTED_BROWSERS)
                .bind(cardholder_id.as_str())
                .bind(now)
                .fetch_all(pool)
                .await
                .map_err(db)?
                .iter()
                .map(BrowserRow::trusted_browser)
                .collect()
        })
    }

    async fn revoke_browser(
        &self,
        cardholder_id: &CardholderId,
        device_id: &DeviceId,
        now: i64,
    ) -> Result<bool, StoreError> {
        db_write!(self, |pool| {
            let done = sqlx::query(REVOKE_BROWSER)
                .bind(now)
                .bind(cardholder_id.as_str())
                .bind(device_id.as_str())
                .execute(pool)
                .await
                .map_err(db)?;
            Ok(done.rows_affected() == 1)
        })
    }
}

/// A [`TRUSTED_BROWSERS`] row of either database.
trait BrowserRow {
    /// The browser it describes.
    fn trusted_browser(&self) -> Result<TrustedBrowser, StoreError>;
}

/// Implements [`BrowserRow`] for the row type `$row`.
macro_rules! browser_row {
    ($row:ty) => {
        impl BrowserRow for $row {
            fn trusted_browser(&self) -> Result<TrustedBrowser, StoreError> {
                Ok(TrustedBrowser {
                    device_id: parse_id(self.try_get("device_id").map_err(db)?, "device_id")?,
                    merchant_id: parse_id(self.try_get("merchant_id").map_err(db)?, "merchant_id")?,
                    merchant_name: self.try_get("merchant_name").map_err(db)?,
                    // As for an authentication: a value that no longer parses reads as absent.
                    browser: BrowserInfo::from_stored(
                        self.try_get("language").map_err(db)?,
                        self.try_get("timezone").map_err(db)?,
                        self.try_get("user_agent").map_err(db)?,
                    ),
                    trusted_since: self.try_get("created_at").map_err(db)?,
                    last_used: self.try_get("last_used").map_err(db)?,
                    expires_at: self.try_get("expires_at").map_err(db)?,
                })
            }
        }
    };
}

browser_row!(SqliteRow);
browser_row!(PgRow);
