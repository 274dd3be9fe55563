//! `/widget/`: the widget's release files, loadable from any merchant's origin.
//!
//! A checkout page loads `mamori-<hash>.js` by script tag with `integrity` and
//! `crossorigin="anonymous"` (a CORS request), and the loader then `fetch`es
//! `mamori-<hash>.wasm`: both are cross-origin reads from the shop's origin. So every file here
//! carries `Access-Control-Allow-Origin: *` — they hold nothing private and are requested
//! without credentials — and `Cross-Origin-Resource-Policy: cross-origin`, so a shop that
//! isolates itself with COEP can still load them. What the widget then *does* is checked per
//! merchant origin by the API routes, not here.
//!
//! The files are those `cargo xtask package` writes to `target/www`, read into memory when the
//! verifier starts (a release never changes under a running verifier; a new one is a restart):
//!
//! - `mamori-<hash>.js` and `mamori-<hash>.wasm`: content-addressed, so their bytes never change
//!   under a name; cached for a year as `immutable`.
//! - `mamori.js` (the current loader, for pages that do not pin a release) and `manifest.json`
//!   (which names the current files and their SRI hashes): cached for five minutes.
//!
//! Each file is also kept gzipped and sent so to clients that accept it. `cargo xtask package`
//! writes `<file>.gz` beside each file, compressed with Zopfli (a few percent smaller than the
//! best zlib level, and too slow to run at every start); a `.gz` is served only if it inflates
//! to exactly the file's bytes, and a file without one (or with a stale one) is gzipped here.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Path as UrlPath;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// Cache policy of content-addressed files: their bytes never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Cache policy of the names that move to each new release.
const SHORT: &str = "public, max-age=300";

/// The part of `manifest.json` the server relies on.
#[derive(Debug, Deserialize)]
struct Manifest {
    /// The content-addressed loader.
    script: String,
    /// The content-addressed WebAssembly.
    wasm: String,
}

/// One file, ready to answer.
#[derive(Debug)]
struct File {
    content_type: &'static str,
    cache: &'static str,
    // `Bytes`, so answering clones a reference count, not the file.
    plain: Bytes,
    gzip: Bytes,
}

/// The widget's files by name.
#[derive(Debug, Clone)]
pub struct WidgetFiles(Arc<HashMap<String, File>>);

/// The widget directory cannot be served.
#[derive(Debug)]
pub struct WidgetDirError(String);

impl std::fmt::Display for WidgetDirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WidgetDirError {}

impl WidgetFiles {
    /// Reads a release directory: `manifest.json` and every `.js`, `.wasm` and `.json` file
    /// beside it.
    ///
    /// # Errors
    ///
    /// [`WidgetDirError`] when the directory or its manifest is missing or unreadable, or a
    /// file the manifest names is absent.
    pub fn load(dir: &Path) -> Result<Self, WidgetDirError> {
        let fail = |what: String| {
            WidgetDirError(format!(
                "widget_dir {}: {what} (build the widget with `cargo xtask package`, which \
                 writes target/www)",
                dir.display()
            ))
        };
        let manifest = std::fs::read(dir.join("manifest.json"))
            .map_err(|e| fail(format!("cannot read manifest.json: {e}")))?;
        let manifest: Manifest = serde_json::from_slice(&manifest)
            .map_err(|e| fail(format!("manifest.json is not a widget manifest: {e}")))?;
        let entries = std::fs::read_dir(dir).map_err(|e| fail(e.to_string()))?;
        let mut files = HashMap::new();
        for entry in entries {
            let entry = entry.map_err(|e| fail(e.to_string()))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Some(content_type) = content_type(&name) else {
                continue;
            };
            if !entry
                .file_type()
                .map_err(|e| fail(e.to_string()))?
                .is_file()
            {
                continue;
            }
            let plain = std::fs::read(entry.path()).map_err(|e| fail(format!("{name}: {e}")))?;
            let gzip = match precompressed(&entry.path(), &plain) {
                Some(gzip) => gzip,
                None => gzip(&plain).map_err(|e| fail(format!("{name}: {e}")))?,
            };
            let cache = if name == manifest.script || name == manifest.wasm {
                IMMUTABLE
            } else {
                SHORT
            };
            let file = File {
                content_type,
                cache,
                plain: Bytes::from(plain),
                gzip: Bytes::from(gzip),
            };
            files.insert(name, file);
        }
        for named in [&manifest.script, &manifest.wasm] {
            if !files.contains_key(named) {
                return Err(fail(format!(
                    "manifest.json names {named}, which is missing"
                )));
            }
        }
        Ok(Self(Arc::new(files)))
    }

