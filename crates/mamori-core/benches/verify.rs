//! Result-token verification: mamori-core against the `jsonwebtoken` crate on the same token.
//!
//! Both verify the signature and the same claims (`exp`, `iat` bounds, `aud`) of one token
//! signed once; mamori-core also checks the authentication and order binding and the status,
//! which `jsonwebtoken` cannot, so the comparison is, if anything, unfavourable to mamori. A
//! second group measures how the cost grows with the size of the token.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey};
use mamori_core::token::{
    self, Currency, Eci, ExpectedOrder, KeySet, Method, ResultClaims, SigningKey, TransStatus,
    Transaction, Validation,
};

const SECRET: &[u8] = b"a merchant secret of 32 bytes or more";
const KID: &str = "m_shop-2026a";

fn claims(now: u64, reference: String) -> ResultClaims {
    ResultClaims {
        iss: "https://safekey.issuer.example".into(),
        aud: "m_shop".into(),
        sub: "au_01JD8Z7Q3N4V".into(),
        iat: now,
        exp: now + 600,
        jti: "rt_01JD8Z7Q3N4V".into(),
        txn: Transaction {
            reference,
            amount: 12_800,
            currency: Currency::new("JPY").unwrap(),
        },
        status: TransStatus::Authenticated,
        eci: Eci::Authenticated,
        method: Method::Challenge,
        reason: None,
    }
}

fn verify(c: &mut Criterion) {
    // `jsonwebtoken` reads the system clock, so the token is issued now for both.
    let now = jsonwebtoken::get_current_timestamp();
    let key = SigningKey::new(KID, SECRET).unwrap();
    let signed = token::sign_result(&claims(now, "order-42".into()), &key);
    let keys = KeySet::from(key);
    let order = ExpectedOrder {
        authentication: "au_01JD8Z7Q3N4V",
        reference: "order-42",
        amount: 12_800,
        currency: "JPY",
    };
    let decoding_key = DecodingKey::from_secret(SECRET);
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.set_audience(&["m_shop"]);
    validation.leeway = token::DEFAULT_LEEWAY;

    let mut group = c.benchmark_group("verify_result");
    group.throughput(Throughput::Elements(1));
    group.bench_function("mamori-core", |b| {
        b.iter(|| {
            token::verify_result(
                black_box(&signed),
                &keys,
                &Validation::result("m_shop", now),
                Some(&order),
            )
            .unwrap()
        });
    });
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<ResultClaims>(black_box(&signed), &decoding_key, &validation)
                .unwrap()
        });
    });
    group.finish();

    let mut sizes = c.benchmark_group("verify_result_by_size");
    for reference_len in [8, 256, 1024, 2560] {
        let reference = "r".repeat(reference_len);
        let key = SigningKey::new(KID, SECRET).unwrap();
        let signed = token::sign_result(&claims(now, reference.clone()), &key);
        let order = ExpectedOrder {
            authentication: "au_01JD8Z7Q3N4V",
            reference: &reference,
            amount: 12_800,
            currency: "JPY",
        };
        sizes.throughput(Throughput::Bytes(signed.len() as u64));
        sizes.bench_with_input(
            BenchmarkId::new("mamori-core", signed.len()),
            &signed,
            |b, t| {
                b.iter(|| {
                    token::verify_result(t, &keys, &Validation::result("m_shop", now), Some(&order))
                        .unwrap()
                });
            },
        );
        sizes.bench_with_input(
            BenchmarkId::new("jsonwebtoken", signed.len()),
            &signed,
            |b, t| {
                b.iter(|| {
                    jsonwebtoken::decode::<ResultClaims>(t, &decoding_key, &validation).unwrap()
                });
            },
        );
    }
    sizes.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
