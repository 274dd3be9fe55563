//! The risk engine: a pure function from what is known about a purchase to frictionless,
//! challenge or reject, with a score and the reasons.
//!
//! Nothing here reads the clock, the store or the network, so every rule is tested directly.
//! The HTTP layer gathers [`Purchase`], [`DeviceEvidence`] and [`History`], calls [`assess`], and
//! stores the [`Assessment`] with the authentication, so an issuer can answer "why was I
//! challenged?".
//!
//! Rules, in order:
//!
//! 1. **Reject** (hard): the card is unknown or not enrolled, or blocked; or, for a browser
//!    that is not the card's trusted device, the card is locked out by too many wrong codes or
//!    over the hard velocity limit. Those two counts can be run up by anyone holding the card
//!    number (device steps and wrong codes at their own checkout), so they never refuse the
//!    cardholder's trusted browser.
//! 2. **Challenge** (forced): no valid device token for this card and merchant, a fingerprint
//!    below the similarity threshold, a challenge requested (`03`) or mandated (`04`) by the
//!    merchant, an amount over the card's frictionless ceiling, or an open fraud report.
//! 3. **Challenge** (scored): the soft signals — unusual amount, velocity per card, device or
//!    address, recent failed challenges, a changed language or timezone — add up, and a score
//!    at or over the threshold challenges.
//! 4. Otherwise **frictionless**.

use serde::{Deserialize, Serialize};

use crate::model::{CardStatus, ChallengePreference};

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Authenticate without interaction.
    Frictionless,
    /// Send a one-time code.
    Challenge,
    /// Refuse the purchase.
    Reject,
}

/// Why the engine decided as it did. The names are stable: they are stored and returned by
/// `GET /v1/authentications/{id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RiskReason {
    /// The issuer does not know the card, or it is not enrolled.
    CardNotEnrolled,
    /// The card is blocked.
    CardBlocked,
    /// Too many wrong codes on this card recently.
    CardLockedOut,
    /// Far too many authentications for this card recently.
    VelocityHardLimit,
    /// The widget presented no device token.
    NoDeviceToken,
    /// The device token was invalid, expired, revoked, or for another card or merchant.
    DeviceNotTrusted,
    /// The fingerprint differs too much from the trusted device's.
    FingerprintChanged,
    /// The merchant requested a challenge (`03`).
    ChallengeRequested,
    /// The merchant mandated a challenge (`04`).
    ChallengeMandated,
    /// The amount is over the card's frictionless ceiling for its currency.
    AmountOverCeiling,
    /// The card has no frictionless ceiling in the purchase's currency.
    NoCeilingForCurrency,
    /// The cardholder reported fraud and the issuer has not resolved it.
    OpenFraudReport,
    /// The amount is far above what the card usually spends.
    AmountUnusual,
    /// Many authentications for this card recently.
    VelocityCard,
    /// Many authentications from this device recently.
    VelocityDevice,
    /// Many authentications from this address recently.
    VelocityIp,
    /// A challenge on this card failed recently.
    RecentFailedChallenge,
    /// The browser's language differs from the card's last successful purchase.
    LanguageChanged,
    /// The browser's timezone differs from the card's last successful purchase.
    TimezoneChanged,
}

impl RiskReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 19] = [
        Self::CardNotEnrolled,
        Self::CardBlocked,
        Self::CardLockedOut,
        Self::VelocityHardLimit,
        Self::NoDeviceToken,
        Self::DeviceNotTrusted,
        Self::FingerprintChanged,
        Self::ChallengeRequested,
        Self::ChallengeMandated,
        Self::AmountOverCeiling,
        Self::NoCeilingForCurrency,
        Self::OpenFraudReport,
        Self::AmountUnusual,
        Self::VelocityCard,
        Self::VelocityDevice,
        Self::VelocityIp,
        Self::RecentFailedChallenge,
        Self::LanguageChanged,
        Self::TimezoneChanged,
    ];

    /// Reads [`RiskReason::as_str`] back.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CardNotEnrolled => "card_not_enrolled",
            Self::CardBlocked => "card_blocked",
            Self::CardLockedOut => "card_locked_out",
            Self::VelocityHardLimit => "velocity_hard_limit",
            Self::NoDeviceToken => "no_device_token",
            Self::DeviceNotTrusted => "device_not_trusted",
            Self::FingerprintChanged => "fingerprint_changed",
            Self::ChallengeRequested => "challenge_requested",
            Self::ChallengeMandated => "challenge_mandated",
            Self::AmountOverCeiling => "amount_over_ceiling",
            Self::NoCeilingForCurrency => "no_ceiling_for_currency",
            Self::OpenFraudReport => "open_fraud_report",
            Self::AmountUnusual => "amount_unusual",
            Self::VelocityCard => "velocity_card",
            Self::VelocityDevice => "velocity_device",
            Self::VelocityIp => "velocity_ip",
            Self::RecentFailedChallenge => "recent_failed_challenge",
            Self::LanguageChanged => "language_changed",
            Self::TimezoneChanged => "timezone_changed",
        }
    }
}

