//! Authentications in each state, for the unit tests of the flow's decisions.

use mamori_core::token::{Eci, Method, TransStatus};

use crate::model::{
    Amount, Assessment, Authentication, AuthenticationId, CardholderId, Challenge,
    ChallengePreference, Currency, Final, Finished, MerchantId, OrderRef, Outcome, Progress,
};

/// A pending authentication of 1,000 yen for an enrolled card.
pub(crate) fn authentication() -> Authentication {
    Authentication {
        id: AuthenticationId::from_static("au_test"),
        merchant_id: MerchantId::from_static("m_test"),
        cardholder_id: Some(CardholderId::from_static("ch_test")),
        amount: Amount::new(1_000).unwrap(),
        currency: Currency::new("JPY").unwrap(),
        order_ref: OrderRef::parse("order-1".into()).unwrap(),
        challenge_preference: ChallengePreference::NoPreference,
        client_secret_hash: vec![0; 32],
        created_at: 1_800_000_000,
        expires_at: 1_800_000_900,
        sandbox_card: None,
        progress: Progress::Pending,
    }
}

/// The same, challenging: `resends` codes resent, the last at `last_sent_at`.
pub(crate) fn challenging(resends: i64, last_sent_at: i64) -> Authentication {
    Authentication {
        progress: Progress::Challenging {
            assessment: Assessment::default(),
            challenge: Challenge {
                code_digest: vec![0; 32],
                code_expires_at: last_sent_at + 600,
                attempts: 0,
                resends,
                last_sent_at,
            },
        },
        ..authentication()
    }
}

/// The same, ended as `end`.
pub(crate) fn finished(end: Final) -> Authentication {
    Authentication {
        progress: Progress::Finished(Finished {
            end,
            outcome: Outcome {
                status: TransStatus::NotAuthenticated,
                eci: Eci::NotAuthenticated,
                method: Method::Frictionless,
                reason: None,
                result_token: String::new(),
            },
            assessment: None,
            attempts: 0,
            resends: 0,
        }),
        ..authentication()
    }
}
