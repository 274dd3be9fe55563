//! A database from before migration 0007 (devices belonged to one card), for both dialects:
//! the schema of migrations 1–5, a few devices, and what the current store must read from them.

use mamori_server::model::{CardholderId, DeviceId, MerchantId};
use mamori_server::store::Store;

/// Migrations 1–5 of a dialect's directory, and the `schema_version` rows they leave.
macro_rules! before_0007 {
    ($dialect:literal) => {
        [
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dialect,
                "/0001_initial.sql"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dialect,
                "/0002_sandbox_idempotency.sql"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dialect,
                "/0003_one_shape.sql"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dialect,
                "/0004_mail_order.sql"
            )),
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/migrations/",
                $dialect,
                "/0005_rate_limits.sql"
            )),
            "CREATE TABLE schema_version (version BIGINT NOT NULL); \
             INSERT INTO schema_version (version) VALUES (1), (2), (3), (4), (5);",
        ]
    };
}
pub(crate) use before_0007;

/// Two cards, one merchant; a live device and a revoked one for the first card, one for the
/// second.
pub(crate) const SEED: &str = "\
    INSERT INTO merchants (id, name, sandbox, created_at) VALUES ('m_old', 'Old', FALSE, 1); \
    INSERT INTO cardholders (id, card_ref, last4, email, locale, status, frictionless_ceiling, \
        created_at) VALUES \
        ('ch_one', 'ref1', '0005', 'one@example.com', 'en', 'active', 10000, 1), \
        ('ch_two', 'ref2', '0006', 'two@example.com', 'ja', 'active', 10000, 1); \
    INSERT INTO devices (id, cardholder_id, merchant_id, fingerprint, created_at, expires_at, \
        revoked_at) VALUES \
        ('dv_live', 'ch_one', 'm_old', '{\"v\":1}', 10, 2000000000, NULL), \
        ('dv_revoked', 'ch_one', 'm_old', '{}', 11, 2000000001, 15), \
        ('dv_two', 'ch_two', 'm_old', '{}', 12, 2000000002, NULL);";

/// Each old device is now a device without a key and one trust row for its old card, with its
/// dates and revocation.
pub(crate) async fn check(store: &dyn Store) {
    let dv = |id: &str| DeviceId::parse(id).unwrap();
    let ch = |id: &str| CardholderId::parse(id).unwrap();
    let cases = [
        ("dv_live", "ch_one", 10, 2_000_000_000, None),
        ("dv_revoked", "ch_one", 11, 2_000_000_001, Some(15)),
        ("dv_two", "ch_two", 12, 2_000_000_002, None),
    ];
    for (device, card, created, expires, revoked) in cases {
        let row = store.device(&dv(device)).await.unwrap().unwrap();
        assert_eq!(row.merchant_id, MerchantId::parse("m_old").unwrap());
        assert_eq!(row.public_key, None, "{device}: trusted before keys");
        assert_eq!(
            (row.created_at, row.expires_at, row.revoked_at),
            (created, expires, revoked)
        );
        let trust = store.trust(&dv(device), &ch(card)).await.unwrap().unwrap();
        assert_eq!(
            (trust.created_at, trust.expires_at, trust.revoked_at),
            (created, expires, revoked),
            "{device}"
        );
        let other = if card == "ch_one" { "ch_two" } else { "ch_one" };
        assert!(
            store
                .trust(&dv(device), &ch(other))
                .await
                .unwrap()
                .is_none(),
            "{device}: only its own card"
        );
    }
    assert_eq!(
        store
            .device(&dv("dv_live"))
            .await
            .unwrap()
            .unwrap()
            .fingerprint,
        "{\"v\":1}"
    );
}
