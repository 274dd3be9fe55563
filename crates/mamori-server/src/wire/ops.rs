//! The operations answers: liveness, readiness, and the widget's release manifest.

use serde::Serialize;
use utoipa::ToSchema;

/// `200` to `GET /healthz` and `GET /readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// `ok` from `/healthz`, `ready` from `/readyz`.
    pub status: HealthStatus,
}

/// What [`Health`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// The process is up.
    Ok,
    /// The database answers.
    Ready,
}

/// `GET /widget/manifest.json`: the current release, as `cargo xtask package` writes it. The
/// verifier serves the file as it is; this type only documents it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetManifest {
    /// The widget's version.
    pub version: String,
    /// The content-addressed loader (`mamori-<hash>.js`).
    pub script: String,
    /// Its Subresource Integrity hash (`sha384-…`).
    pub integrity: String,
    /// The content-addressed WebAssembly (`mamori-<hash>.wasm`).
    pub wasm: String,
    /// Its Subresource Integrity hash.
    pub wasm_integrity: String,
}