    /// `GET /widget/{file}`.
    pub fn router(self) -> Router<AppState> {
        Router::new().route(
            "/widget/{file}",
            get(move |UrlPath(name): UrlPath<String>, headers: HeaderMap| {
                let files = self.clone();
                async move { files.answer(&name, &headers) }
            }),
        )
    }

    fn answer(&self, name: &str, request: &HeaderMap) -> Response {
        let Some(file) = self.0.get(name) else {
            return ApiError::NotFound.into_response();
        };
        let gzip = accepts_gzip(request);
        let body = if gzip { &file.gzip } else { &file.plain };
        let mut response = Response::new(Body::from(body.clone()));
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(file.cache));
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        headers.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if gzip {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        response
    }
}

/// The type a file is served as; `None` leaves it unserved.
fn content_type(name: &str) -> Option<&'static str> {
    // A dot file or a name with anything but these characters is not a release file.
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if !plain || name.starts_with('.') {
        return None;
    }
    let (_, extension) = name.rsplit_once('.')?;
    match extension {
        "js" => Some("text/javascript; charset=utf-8"),
        "wasm" => Some("application/wasm"),
        "json" => Some("application/json"),
        _ => None,
    }
}

/// Whether the request's `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The `<path>.gz` beside `path`, if there is one and it inflates to exactly `plain`: a stale
/// one (left by an earlier build, or edited) is not served, and nothing past `plain`'s length is
/// ever inflated.
fn precompressed(path: &Path, plain: &[u8]) -> Option<Vec<u8>> {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    let gzip = std::fs::read(&name).ok()?;
    let limit = u64::try_from(plain.len()).ok()?.saturating_add(1);
    let mut inflated = Vec::with_capacity(plain.len());
    GzDecoder::new(gzip.as_slice())
        .take(limit)
        .read_to_end(&mut inflated)
        .ok()?;
    if inflated == plain {
        return Some(gzip);
    }
    tracing::warn!(file = %path.display(), "ignoring a .gz that does not match its file");
    None
}

fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_release_files_are_served() {
        assert_eq!(
            content_type("mamori-0123abcd.js"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            content_type("mamori-0123abcd.wasm"),
            Some("application/wasm")
        );
        assert_eq!(content_type("manifest.json"), Some("application/json"));
        for name in [".env.js", "notes.txt", "a b.js", "..js", "mamori"] {
            assert_eq!(content_type(name), None, "{name}");
        }
    }

    #[test]
    fn gzip_is_negotiated() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn a_precompressed_file_is_served_only_when_it_inflates_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mamori-0123abcd.js");
        let plain = b"export const widget = 'mamori';\n".repeat(20);
        std::fs::write(&path, &plain).unwrap();
        assert_eq!(precompressed(&path, &plain), None, "no .gz beside it");

        let gz = dir.path().join("mamori-0123abcd.js.gz");
        let good = gzip(&plain).unwrap();
        std::fs::write(&gz, &good).unwrap();
        assert_eq!(precompressed(&path, &plain), Some(good.clone()));

        let mut longer = plain.clone();
        longer.push(b'\n');
        for (what, bytes) in [
            ("another file's", gzip(b"stale").unwrap()),
            ("a longer file's", gzip(&longer).unwrap()),
            ("a truncated", good[..good.len() / 2].to_vec()),
            ("not gzip", plain.clone()),
        ] {
            std::fs::write(&gz, &bytes).unwrap();
            assert_eq!(precompressed(&path, &plain), None, "{what} .gz");
        }
    }
}
