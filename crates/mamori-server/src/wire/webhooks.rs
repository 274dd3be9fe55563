//! The admin API's and `mamori webhooks --json`'s webhook endpoint documents.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `PUT …/webhook`: where to send events.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetWebhook {
    /// `https://…`, or `http://` to a loopback address; no credentials, at most 2048
    /// characters.
    #[schema(max_length = 2048)]
    pub url: String,
}

/// A new signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSecret {
    /// Where events go.
    pub url: String,
    /// `whsec_` and the base64 of 32 random bytes: what a Standard Webhooks library verifies
    /// with.
    pub secret: String,
}

/// An endpoint as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// `issuer`, or the merchant's id.
    pub owner: String,
    /// Where events go.
    pub url: String,
    /// When it was set.
    pub created_at: i64,
    /// When it answered `410 Gone` and stopped receiving events; `null` while live.
    pub disabled_at: Option<i64>,
    /// What it answered then; `null` while live.
    pub disabled_reason: Option<String>,
    /// The secrets that sign now, newest first (never the secrets themselves).
    pub secrets: Vec<EndpointSecrets>,
    /// Events owed: queued or being retried.
    pub pending: i64,
    /// Events given up: out of retries, or owed when the endpoint was disabled or removed.
    pub given_up: i64,
}

/// One live secret's dates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointSecrets {
    /// When it was made.
    pub created_at: i64,
    /// When it stops signing (a rotation's overlap); `null` while current.
    pub expires_at: Option<i64>,
}