/// The purchase, as the merchant's backend fixed it, and the card's standing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    /// Amount in minor units.
    pub amount: i64,
    /// The merchant's challenge preference.
    pub preference: ChallengePreference,
    /// The enrolled card, `None` when unknown.
    pub card: Option<CardFacts>,
}

/// What the engine needs to know about an enrolled card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CardFacts {
    /// Active or blocked.
    pub status: CardStatus,
    /// The card's ceiling in the purchase's currency: amounts above it are always challenged,
    /// and so is every amount when the card has none in that currency.
    pub frictionless_ceiling: Option<i64>,
}

/// What the browser proved about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEvidence {
    /// The device token's standing.
    pub device: DeviceMatch,
    /// The browser's language, if sent.
    pub language: Option<String>,
    /// The browser's IANA timezone, if sent.
    pub timezone: Option<String>,
}

/// The device token the widget presented, as checked by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceMatch {
    /// None presented (first visit, or a cleared cache).
    NoToken,
    /// Presented, but the signature, lifetime, audience or revocation check failed, a keyed
    /// device came without a valid proof, or the card does not trust the device.
    NotTrusted,
    /// A valid token of a live device of this merchant (proved by its key, if it has one) that
    /// the card trusts, with the fingerprint similarity of stored vs. presented (0–1000).
    Trusted {
        /// `mamori_core::fingerprint::similarity`.
        similarity: u16,
    },
}

/// Recent activity around the purchase, counted by the store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Other device steps on this card in the short window: authentications a browser went on
    /// with, not merely created (creating one costs nothing but the card number, so those would
    /// let anyone aim the velocity limits at a victim).
    pub card_recent: i64,
    /// Other authentications from this device in the short window.
    pub device_recent: i64,
    /// Other authentications from this address in the short window.
    pub ip_recent: i64,
    /// Failed challenges of this card in the long window.
    pub failed_challenges: i64,
    /// Wrong codes entered for this card in the long window.
    pub wrong_codes: i64,
    /// An unresolved fraud report on this card.
    pub open_report: bool,
    /// The largest amount this card authenticated successfully in the purchase's currency, if
    /// any: amounts in different currencies do not compare.
    pub usual_max_amount: Option<i64>,
    /// Language of the card's last successful authentication.
    pub last_language: Option<String>,
    /// Timezone of the card's last successful authentication.
    pub last_timezone: Option<String>,
}

/// Thresholds and weights, from the `[risk]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskConfig {
    /// Fingerprint similarity (0–1000) a trusted device must reach.
    pub similarity_threshold: u16,
    /// A score at or over this challenges.
    pub challenge_score: i64,
    /// Wrong codes per card in the long window that lock the card out.
    pub lockout_wrong_codes: i64,
    /// Authentications per card in the short window that reject outright.
    pub velocity_card_hard: i64,
    /// Authentications per card in the short window that add [`RiskReason::VelocityCard`].
    pub velocity_card: i64,
    /// Authentications per device in the short window that add [`RiskReason::VelocityDevice`].
    pub velocity_device: i64,
    /// Authentications per address in the short window that add [`RiskReason::VelocityIp`].
    pub velocity_ip: i64,
    /// An amount over this many times the usual maximum is unusual.
    pub unusual_amount_factor: i64,
    /// Score of an unusual amount.
    pub weight_amount_unusual: i64,
    /// Score of card velocity.
    pub weight_velocity_card: i64,
    /// Score of device velocity.
    pub weight_velocity_device: i64,
    /// Score of address velocity.
    pub weight_velocity_ip: i64,
    /// Score of a recent failed challenge.
    pub weight_failed_challenge: i64,
    /// Score of a changed language.
    pub weight_language: i64,
    /// Score of a changed timezone.
    pub weight_timezone: i64,
}

