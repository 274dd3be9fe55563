//! `mamori demo`: a seeded merchant and cards with known outcomes, mail delivered to the
//! in-database mailbox at `/demo/mailbox`, and a demo shop that buys with them.
//!
//! - this module: the merchant, the cards, [`seed`] and [`app`], the verifier's routes with the
//!   demo's beside them;
//! - [`shop`]: the shop's backend (checkout, result-token verification) and `GET /`;
//! - [`orders`]: the shop's in-memory order book;
//! - [`mailbox`]: mail delivered into the database and shown at `/demo/mailbox`.
//!
//! `mamori serve` answers [`crate::api::app`], which routes none of this: the demo's shop, its
//! mailbox of live codes and its public merchant key are reachable only through `mamori demo`.
//!
//! The shop's pages are static files (`www/demo/`) served from the assets directory at
//! `/assets/`, so they run under the same Content Security Policy a merchant's page would:
//! scripts from files only, never inline.
//!
//! The demo merchant's secret key is fixed and public ([`MERCHANT_SECRET_KEY`]) so the README's
//! `curl` walkthrough and the end-to-end tests can use it as printed. It is an ordinary merchant
//! of the demo's own throwaway database (its cards are enrolled there, their mail never leaves
//! it), so the demo shows what a live merchant sees: trusted devices, ceilings, fraud alerts.
//! Sandbox merchants (test cards with forced outcomes) are in [`crate::sandbox`].

pub mod mailbox;
pub mod orders;
pub mod shop;

use std::path::Path;

use axum::Router;
use mamori_core::token::encode_secret_key;
use tower_http::services::ServeDir;

use crate::card::CardNumber;
use crate::model::{
    CardStatus, Cardholder, CardholderId, Ceilings, Currency, KeyId, Locale, Merchant, MerchantId,
    MerchantKey,
};
use crate::secrets::Secrets;
use crate::state::AppState;
use crate::store::{Store, StoreError};

/// The demo merchant's id.
pub const MERCHANT_ID: MerchantId = MerchantId::from_static("m_demo");

/// The demo merchant's key id (named before keys were minted as `k_…`; see [`KeyId`]).
pub const MERCHANT_KID: KeyId = KeyId::from_static("demo");

/// The demo merchant's secret (32 bytes, public on purpose).
pub const MERCHANT_SECRET: &[u8; 32] = b"mamori-demo-merchant-secret-key!";

/// `mamori_sk.demo.<base64url of MERCHANT_SECRET>`, as the demo prints it.
pub const MERCHANT_SECRET_KEY: &str = "mamori_sk.demo.bWFtb3JpLWRlbW8tbWVyY2hhbnQtc2VjcmV0LWtleSE";

/// A seeded card and what it demonstrates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCard {
    /// The cardholder id it is enrolled under (unused for the card that is not enrolled).
    pub id: CardholderId,
    /// The card number to type.
    pub number: &'static str,
    /// Where its mail goes (into the demo mailbox).
    pub email: &'static str,
    /// Mail and page language.
    pub locale: Locale,
    /// Active or blocked; `None` for the card that is not enrolled at all.
    pub status: Option<CardStatus>,
    /// Frictionless ceiling in yen.
    pub ceiling: i64,
    /// What happens with it.
    pub outcome: &'static str,
}

/// The demo's cards.
pub const CARDS: &[DemoCard] = &[
    DemoCard {
        id: CardholderId::from_static("ch_demo1"),
        number: "378282246310005",
        email: "taro@example.jp",
        locale: Locale::Ja,
        status: Some(CardStatus::Active),
        ceiling: 50_000,
        outcome: "first purchase: code challenge; afterwards frictionless in the same browser up \
                  to ¥50,000",
    },
    DemoCard {
        id: CardholderId::from_static("ch_demo2"),
        number: "371449635398431",
        email: "hanako@example.com",
        locale: Locale::En,
        status: Some(CardStatus::Active),
        ceiling: 1_000_000,
        outcome: "high ceiling: frictionless up to ¥1,000,000 once the browser is trusted",
    },
    DemoCard {
        id: CardholderId::from_static("ch_demo3"),
        number: "378734493671000",
        email: "blocked@example.jp",
        locale: Locale::Ja,
        status: Some(CardStatus::Blocked),
        ceiling: 50_000,
        outcome: "blocked: rejected (R)",
    },
    DemoCard {
        id: CardholderId::from_static("ch_demo4"),
        number: "340000000000009",
        email: "-",
        locale: Locale::En,
        status: None,
        ceiling: 0,
        outcome: "not enrolled: rejected (R), indistinguishable in the browser from a block",
    },
];

/// The demo verifier: every route of [`crate::api::routes`], the shop, the mailbox and the
/// files of `assets_dir` at `/assets/` (the shop's pages and a copy of the widget).
pub fn app(state: AppState, assets_dir: Option<&Path>) -> Router {
    let has_page = assets_dir.is_some_and(|dir| dir.join("demo/index.html").is_file());
    let mut router = crate::api::routes(&state)
        .merge(mailbox::router())
        .merge(shop::router(has_page));
    if let Some(dir) = assets_dir {
        router = router.nest_service("/assets", ServeDir::new(dir));
    }
    crate::api::finish(router, state)
}

/// The origins the demo merchant accepts.
pub fn origins(listen: &std::net::SocketAddr) -> Vec<String> {
    let mut origins = vec![format!("http://{listen}")];
    if listen.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", listen.port()));
    }
    origins
}

/// Seeds the demo merchant and cards unless they exist already.
///
/// # Errors
///
/// [`StoreError`] from the store.
pub async fn seed(
    store: &dyn Store,
    secrets: &Secrets,
    origins: Vec<String>,
    now: i64,
) -> Result<(), StoreError> {
    if store.merchant(&MERCHANT_ID).await?.is_none() {
        let merchant = Merchant {
            id: MERCHANT_ID,
            name: "mamori demo shop".into(),
            origins,
            sandbox: false,
            created_at: now,
            webhook: false,
        };
        let key = MerchantKey {
            kid: MERCHANT_KID,
            merchant_id: MERCHANT_ID,
            secret: MERCHANT_SECRET.to_vec(),
            created_at: now,
            retire_at: None,
        };
        store.insert_merchant(&merchant, &key).await?;
    }
    for card in CARDS {
        let (Some(status), Some(number)) = (card.status, CardNumber::parse(card.number)) else {
            continue;
        };
        let card_ref = number.reference(&secrets.card_key);
        if store.cardholder_by_ref(&card_ref).await?.is_some() {
            continue;
        }
        store
            .insert_cardholder(&Cardholder {
                id: card.id.clone(),
                card_ref,
                last4: number.last4().into(),
                email: card.email.into(),
                locale: card.locale,
                status,
                // The demo's ceilings are small constants; one out of range would mean no
                // ceiling, which only challenges more.
                frictionless_ceilings: Currency::new("JPY")
                    .and_then(|yen| Ceilings::one(yen, card.ceiling))
                    .unwrap_or_default(),
                created_at: now,
                contact_epoch: 0,
            })
            .await?;
    }
    Ok(())
}

/// The demo merchant's secret key string, computed (a test checks it equals the constant).
pub fn merchant_secret_key() -> String {
    encode_secret_key(MERCHANT_KID.as_str(), MERCHANT_SECRET)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_agree() {
        assert_eq!(merchant_secret_key(), MERCHANT_SECRET_KEY);
        for card in CARDS {
            assert!(CardNumber::parse(card.number).is_some(), "{}", card.number);
        }
    }
}
