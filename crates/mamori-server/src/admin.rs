//! The issuer's administration operations — enrolling and changing cards and their trusted
//! browsers, registering merchants and rotating their keys, resolving reports, admin API
//! tokens — written once and called by both the `mamori` CLI ([`crate::cli`]) and the admin API
//! ([`crate::api::admin`]).
//!
//! Each input is parsed here, the one way both take it ("parse, don't validate"): a value the
//! CLI refuses, the API refuses with the same message, as [`AdminError`].
//!
//! # Admin tokens
//!
//! A token is `mamori_admin_` and 32 random bytes in hex, shown once when made. The store
//! keeps its SHA-256 digest only: [`authenticate`] looks the digest up, then compares it in
//! constant time. A merchant key, a revoked or unknown token and a malformed one all fail
//! alike.
//!
//! # Changing a card's address
//!
//! Whoever holds an admin token could move a card's codes and alerts to a mailbox of theirs, so
//! a change to another address is told to the address it replaces ([`change_cardholder`]): a
//! notice in both languages, the card's first, naming the card (last four digits) and the time
//! but no address, queued with the change in one transaction, and no link. The same change
//! ends every self-service link mailed before it ([`crate::tokens`]). An address that is the
//! same once normalised ([`same_address`]) is no change: nothing is written or mailed for it.
//!
//! Unenrolling a card and enrolling it again ([`enrol`]) with another address moves its mail
//! just as surely, so the new card's enrolment sends the same notice to the address of the
//! card's last unenrolled predecessor, in the transaction that inserts it.

use std::collections::BTreeSet;

use mamori_core::token::encode_secret_key;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::card::CardNumber;
use crate::config::Config;
use crate::mail::templates::{AddressChangeFacts, address_changed_mail};
use crate::model::{
    AdminTokenId, CardStatus, Cardholder, CardholderId, Ceilings, DeviceId, FraudReport, KeyId,
    Locale, Merchant, MerchantId, MerchantKey, ReportId,
};
use crate::secrets::{RandomError, Secrets, hex, random_bytes};
use crate::store::{
    AddressMove, AdminToken, CardholderChange, Store, StoreError, Succession, TrustedBrowser,
};

/// How every admin token starts.
pub const TOKEN_PREFIX: &str = "mamori_admin_";
/// A token's last use is recorded at most once per this many seconds.
pub const LAST_USE_GRANULARITY: i64 = 60;
/// The ceilings of a card enrolled without any.
pub const DEFAULT_CEILINGS: &str = "JPY:50000";
/// The longest name of a merchant or a token, in characters.
const MAX_NAME: usize = 100;
/// The longest e-mail address (RFC 5321's path limit less its angle brackets).
const MAX_EMAIL: usize = 254;
/// How many times a change of address (or an enrolment) is tried against a card whose address
/// (or unenrolled predecessor) another change moved between its read and its write, before it
/// gives up as [`StoreError::Unavailable`].
const ADDRESS_CHANGE_TRIES: usize = 3;