impl Default for RiskConfig {
    fn default() -> Self {
        Self {
            similarity_threshold: 800,
            challenge_score: 30,
            lockout_wrong_codes: 20,
            velocity_card_hard: 30,
            velocity_card: 5,
            velocity_device: 10,
            velocity_ip: 20,
            unusual_amount_factor: 3,
            weight_amount_unusual: 20,
            weight_velocity_card: 25,
            weight_velocity_device: 20,
            weight_velocity_ip: 15,
            weight_failed_challenge: 25,
            weight_language: 10,
            weight_timezone: 15,
        }
    }
}

/// The engine's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// What to do.
    pub decision: Decision,
    /// 0–100: the weight of the signals present (100 for a hard reject).
    pub score: i64,
    /// Every signal present, in rule order.
    pub reasons: Vec<RiskReason>,
}

/// Score of each forced-challenge signal: enough on its own to cross any sane threshold.
const FORCED_WEIGHT: i64 = 40;

/// Whether the browser is a device trusted for this card whose fingerprint still matches.
fn is_trusted_device(evidence: &DeviceEvidence, config: &RiskConfig) -> bool {
    matches!(evidence.device,
        DeviceMatch::Trusted { similarity } if similarity >= config.similarity_threshold)
}

/// Decides one purchase. Pure: the same input always gives the same answer.
pub fn assess(
    purchase: &Purchase,
    evidence: &DeviceEvidence,
    history: &History,
    config: &RiskConfig,
) -> Assessment {
    let reject = |reason| Assessment {
        decision: Decision::Reject,
        score: 100,
        reasons: vec![reason],
    };
    let Some(card) = purchase.card else {
        return reject(RiskReason::CardNotEnrolled);
    };
    match card.status {
        CardStatus::Active => {}
        CardStatus::Blocked => return reject(RiskReason::CardBlocked),
        // A purchase created before its card was unenrolled still names the card.
        CardStatus::Unenrolled => return reject(RiskReason::CardNotEnrolled),
    }
    // Anyone holding the card number can run these counts up from their own checkout (device
    // steps, wrong codes on their own challenges), so they refuse new devices only: a card under
    // attack still lets its cardholder's trusted browser through.
    let trusted = is_trusted_device(evidence, config);
    if !trusted {
        if history.wrong_codes >= config.lockout_wrong_codes {
            return reject(RiskReason::CardLockedOut);
        }
        if history.card_recent >= config.velocity_card_hard {
            return reject(RiskReason::VelocityHardLimit);
        }
    }

    let mut forced = Vec::new();
    match evidence.device {
        DeviceMatch::NoToken => forced.push(RiskReason::NoDeviceToken),
        DeviceMatch::NotTrusted => forced.push(RiskReason::DeviceNotTrusted),
        DeviceMatch::Trusted { .. } if !trusted => forced.push(RiskReason::FingerprintChanged),
        DeviceMatch::Trusted { .. } => {}
    }
    match purchase.preference {
        ChallengePreference::Requested => forced.push(RiskReason::ChallengeRequested),
        ChallengePreference::Mandated => forced.push(RiskReason::ChallengeMandated),
        ChallengePreference::NoPreference | ChallengePreference::NoChallengeRequested => {}
    }
    match card.frictionless_ceiling {
        Some(ceiling) if purchase.amount > ceiling => forced.push(RiskReason::AmountOverCeiling),
        Some(_) => {}
        None => forced.push(RiskReason::NoCeilingForCurrency),
    }
    if history.open_report {
        forced.push(RiskReason::OpenFraudReport);
    }

    let mut scored = Vec::new();
    if let Some(usual) = history.usual_max_amount
        && purchase.amount > usual.saturating_mul(config.unusual_amount_factor)
    {
        scored.push((RiskReason::AmountUnusual, config.weight_amount_unusual));
    }
    if history.card_recent >= config.velocity_card {
        scored.push((RiskReason::VelocityCard, config.weight_velocity_card));
    }
    if history.device_recent >= config.velocity_device {
        scored.push((RiskReason::VelocityDevice, config.weight_velocity_device));
    }
    if history.ip_recent >= config.velocity_ip {
        scored.push((RiskReason::VelocityIp, config.weight_velocity_ip));
    }
    if history.failed_challenges > 0 {
        scored.push((
            RiskReason::RecentFailedChallenge,
            config.weight_failed_challenge,
        ));
    }
    if changed(&history.last_language, &evidence.language) {
        scored.push((RiskReason::LanguageChanged, config.weight_language));
    }
    if changed(&history.last_timezone, &evidence.timezone) {
        scored.push((RiskReason::TimezoneChanged, config.weight_timezone));
    }

    let forced_score = FORCED_WEIGHT * i64::try_from(forced.len()).unwrap_or(i64::MAX / 100);
    let score = scored
        .iter()
        .fold(forced_score, |sum, (_, weight)| sum.saturating_add(*weight))
        .clamp(0, 100);
    let decision = if !forced.is_empty() || score >= config.challenge_score {
        Decision::Challenge
    } else {
        Decision::Frictionless
    };
    let mut reasons = forced;
    reasons.extend(scored.into_iter().map(|(reason, _)| reason));
    Assessment {
        decision,
        score,
        reasons,
    }
}

/// A known previous value that differs from a present one; nothing known is no change.
fn changed(previous: &Option<String>, present: &Option<String>) -> bool {
    matches!((previous, present), (Some(a), Some(b)) if a != b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> CardFacts {
        CardFacts {
            status: CardStatus::Active,
            frictionless_ceiling: Some(50_000),
        }
    }

    fn purchase(amount: i64) -> Purchase {
        Purchase {
            amount,
            preference: ChallengePreference::NoPreference,
            card: Some(card()),
        }
    }

    fn trusted() -> DeviceEvidence {
        DeviceEvidence {
            device: DeviceMatch::Trusted { similarity: 1000 },
            language: Some("ja-JP".into()),
            timezone: Some("Asia/Tokyo".into()),
        }
    }

    fn known_history() -> History {
        History {
            usual_max_amount: Some(10_000),
            last_language: Some("ja-JP".into()),
            last_timezone: Some("Asia/Tokyo".into()),
            ..History::default()
        }
    }

    fn run(purchase: &Purchase, evidence: &DeviceEvidence, history: &History) -> Assessment {
        assess(purchase, evidence, history, &RiskConfig::default())
    }

    #[test]
    fn known_device_small_amount_is_frictionless() {
        let a = run(&purchase(12_800), &trusted(), &known_history());
        assert_eq!(a.decision, Decision::Frictionless);
        assert_eq!(a.score, 0);
        assert!(a.reasons.is_empty());
    }

    /// A browser that is not the card's trusted device.
    fn new_device() -> DeviceEvidence {
        DeviceEvidence {
            device: DeviceMatch::NoToken,
            ..trusted()
        }
    }

    /// The counts an attacker holding the card number can run up.
    fn under_attack() -> [(History, RiskReason); 2] {
        [
            (
                History {
                    wrong_codes: 20,
                    ..known_history()
                },
                RiskReason::CardLockedOut,
            ),
            (
                History {
                    card_recent: 30,
                    ..known_history()
                },
                RiskReason::VelocityHardLimit,
            ),
        ]
    }

    #[test]
    fn hard_rejections_win_over_everything() {
        let card_cases = [
            (
                Purchase {
                    card: None,
                    ..purchase(100)
                },
                History::default(),
                RiskReason::CardNotEnrolled,
            ),
            (
                Purchase {
                    card: Some(CardFacts {
                        status: CardStatus::Blocked,
                        ..card()
                    }),
                    ..purchase(100)
                },
                History::default(),
                RiskReason::CardBlocked,
            ),
            (
                Purchase {
                    card: Some(CardFacts {
                        status: CardStatus::Unenrolled,
                        ..card()
                    }),
                    ..purchase(100)
                },
                History::default(),
                RiskReason::CardNotEnrolled,
            ),
        ];
        for (purchase, history, reason) in card_cases {
            let a = run(&purchase, &trusted(), &history);
            assert_eq!(a.decision, Decision::Reject, "{reason:?}");
            assert_eq!(a.reasons, vec![reason]);
            assert_eq!(a.score, 100);
        }
        for (history, reason) in under_attack() {
            let a = run(&purchase(100), &new_device(), &history);
            assert_eq!(a.decision, Decision::Reject, "{reason:?}");
            assert_eq!(a.reasons, vec![reason]);
            assert_eq!(a.score, 100);
        }
    }

    #[test]
    fn a_card_under_attack_still_lets_its_trusted_browser_through() {
        for (history, reason) in under_attack() {
            let a = run(&purchase(100), &trusted(), &history);
            assert_ne!(a.decision, Decision::Reject, "{reason:?}");
            assert!(!a.reasons.contains(&reason), "{reason:?}: {:?}", a.reasons);
        }
        // A trusted device whose fingerprint no longer matches is a new device here.
        let changed = DeviceEvidence {
            device: DeviceMatch::Trusted { similarity: 0 },
            ..trusted()
        };
        let (locked, _) = &under_attack()[0];
        assert_eq!(
            run(&purchase(100), &changed, locked).decision,
            Decision::Reject
        );
    }

    #[test]
    fn lockout_is_at_the_threshold_not_before() {
        let below = History {
            wrong_codes: 19,
            ..known_history()
        };
        assert_eq!(
            run(&purchase(100), &trusted(), &below).decision,
            Decision::Frictionless
        );
        assert_eq!(
            run(&purchase(100), &new_device(), &below).decision,
            Decision::Challenge
        );
    }

    #[test]
    fn device_problems_force_a_challenge() {
        let cases = [
            (DeviceMatch::NoToken, RiskReason::NoDeviceToken),
            (DeviceMatch::NotTrusted, RiskReason::DeviceNotTrusted),
            (
                DeviceMatch::Trusted { similarity: 799 },
                RiskReason::FingerprintChanged,
            ),
        ];
        for (device, reason) in cases {
            let evidence = DeviceEvidence {
                device,
                ..trusted()
            };
            let a = run(&purchase(100), &evidence, &known_history());
            assert_eq!(a.decision, Decision::Challenge, "{reason:?}");
            assert_eq!(a.reasons, vec![reason]);
        }
        let at_threshold = DeviceEvidence {
            device: DeviceMatch::Trusted { similarity: 800 },
            ..trusted()
        };
        assert_eq!(
            run(&purchase(100), &at_threshold, &known_history()).decision,
            Decision::Frictionless
        );
    }

    #[test]
    fn merchant_preference() {
        for (preference, expected) in [
            (ChallengePreference::NoPreference, None),
            (ChallengePreference::NoChallengeRequested, None),
            (
                ChallengePreference::Requested,
                Some(RiskReason::ChallengeRequested),
            ),
            (
                ChallengePreference::Mandated,
                Some(RiskReason::ChallengeMandated),
            ),
        ] {
            let p = Purchase {
                preference,
                ..purchase(100)
            };
            let a = run(&p, &trusted(), &known_history());
            assert_eq!(a.reasons, expected.into_iter().collect::<Vec<_>>());
            let decision = if expected.is_some() {
                Decision::Challenge
            } else {
                Decision::Frictionless
            };
            assert_eq!(a.decision, decision, "{preference:?}");
        }
    }

    #[test]
    fn ceiling_is_inclusive() {
        assert_eq!(
            run(&purchase(50_000), &trusted(), &History::default()).decision,
            Decision::Frictionless
        );
        let a = run(&purchase(50_001), &trusted(), &History::default());
        assert_eq!(a.decision, Decision::Challenge);
        assert_eq!(a.reasons, vec![RiskReason::AmountOverCeiling]);
    }

    #[test]
    fn a_currency_without_a_ceiling_is_always_challenged() {
        let purchase = Purchase {
            card: Some(CardFacts {
                frictionless_ceiling: None,
                ..card()
            }),
            ..purchase(1)
        };
        let a = run(&purchase, &trusted(), &known_history());
        assert_eq!(a.decision, Decision::Challenge);
        assert_eq!(a.reasons, vec![RiskReason::NoCeilingForCurrency]);
    }

    #[test]
    fn open_report_forces_a_challenge() {
        let history = History {
            open_report: true,
            ..known_history()
        };
        let a = run(&purchase(100), &trusted(), &history);
        assert_eq!(a.decision, Decision::Challenge);
        assert_eq!(a.reasons, vec![RiskReason::OpenFraudReport]);
    }

    #[test]
    fn soft_signals_add_up_to_the_threshold() {
        // Language alone (10) stays under 30; with the timezone (15) still under; with a
        // recent failed challenge (25) over.
        let evidence = DeviceEvidence {
            language: Some("en-US".into()),
            ..trusted()
        };
        let a = run(&purchase(100), &evidence, &known_history());
        assert_eq!((a.decision, a.score), (Decision::Frictionless, 10), "{a:?}");
        let evidence = DeviceEvidence {
            timezone: Some("Europe/Paris".into()),
            ..evidence
        };
        let a = run(&purchase(100), &evidence, &known_history());
        assert_eq!((a.decision, a.score), (Decision::Frictionless, 25));
        let history = History {
            failed_challenges: 1,
            ..known_history()
        };
        let a = run(&purchase(100), &evidence, &history);
        assert_eq!((a.decision, a.score), (Decision::Challenge, 50));
        assert_eq!(
            a.reasons,
            vec![
                RiskReason::RecentFailedChallenge,
                RiskReason::LanguageChanged,
                RiskReason::TimezoneChanged
            ]
        );
    }

    #[test]
    fn unknown_previous_values_are_no_change() {
        let a = run(&purchase(100), &trusted(), &History::default());
        assert_eq!(a.decision, Decision::Frictionless);
        let evidence = DeviceEvidence {
            language: None,
            timezone: None,
            ..trusted()
        };
        assert!(
            run(&purchase(100), &evidence, &known_history())
                .reasons
                .is_empty()
        );
    }

    #[test]
    fn unusual_amount_and_velocity() {
        let a = run(&purchase(30_001), &trusted(), &known_history());
        assert_eq!(a.reasons, vec![RiskReason::AmountUnusual]);
        assert_eq!(a.decision, Decision::Frictionless, "20 < 30 alone");
        assert_eq!(
            run(&purchase(30_000), &trusted(), &known_history()).score,
            0
        );

        let busy = History {
            card_recent: 5,
            device_recent: 10,
            ip_recent: 20,
            ..known_history()
        };
        let a = run(&purchase(100), &trusted(), &busy);
        assert_eq!(a.decision, Decision::Challenge);
        assert_eq!(a.score, 60);
        assert_eq!(
            a.reasons,
            vec![
                RiskReason::VelocityCard,
                RiskReason::VelocityDevice,
                RiskReason::VelocityIp
            ]
        );
    }

    #[test]
    fn score_is_capped_and_thresholds_come_from_config() {
        let evidence = DeviceEvidence {
            device: DeviceMatch::NoToken,
            language: Some("en".into()),
            timezone: Some("UTC".into()),
        };
        let history = History {
            open_report: true,
            failed_challenges: 3,
            ..known_history()
        };
        let p = Purchase {
            preference: ChallengePreference::Mandated,
            ..purchase(90_000)
        };
        let a = run(&p, &evidence, &history);
        assert_eq!(a.score, 100);
        assert_eq!(a.reasons.len(), 8);

        let strict = RiskConfig {
            challenge_score: 10,
            ..RiskConfig::default()
        };
        let evidence = DeviceEvidence {
            language: Some("en".into()),
            ..trusted()
        };
        let a = assess(&purchase(100), &evidence, &known_history(), &strict);
        assert_eq!(a.decision, Decision::Challenge);
    }

    #[test]
    fn reason_names_are_distinct() {
        let all = RiskReason::ALL;
        let mut names: Vec<_> = all.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all.len());
    }
}