/// Why an administration operation refused or failed.
#[derive(Debug)]
pub enum AdminError {
    /// The card number fails the length or Luhn check.
    InvalidCardNumber,
    /// A value is not what its field takes; the message names the field.
    Invalid(&'static str),
    /// The origin named is not `scheme://host[:port]`.
    InvalidOrigin(String),
    /// The card is enrolled already (under another cardholder id).
    AlreadyEnrolled,
    /// No such thing of this kind (e.g. `cardholder`), or no longer changeable (an unenrolled
    /// card).
    NotFound(&'static str),
    /// The store failed.
    Store(StoreError),
    /// The random source failed.
    Random(RandomError),
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidCardNumber => f.write_str("The card number is not valid."),
            Self::Invalid(what) => f.write_str(what),
            Self::InvalidOrigin(origin) => write!(
                f,
                "{origin:?} is not an origin like https://shop.example[:port]."
            ),
            Self::AlreadyEnrolled => f.write_str("This card is enrolled already."),
            Self::NotFound(kind) => write!(f, "No such {kind}."),
            Self::Store(e) => write!(f, "{e}"),
            Self::Random(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AdminError {}

impl From<StoreError> for AdminError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl From<RandomError> for AdminError {
    fn from(error: RandomError) -> Self {
        Self::Random(error)
    }
}

/// An address codes and alerts can be sent to: what SMTP takes as a mailbox address, at most
/// 254 bytes.
///
/// # Errors
///
/// [`AdminError::Invalid`] otherwise.
pub fn parse_email(text: &str) -> Result<String, AdminError> {
    let valid = text.len() <= MAX_EMAIL && text.parse::<lettre::Address>().is_ok();
    valid
        .then(|| text.to_owned())
        .ok_or(AdminError::Invalid("email must be an e-mail address."))
}

/// Whether two addresses name the same mailbox: the same local part, and the same domain up to
/// ASCII case (RFC 5321 leaves a local part's case to its domain, and domains compare without
/// it).
pub fn same_address(a: &str, b: &str) -> bool {
    match (a.rsplit_once('@'), b.rsplit_once('@')) {
        (Some((local_a, domain_a)), Some((local_b, domain_b))) => {
            local_a == local_b && domain_a.eq_ignore_ascii_case(domain_b)
        }
        _ => a == b,
    }
}

/// `ja` or `en`.
///
/// # Errors
///
/// [`AdminError::Invalid`] otherwise.
pub fn parse_locale(text: &str) -> Result<Locale, AdminError> {
    Locale::parse(text).ok_or(AdminError::Invalid("locale must be ja or en."))
}

/// Ceilings as `CURRENCY:AMOUNT` entries in minor units, one per currency.
///
/// # Errors
///
/// [`AdminError::Invalid`] for an entry of another shape, a repeated currency, or an entry
/// holding a comma (each entry is one ceiling).
pub fn parse_ceilings(entries: &[String]) -> Result<Ceilings, AdminError> {
    let refused = AdminError::Invalid(
        "each ceiling is CURRENCY:AMOUNT in minor units (JPY:50000), one per currency.",
    );
    if entries.iter().any(|e| e.is_empty() || e.contains(',')) {
        return Err(refused);
    }
    Ceilings::parse(&entries.join(",")).ok_or(refused)
}

/// A display name: 1 to 100 characters, no control characters, no surrounding spaces.
fn parse_name(text: &str, refused: &'static str) -> Result<String, AdminError> {
    let valid = !text.is_empty()
        && text.chars().count() <= MAX_NAME
        && text.trim() == text
        && !text.chars().any(char::is_control);
    valid
        .then(|| text.to_owned())
        .ok_or(AdminError::Invalid(refused))
}

/// Origins, each `http(s)://host[:port]` in lowercase without a path; at least one,
/// duplicates dropped, sorted.
///
/// # Errors
///
/// [`AdminError::InvalidOrigin`] naming the first bad one; [`AdminError::Invalid`] for none.
pub fn parse_origins(origins: &[String]) -> Result<Vec<String>, AdminError> {
    if origins.is_empty() {
        return Err(AdminError::Invalid(
            "origins must name at least one origin.",
        ));
    }
    let mut distinct = BTreeSet::new();
    for origin in origins {
        let host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        // Lowercase only: a browser sends its `Origin` lowercased, and the widget's routes
        // compare it exactly, so an origin with a capital would never match.
        let valid = host.is_some_and(|host| {
            !host.is_empty()
                && host.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
        if !valid {
            return Err(AdminError::InvalidOrigin(origin.clone()));
        }
        distinct.insert(origin.clone());
    }
    Ok(distinct.into_iter().collect())
}

/// A card to enrol, every field parsed.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The card.
    pub number: CardNumber,
    /// Where codes and alerts go.
    pub email: String,
    /// Its language.
    pub locale: Locale,
    /// Its frictionless ceilings.
    pub ceilings: Ceilings,
}

impl Enrolment {
    /// Parses a card to enrol; `locale` defaults to `ja`, `ceilings` to [`DEFAULT_CEILINGS`].
    ///
    /// # Errors
    ///
    /// The first field refused, as [`AdminError::InvalidCardNumber`] or
    /// [`AdminError::Invalid`].
    pub fn parse(
        card: &str,
        email: &str,
        locale: Option<&str>,
        ceilings: Option<&[String]>,
    ) -> Result<Self, AdminError> {
        let number = CardNumber::parse(card).ok_or(AdminError::InvalidCardNumber)?;
        let email = parse_email(email)?;
        let locale = locale.map_or(Ok(Locale::Ja), parse_locale)?;
        let ceilings = match ceilings {
            Some(entries) => parse_ceilings(entries)?,
            None => parse_ceilings(&[DEFAULT_CEILINGS.to_owned()])?,
        };
        Ok(Self {
            number,
            email,
            locale,
            ceilings,
        })
    }
}

/// Enrols a card.
///
/// A card enrolled before and unenrolled since, now enrolled with another address (not
/// [`same_address`] as its last unenrolled predecessor's), moves the card's mail as a change
/// of address does: the predecessor's address gets the same notice, queued with the insert (see
/// the module docs).
///
/// # Errors
///
/// [`AdminError::AlreadyEnrolled`] when its reference is enrolled (nothing stored),
/// [`AdminError::Store`] with [`StoreError::Unavailable`] when the card was enrolled and
/// unenrolled again on every try between reading its predecessor and the insert.
pub async fn enrol(
    store: &dyn Store,
    secrets: &Secrets,
    enrolment: Enrolment,
    now: i64,
) -> Result<Cardholder, AdminError> {
    let cardholder = Cardholder {
        id: CardholderId::mint()?,
        card_ref: enrolment.number.reference(&secrets.card_key),
        last4: enrolment.number.last4().into(),
        email: enrolment.email,
        locale: enrolment.locale,
        status: CardStatus::Active,
        frictionless_ceilings: enrolment.ceilings,
        created_at: now,
        contact_epoch: 0,
    };
    for _ in 0..ADDRESS_CHANGE_TRIES {
        let predecessor = store.unenrolled_predecessor(&cardholder.card_ref).await?;
        let notice = predecessor
            .as_ref()
            .filter(|former| !same_address(&former.email, &cardholder.email))
            .map(|former| {
                address_changed_mail(&AddressChangeFacts {
                    former: &former.email,
                    locale: former.locale,
                    last4: &former.last4,
                    time: now,
                })
            });
        let succession = Succession {
            predecessor: predecessor.as_ref().map(|former| &former.id),
            notice: notice.as_ref(),
            now,
        };
        match store.enrol_cardholder(&cardholder, succession).await {
            Ok(true) => {
                if let Some(former) = predecessor.filter(|_| notice.is_some()) {
                    tracing::info!(cardholder = %cardholder.id, predecessor = %former.id,
                        "card enrolled again with another address; the former address is told");
                }
                return Ok(cardholder);
            }
            // Enrolled and unenrolled again meanwhile: read the new predecessor.
            Ok(false) => {}
            Err(StoreError::Conflict) => return Err(AdminError::AlreadyEnrolled),
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Unavailable("the card was enrolled again during its enrolment".into()).into())
}

/// Changes an enrolled card's address (`email`), language or ceilings (`change`); at least one
/// is required.
///
/// A new address (not [`same_address`] as the card's) is a change of address: the store makes
/// it only while the card still has the address read here, raises the card's contact epoch and
/// queues the notice to that address in the same transaction (see the module docs). The notice
/// is in both languages, the card's before the change first. An address that is the same once
/// normalised is left as stored.
///
/// # Errors
///
/// [`AdminError::Invalid`] for an empty change, [`AdminError::NotFound`] for an unknown or
/// unenrolled card, [`AdminError::Store`] with [`StoreError::Unavailable`] when other changes
/// of its address kept winning the race (retry later).
pub async fn change_cardholder(
    store: &dyn Store,
    id: &CardholderId,
    email: Option<&str>,
    change: &CardholderChange,
    now: i64,
) -> Result<Cardholder, AdminError> {
    if email.is_none() && change == &CardholderChange::default() {
        return Err(AdminError::Invalid(
            "Name at least one of email, locale and ceilings.",
        ));
    }
    for _ in 0..ADDRESS_CHANGE_TRIES {
        let card = enrolled(store, id).await?;
        let new_address = email.filter(|new| !same_address(new, &card.email));
        let Some(new_address) = new_address else {
            if change == &CardholderChange::default() {
                return Ok(card);
            }
            return store
                .change_cardholder(id, change, None)
                .await?
                .ok_or(AdminError::NotFound("cardholder"));
        };
        let notice = address_changed_mail(&AddressChangeFacts {
            former: &card.email,
            locale: card.locale,
            last4: &card.last4,
            time: now,
        });
        let moved = AddressMove {
            from: &card.email,
            to: new_address,
            notice: &notice,
            now,
        };
        if let Some(changed) = store.change_cardholder(id, change, Some(moved)).await? {
            tracing::info!(cardholder = %id, contact_epoch = changed.contact_epoch,
                "card's address changed by the issuer; the former address is told");
            return Ok(changed);
        }
        // Unenrolled meanwhile (the next read says so), or its address moved again: decide
        // afresh against the address it has now.
    }
    Err(StoreError::Unavailable("the card's address kept changing during the change".into()).into())
}

/// Blocks or unblocks a card and answers it.
///
/// # Errors
///
/// [`AdminError::NotFound`] for an unknown or unenrolled card.
pub async fn set_card_status(
    store: &dyn Store,
    id: &CardholderId,
    status: CardStatus,
) -> Result<Cardholder, AdminError> {
    if !store.set_card_status(id, status).await? {
        return Err(AdminError::NotFound("cardholder"));
    }
    store
        .cardholder(id)
        .await?
        .ok_or(AdminError::NotFound("cardholder"))
}

/// Unenrols a card (see [`crate::store::AdminStore::unenrol_cardholder`]) and answers it.
///
/// # Errors
///
/// [`AdminError::NotFound`] for an unknown or already unenrolled card.
pub async fn unenrol(
    store: &dyn Store,
    id: &CardholderId,
    now: i64,
) -> Result<Cardholder, AdminError> {
    if !store.unenrol_cardholder(id, now).await? {
        return Err(AdminError::NotFound("cardholder"));
    }
    store
        .cardholder(id)
        .await?
        .ok_or(AdminError::NotFound("cardholder"))
}

/// An enrolled card's live trusted browsers at `now`, oldest first: what the cardholder's own
/// page lists.
///
/// # Errors
///
/// [`AdminError::NotFound`] for an unknown or unenrolled card.
pub async fn trusted_browsers(
    store: &dyn Store,
    id: &CardholderId,
    now: i64,
) -> Result<Vec<TrustedBrowser>, AdminError> {
    check_enrolled(store, id).await?;
    Ok(store.trusted_browsers(id, now).await?)
}

/// Revokes an enrolled card's trust in one browser, as its cardholder's page does: that
/// browser's next purchase with the card is challenged; the card's other browsers, and other
/// cards' trust in this one, stay.
///
/// # Errors
///
/// [`AdminError::NotFound`] (nothing changed) for an unknown or unenrolled card, or a browser
/// the card does not trust now.
pub async fn remove_browser(
    store: &dyn Store,
    id: &CardholderId,
    device_id: &DeviceId,
    now: i64,
) -> Result<(), AdminError> {
    check_enrolled(store, id).await?;
    if !store.revoke_browser(id, device_id, now).await? {
        return Err(AdminError::NotFound("trusted browser"));
    }
    tracing::info!(cardholder = %id, device = %device_id, "trusted browser removed by the issuer");
    Ok(())
}

/// [`AdminError::NotFound`] unless `id` names an enrolled card (active or blocked).
async fn check_enrolled(store: &dyn Store, id: &CardholderId) -> Result<(), AdminError> {
    enrolled(store, id).await.map(drop)
}

/// The enrolled card (active or blocked) `id` names; [`AdminError::NotFound`] otherwise.
async fn enrolled(store: &dyn Store, id: &CardholderId) -> Result<Cardholder, AdminError> {
    store
        .cardholder(id)
        .await?
        .filter(|card| card.status != CardStatus::Unenrolled)
        .ok_or(AdminError::NotFound("cardholder"))
}

/// A merchant key just made, with its secret key string (shown once).
#[derive(Debug)]
pub struct IssuedKey {
    /// The key as stored.
    pub key: MerchantKey,
    /// `mamori_sk.<kid>.<secret>`.
    pub secret_key: String,
}

fn new_key(merchant_id: &MerchantId, now: i64) -> Result<IssuedKey, AdminError> {
    let key = MerchantKey {
        kid: KeyId::mint()?,
        merchant_id: merchant_id.clone(),
        secret: random_bytes::<32>()?.to_vec(),
        created_at: now,
        retire_at: None,
    };
    let secret_key = encode_secret_key(key.kid.as_str(), &key.secret);
    Ok(IssuedKey { key, secret_key })
}

/// Registers a merchant with its first key.
///
/// # Errors
///
/// [`AdminError::Invalid`] / [`AdminError::InvalidOrigin`] for a bad name or origin.
pub async fn add_merchant(
    store: &dyn Store,
    name: &str,
    origins: &[String],
    sandbox: bool,
    now: i64,
) -> Result<(Merchant, IssuedKey), AdminError> {
    let name = parse_name(
        name,
        "name must be 1 to 100 characters without control characters or surrounding spaces.",
    )?;
    let origins = parse_origins(origins)?;
    let id = MerchantId::mint()?;
    let issued = new_key(&id, now)?;
    let merchant = Merchant {
        id,
        name,
        origins,
        sandbox,
        created_at: now,
        webhook: false,
    };
    store.insert_merchant(&merchant, &issued.key).await?;
    Ok((merchant, issued))
}

/// Issues a merchant a new key; its older keys keep working for `security.key_overlap`
/// seconds. Answers the key and when the older ones retire.
///
/// # Errors
///
/// [`AdminError::NotFound`] for an unknown merchant.
pub async fn rotate_key(
    store: &dyn Store,
    config: &Config,
    merchant_id: &MerchantId,
    now: i64,
) -> Result<(IssuedKey, i64), AdminError> {
    if store.merchant(merchant_id).await?.is_none() {
        return Err(AdminError::NotFound("merchant"));
    }
    let issued = new_key(merchant_id, now)?;
    let retire_at = now + config.security.key_overlap.get();
    store.rotate_key(&issued.key, retire_at).await?;
    Ok((issued, retire_at))
}

/// Replaces a merchant's origins and answers the merchant.
///
/// # Errors
///
/// [`AdminError::InvalidOrigin`] / [`AdminError::Invalid`] for bad origins (nothing changed),
/// [`AdminError::NotFound`] for an unknown merchant.
pub async fn replace_origins(
    store: &dyn Store,
    merchant_id: &MerchantId,
    origins: &[String],
) -> Result<Merchant, AdminError> {
    let origins = parse_origins(origins)?;
    if !store.replace_origins(merchant_id, &origins).await? {
        return Err(AdminError::NotFound("merchant"));
    }
    store
        .merchant(merchant_id)
        .await?
        .ok_or(AdminError::NotFound("merchant"))
}

/// Resolves a report (the card is no longer forced to challenge) and answers it; resolving a
/// resolved report changes nothing and answers it as it is.
///
/// # Errors
///
/// [`AdminError::NotFound`] for an unknown report.
pub async fn resolve_report(
    store: &dyn Store,
    id: &ReportId,
    now: i64,
) -> Result<FraudReport, AdminError> {
    store.resolve_report(id, now).await?;
    store
        .report(id)
        .await?
        .ok_or(AdminError::NotFound("report"))
}

/// Makes an admin token; answers its record and the token (shown once).
///
/// # Errors
///
/// [`AdminError::Invalid`] for a bad name.
pub async fn create_token(
    store: &dyn Store,
    name: &str,
    now: i64,
) -> Result<(AdminToken, String), AdminError> {
    let name = parse_name(
        name,
        "the name must be 1 to 100 characters without control characters or surrounding spaces.",
    )?;
    let token = format!("{TOKEN_PREFIX}{}", hex(&random_bytes::<32>()?));
    let record = AdminToken {
        id: AdminTokenId::mint()?,
        name,
        digest: Sha256::digest(token.as_bytes()).to_vec(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_admin_token(&record).await?;
    Ok((record, token))
}

/// Why a presented admin token was refused; for the log only, never the client, which gets
/// the same `401` for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No bearer token at all.
    Missing,
    /// Not of an admin token's form.
    NotAnAdminToken,
    /// No token has its digest: a guess, or a mistake.
    Unknown,
    /// A token that was issued and then revoked: not a guess, but its holder's, perhaps a job
    /// nobody updated.
    Revoked,
}

impl Refusal {
    /// What the log says.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "no bearer token",
            Self::NotAnAdminToken => "not an admin token",
            Self::Unknown => "unknown admin token",
            Self::Revoked => "revoked admin token",
        }
    }
}

/// The live admin token `presented` is.
///
/// # Errors
///
/// A [`Refusal`] saying why not (not an admin token, unknown, revoked), or the store's error.
pub async fn authenticate(
    store: &dyn Store,
    presented: &str,
) -> Result<Result<AdminToken, Refusal>, StoreError> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(Err(Refusal::NotAnAdminToken));
    }
    let digest = Sha256::digest(presented.as_bytes());
    let Some(token) = store.admin_token_by_digest(&digest).await? else {
        return Ok(Err(Refusal::Unknown));
    };
    // The lookup matched the digest already; comparing again in constant time keeps a
    // database that compares early-exit from being the only check.
    if !bool::from(token.digest.as_slice().ct_eq(digest.as_slice())) {
        return Ok(Err(Refusal::Unknown));
    }
    if token.revoked_at.is_some() {
        return Ok(Err(Refusal::Revoked));
    }
    Ok(Ok(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_mailbox_addresses() {
        for good in ["t@example.jp", "first.last+tag@mail.example.com"] {
            assert_eq!(parse_email(good).unwrap(), good);
        }
        let long = format!("{}@example.com", "a".repeat(250));
        for bad in [
            "",
            "t",
            "@example.jp",
            "t@",
            " t@example.jp",
            "t@example.jp\n",
            "a b@c.d",
            &long,
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ceilings_are_one_entry_each() {
        let parse = |entries: &[&str]| {
            parse_ceilings(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
                .map(|c| c.to_string())
        };
        assert_eq!(
            parse(&["JPY:50000", "USD:500"]).unwrap(),
            "JPY:50000,USD:500"
        );
        for bad in [
            &["JPY:50000,USD:500"][..],
            &["JPY:1", "JPY:2"],
            &["JPY"],
            &[""],
            &["JPY:-1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_are_scheme_and_host_only() {
        let origins = |list: &[&str]| {
            parse_origins(&list.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>())
        };
        assert_eq!(
            origins(&[
                "https://b.example",
                "http://a.example:8080",
                "https://b.example"
            ])
            .unwrap(),
            ["http://a.example:8080", "https://b.example"]
        );
        assert!(origins(&[]).is_err());
        for bad in [
            "https://",
            "shop.example",
            "https://shop.example/",
            "https://shop.example/path",
            "ftp://shop.example",
            "https://shop example",
            "https://shop.example\"",
            "https://Shop.example",
        ] {
            assert!(
                matches!(origins(&[bad]), Err(AdminError::InvalidOrigin(o)) if o == bad),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names_are_one_line() {
        let refused = "refused";
        assert_eq!(parse_name("Shop 1", refused).unwrap(), "Shop 1");
        assert_eq!(parse_name("ショップ", refused).unwrap(), "ショップ");
        for bad in ["", " Shop", "Shop ", "a\nb", &"x".repeat(101)] {
            assert!(parse_name(bad, refused).is_err(), "{bad:?}");
        }
    }
}
