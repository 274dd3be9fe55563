//! The device step: the widget's evidence is weighed by the risk engine, and the purchase goes
//! through frictionless, is challenged with a code, or is rejected.
//!
//! An unknown or unenrolled card is rejected exactly like a blocked one (same status, same
//! reason in the token), so the browser cannot tell which; the merchant's read has the detail.
//! A sandbox authentication skips all of it: its test card decides (see [`crate::sandbox`]).
//!
//! The browser's device is the one its device token names — live, of this merchant, and, when
//! the device has a key, proved by a signature for this authentication ([`super::proof`]). It
//! counts as trusted only while the card's trust in it is live: one browser, several cards.
//!
//! Everything the step decides on is read in one statement before it starts
//! ([`Flow::device_step_reads`]): the authentication, its cardholder, the device the token
//! claims, the card's trust in that device and the history. The token's signature and times are
//! checked before the read ([`Flow::claimed_device`]), since the device id it names is the key
//! of the read; its audience, the authentication's merchant, after it. The claimed device's
//! rows and counts are weighed only once they identify the browser, so the decision is the one
//! separate reads in that order would give.

use mamori_core::device_key::Signature;
use mamori_core::fingerprint::{self, Fingerprint};
use mamori_core::token::{Method, OpenedDevice, Reason, TokenError, TransStatus};

use super::challenge::{ChallengeView, challenge_view};
use super::notice::Parties;
use super::{Flow, FlowError, proof};
use crate::config::Security;
use crate::mail::templates::Alert;
use crate::model::{
    Assessment, Authentication, AuthenticationId, BrowserInfo, Cardholder, Challenge,
    DecisionReason, Device, DeviceId, DeviceTrust, Final, Merchant, NewMail, Outcome, Progress,
};
use crate::risk::{self, CardFacts, Decision, DeviceMatch, History, Purchase};
use crate::sandbox::{self, SandboxCard};
use crate::store::{DeviceNext, StepQuery, StepReads};
use crate::tokens::Verdict;

/// What the widget sent about the browser, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// The device fingerprint.
    pub fingerprint: Fingerprint,
    /// The device token stored at the merchant's origin, as far as it is checked before the
    /// step's read ([`Flow::claimed_device`]).
    pub device: ClaimedDevice,
    /// The device key's signature over this authentication (purpose `device`), if the browser
    /// holds a key.
    pub device_proof: Option<Signature>,
    /// Language, time zone and user agent, each bounded.
    pub browser: BrowserInfo,
    /// The client's address.
    pub ip: Option<String>,
}

/// The device a browser's token claims, before the device step's read: what the token alone
/// says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimedDevice {
    /// The browser sent no token (or an empty one).
    NoToken,
    /// The token broke a rule before its audience, logged by the step.
    Refused(TokenError),
    /// The token's signature and times hold; its audience is checked against the
    /// authentication's merchant once that is read.
    Opened(OpenedDevice),
}

impl ClaimedDevice {
    /// The device to read with the authentication: the one an opened token names (the
    /// verifier signed the `did`, so it parses; if it did not, no device is read).
    pub fn device_id(&self) -> Option<DeviceId> {
        match self {
            Self::Opened(opened) => DeviceId::parse(opened.did()),
            Self::NoToken | Self::Refused(_) => None,
        }
    }
}

/// What the device step answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceAnswer {
    /// Nothing for the cardholder to do (`Y`, or a sandbox's `A`).
    Frictionless(Outcome),
    /// A code was sent (or one is already running).
    Challenge(ChallengeView),
    /// Refused (`R`, or a sandbox's `N`/`U`).
    Rejected(Outcome),
}

/// What the risk decision means for this card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan<'c> {
    /// Let it through.
    Frictionless,
    /// Send a code to this cardholder.
    Challenge(&'c Cardholder),
    /// Refuse, alerting the cardholder if the card is enrolled.
    Reject {
        /// Who hears about it.
        alert: Option<&'c Cardholder>,
    },
}

impl Plan<'_> {
    /// The outcome counter this plan bumps.
    pub fn metric(self) -> &'static str {
        match self {
            Self::Frictionless => "frictionless",
            Self::Challenge(_) => "challenge",
            Self::Reject { .. } => "rejected",
        }
    }
}

/// The plan for `decision`: a challenge needs an enrolled cardholder to send the code to, so
/// an unknown card that would be challenged is rejected instead.
pub fn plan_device_step(decision: Decision, cardholder: Option<&Cardholder>) -> Plan<'_> {
    match (decision, cardholder) {
        (Decision::Frictionless, _) => Plan::Frictionless,
        (Decision::Challenge, Some(cardholder)) => Plan::Challenge(cardholder),
        (Decision::Reject | Decision::Challenge, alert) => Plan::Reject { alert },
    }
}

/// The device a valid device token names, if it can identify a browser for `auth`: it must
/// exist, belong to this merchant, and be unrevoked and unexpired. (Whether the card trusts it
/// is [`crate::model::DeviceTrust`]'s question; whether the browser holds its key,
/// [`proof`]'s.)
pub fn identified(auth: &Authentication, device: Option<Device>, now: i64) -> Option<Device> {
    device.filter(|d| d.merchant_id == auth.merchant_id && d.is_live(now))
}

/// The answer and final state of a sandbox card that decides at once: the widget knows two
/// final answers, nothing to do (`Y`, `A`) or refused.
fn sandbox_final(status: TransStatus, outcome: Outcome) -> (DeviceAnswer, Final) {
    match status {
        TransStatus::Authenticated | TransStatus::Attempted => {
            (DeviceAnswer::Frictionless(outcome), Final::Succeeded)
        }
        TransStatus::Rejected => (DeviceAnswer::Rejected(outcome), Final::Rejected),
        TransStatus::NotAuthenticated | TransStatus::Unavailable => {
            (DeviceAnswer::Rejected(outcome), Final::Failed)
        }
    }
}

/// The challenge already running, as the screen shows it. Without its cardholder (removed by
/// the issuer meanwhile) there is no one to show it to, and it is answered as finished.
fn running_challenge(
    challenge: &Challenge,
    cardholder: Option<&Cardholder>,
    security: &Security,
) -> Result<DeviceAnswer, FlowError> {
    let cardholder = cardholder.ok_or(FlowError::AuthenticationFinished)?;
    Ok(DeviceAnswer::Challenge(challenge_view(
        challenge, cardholder, security,
    )))
}

/// The decided step, ready to be stored.
struct Step {
    record: Assessment,
    next: DeviceNext,
    mail: Option<NewMail>,
    answer: DeviceAnswer,
    metric: &'static str,
}

impl Flow<'_> {
    /// Assesses the browser's `evidence` for the authentication `reads` holds (read by
    /// [`Self::device_step_reads`] for the device `evidence` claims) and answers frictionless,
    /// challenge or rejected. A reloaded checkout page whose challenge is running is shown that challenge;
    /// no second code is sent.
    ///
    /// # Errors
    ///
    /// [`FlowError::AuthenticationFinished`] once final, or when a concurrent step ended it.
    pub async fn device_step(
        &self,
        reads: StepReads,
        merchant: &Merchant,
        evidence: Evidence,
    ) -> Result<DeviceAnswer, FlowError> {
        let StepReads {
            authentication,
            cardholder,
            claimed_device,
            claimed_trust,
            history,
        } = reads;
        let auth = self.live(authentication).await?;
        let cardholder = match auth.sandbox_card {
            Some(_) => Some(sandbox::cardholder()),
            None => cardholder,
        };
        if let Some(challenge) = auth.challenge() {
            return running_challenge(challenge, cardholder.as_ref(), &self.config.security);
        }
        let step = match auth.sandbox_card {
            Some(card) => self.sandbox_step(&auth, merchant, card).await?,
            None => {
                let claimed = Claimed {
                    device: claimed_device,
                    trust: claimed_trust,
                    history,
                };
                self.assessed_step(&auth, merchant, cardholder.as_ref(), evidence, claimed)
                    .await?
            }
        };
        // Only for a merchant whose row says it has a live endpoint: without one the step stays a
        // single statement (the frictionless path is the hot one). The row may be up to two
        // seconds old (`store::hot`): an endpoint set by another process in that time misses
        // the device steps that end then.
        let events = match &step.next {
            DeviceNext::Conclude { end, outcome } if merchant.webhook => {
                vec![self.finished_event(&auth, *end, outcome)?]
            }
            _ => Vec::new(),
        };
        let moved = self
            .store
            .record_device_step(
                &auth.id,
                self.now(),
                &step.record,
                &step.next,
                step.mail.as_ref(),
                &events,
            )
            .await?;
        if !moved {
            // A concurrent device step won. If it started a challenge, show that challenge (no
            // second code); anything else is final.
            let current = self.store.authentication(&auth.id).await?;
            return match current {
                Some(Authentication {
                    progress: Progress::Challenging { challenge, .. },
                    ..
                }) => running_challenge(&challenge, cardholder.as_ref(), &self.config.security),
                _ => Err(FlowError::AuthenticationFinished),
            };
        }
        if step.mail.is_some() {
            self.mail_queued();
        }
        if !events.is_empty() {
            self.events_queued();
        }
        self.metrics.authentication(step.metric);
        Ok(step.answer)
    }

    /// The risk engine's step for an enrolled (or unknown) card.
    async fn assessed_step(
        &self,
        auth: &Authentication,
        merchant: &Merchant,
        cardholder: Option<&Cardholder>,
        evidence: Evidence,
        claimed: Claimed,
    ) -> Result<Step, FlowError> {
        let (decision, mut record, presented) = self.assess(auth, cardholder, evidence, claimed);
        let plan = plan_device_step(decision, cardholder);
        if let Plan::Challenge(_) = plan {
            // The presented fingerprint is kept only for a correct code, which gives it to the
            // browser's trusted device. A step that ends at once needs none of it (its reasons
            // say why it ended so), and it would be most of an authentication's stored size.
            record.fingerprint = Some(presented.to_json());
        }
        let (next, mail, answer) = match plan {
            Plan::Frictionless => {
                let outcome = self
                    .outcome(auth, verdict(TransStatus::Authenticated, None))
                    .await?;
                let next = DeviceNext::Conclude {
                    end: Final::Succeeded,
                    outcome: outcome.clone(),
                };
                (next, None, DeviceAnswer::Frictionless(outcome))
            }
            Plan::Challenge(cardholder) => {
                let to = Parties {
                    browser: Some(&record.browser),
                    ..Parties::of(auth, merchant, cardholder)
                };
                let (issue, mail, view) = self.first_code(to)?;
                (
                    DeviceNext::Challenge(issue),
                    Some(mail),
                    DeviceAnswer::Challenge(view),
                )
            }
            Plan::Reject { alert } => {
                // One reason for every rejection, whatever the cause (see the module docs).
                let rejected = verdict(TransStatus::Rejected, Some(Reason::NOT_PERMITTED));
                let outcome = self.outcome(auth, rejected).await?;
                let mail = alert.map(|cardholder| {
                    let to = Parties {
                        browser: Some(&record.browser),
                        ..Parties::of(auth, merchant, cardholder)
                    };
                    self.alert_mail(to, Alert::Rejected)
                });
                let next = DeviceNext::Conclude {
                    end: Final::Rejected,
                    outcome: outcome.clone(),
                };
                (next, mail, DeviceAnswer::Rejected(outcome))
            }
        };
        Ok(Step {
            record,
            next,
            mail,
            answer,
            metric: plan.metric(),
        })
    }

    /// Weighs the browser's evidence against the card's history: the decision, what the step
    /// records of it (without the fingerprint), and the presented fingerprint.
    fn assess(
        &self,
        auth: &Authentication,
        cardholder: Option<&Cardholder>,
        evidence: Evidence,
        claimed: Claimed,
    ) -> (Decision, Assessment, Fingerprint) {
        let Claimed {
            device: claimed_device,
            trust: claimed_trust,
            mut history,
        } = claimed;
        let (device, device_id) = self.device_match(
            auth,
            &evidence.device,
            claimed_device,
            claimed_trust,
            evidence.device_proof.as_ref(),
            &evidence.fingerprint,
        );
        if device_id.is_none() {
            // The read counted the claimed device; a browser not identified as it has no
            // device to count.
            history.device_recent = 0;
        }
        let purchase = Purchase {
            amount: auth.amount.get(),
            preference: auth.challenge_preference,
            card: cardholder.map(|c| CardFacts {
                status: c.status,
                frictionless_ceiling: c.frictionless_ceilings.get(auth.currency),
            }),
        };
        let seen = risk::DeviceEvidence {
            device,
            language: evidence.browser.language.as_ref().map(|l| l.to_string()),
            timezone: evidence.browser.timezone.map(|z| z.to_string()),
        };
        let assessment = risk::assess(&purchase, &seen, &history, &self.config.risk);
        tracing::info!(authentication = %auth.id, decision = ?assessment.decision,
            score = assessment.score, reasons = ?assessment.reasons, "risk assessed");
        let record = Assessment {
            risk_score: assessment.score,
            risk_reasons: assessment.reasons.iter().map(|&r| r.into()).collect(),
            device_id,
            fingerprint: None,
            ip: evidence.ip,
            browser: evidence.browser,
        };
        (assessment.decision, record, evidence.fingerprint)
    }

    /// The step of a sandbox authentication: its test card decides; no risk assessment,
    /// history or device trust is involved, so a test run always answers alike.
    async fn sandbox_step(
        &self,
        auth: &Authentication,
        merchant: &Merchant,
        card: SandboxCard,
    ) -> Result<Step, FlowError> {
        let record = Assessment {
            risk_score: 0,
            risk_reasons: vec![DecisionReason::Sandbox(card)],
            device_id: None,
            fingerprint: None,
            ip: None,
            browser: BrowserInfo::default(),
        };
        let (next, mail, answer) = match card.forced() {
            None => {
                let cardholder = crate::sandbox::cardholder();
                let to = Parties::of(auth, merchant, &cardholder);
                let (issue, mail, view) = self.first_code(to)?;
                (
                    DeviceNext::Challenge(issue),
                    Some(mail),
                    DeviceAnswer::Challenge(view),
                )
            }
            Some(forced) => {
                let forced_verdict = Verdict {
                    status: forced.status,
                    method: card.method(),
                    reason: forced.reason,
                };
                let outcome = self.outcome(auth, forced_verdict).await?;
                let (answer, end) = sandbox_final(forced.status, outcome.clone());
                (DeviceNext::Conclude { end, outcome }, None, answer)
            }
        };
        Ok(Step {
            record,
            next,
            mail,
            answer,
            metric: "sandbox",
        })
    }

    /// The device a presented token (and, for a keyed device, its proof) identifies, and what
    /// it is worth for `auth`'s card: trusted only while the card's trust in it is live, and
    /// then how like it the browser still is. An identified device is returned even when the
    /// card does not trust it, so that a correct code trusts that same device. `stored` and
    /// `trust` are the rows read for the token's device id (and `auth`'s card).
    fn device_match(
        &self,
        auth: &Authentication,
        claimed: &ClaimedDevice,
        stored: Option<Device>,
        trust: Option<DeviceTrust>,
        proof: Option<&Signature>,
        presented: &Fingerprint,
    ) -> (DeviceMatch, Option<DeviceId>) {
        let verified = match claimed {
            ClaimedDevice::NoToken => return (DeviceMatch::NoToken, None),
            ClaimedDevice::Refused(e) => Err(*e),
            ClaimedDevice::Opened(opened) => opened.clone().for_audience(auth.merchant_id.as_str()),
        };
        if auth.cardholder_id.is_none() {
            return (DeviceMatch::NotTrusted, None);
        }
        let now = self.now();
        let claims = match verified {
            Ok(claims) => claims,
            Err(e) => {
                tracing::info!(authentication = %auth.id, error = e.code(), "device token refused");
                return (DeviceMatch::NotTrusted, None);
            }
        };
        // `sub` is not read: older tokens carried the card there (see `Tokens::device`).
        let stored = stored.filter(|d| d.id.as_str() == claims.did);
        let Some(device) = identified(auth, stored, now) else {
            tracing::info!(authentication = %auth.id, "device unknown, revoked or expired");
            return (DeviceMatch::NotTrusted, None);
        };
        let checked = proof::check(&device, &auth.id, proof);
        self.metrics.device_proof(checked.metric());
        if !checked.identifies() {
            tracing::info!(authentication = %auth.id, device = %device.id,
                proof = checked.metric(), "keyed device without a valid proof");
            return (DeviceMatch::NotTrusted, None);
        }
        let trust = trust.filter(|t| t.device_id == device.id);
        if !trust.is_some_and(|t| t.is_live(now)) {
            tracing::info!(authentication = %auth.id, device = %device.id,
                "device not trusted for this card");
            return (DeviceMatch::NotTrusted, Some(device.id));
        }
        let known: Option<Fingerprint> = serde_json::from_str(&device.fingerprint).ok();
        let similarity = known.map_or(0, |known| fingerprint::similarity(&known, presented));
        (DeviceMatch::Trusted { similarity }, Some(device.id))
    }

    /// The device a browser's token claims, as far as the token alone says (see
    /// [`ClaimedDevice`]): what [`Self::device_step_reads`] reads with the authentication.
    pub fn claimed_device(&self, token: Option<&str>) -> ClaimedDevice {
        match token.filter(|t| !t.is_empty()) {
            None => ClaimedDevice::NoToken,
            Some(token) => match self.tokens().open_device(token, self.now()) {
                Ok(opened) => ClaimedDevice::Opened(opened),
                Err(e) => ClaimedDevice::Refused(e),
            },
        }
    }

    /// Authentication `id` with everything its device step decides on, in one read: its
    /// cardholder, the `claimed` device and the card's trust in it, and the history of its
    /// card, of that device and of the client's address `ip`. `None` when no authentication
    /// has that id.
    ///
    /// # Errors
    ///
    /// [`FlowError::Internal`] when the store cannot read it.
    pub async fn device_step_reads(
        &self,
        id: &AuthenticationId,
        claimed: &ClaimedDevice,
        ip: Option<&str>,
    ) -> Result<Option<StepReads>, FlowError> {
        let now = self.now();
        let s = &self.config.security;
        let claimed_device = claimed.device_id();
        let query = StepQuery {
            authentication_id: id,
            claimed_device: claimed_device.as_ref(),
            ip,
            short_since: now - s.velocity_window,
            long_since: now - s.failure_window,
        };
        Ok(self.store.device_step_reads(&query).await?)
    }
}

/// The rows and counts read for the claimed device, weighed once it identifies the browser.
struct Claimed {
    device: Option<Device>,
    trust: Option<DeviceTrust>,
    history: History,
}

/// A device-step verdict: always frictionless, since no code was asked for.
fn verdict(status: TransStatus, reason: Option<Reason>) -> Verdict {
    Verdict {
        status,
        method: Method::Frictionless,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::fixtures::authentication;
    use crate::model::MerchantId;

    #[test]
    fn a_challenge_needs_a_cardholder_to_send_the_code_to() {
        let cardholder = crate::sandbox::cardholder();
        assert_eq!(
            plan_device_step(Decision::Challenge, Some(&cardholder)),
            Plan::Challenge(&cardholder)
        );
        assert_eq!(
            plan_device_step(Decision::Challenge, None),
            Plan::Reject { alert: None }
        );
    }

    #[test]
    fn a_rejection_alerts_an_enrolled_cardholder_only() {
        let cardholder = crate::sandbox::cardholder();
        assert_eq!(
            plan_device_step(Decision::Reject, Some(&cardholder)),
            Plan::Reject {
                alert: Some(&cardholder)
            }
        );
        assert_eq!(
            plan_device_step(Decision::Reject, None),
            Plan::Reject { alert: None }
        );
        assert_eq!(
            plan_device_step(Decision::Frictionless, None),
            Plan::Frictionless
        );
        assert_eq!(Plan::Reject { alert: None }.metric(), "rejected");
    }

    fn device(auth: &Authentication) -> Device {
        Device {
            id: DeviceId::from_static("dv_1"),
            merchant_id: auth.merchant_id.clone(),
            fingerprint: "{}".into(),
            public_key: None,
            created_at: 0,
            expires_at: auth.created_at + 100,
            revoked_at: None,
        }
    }

    #[test]
    fn a_valid_token_identifies_only_a_live_device_of_this_merchant() {
        let auth = authentication();
        let now = auth.created_at;
        let good = device(&auth);
        assert!(identified(&auth, Some(good.clone()), now).is_some());
        assert!(identified(&auth, None, now).is_none());
        let cases = [
            Device {
                merchant_id: MerchantId::from_static("m_other"),
                ..good.clone()
            },
            Device {
                revoked_at: Some(now),
                ..good.clone()
            },
            Device {
                expires_at: now,
                ..good
            },
        ];
        for bad in cases {
            assert!(
                identified(&auth, Some(bad.clone()), now).is_none(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_sandbox_card_that_decides_at_once_ends_final() {
        let outcome = |status| Outcome {
            status,
            eci: mamori_core::token::Eci::NotAuthenticated,
            method: Method::Frictionless,
            reason: None,
            result_token: String::new(),
        };
        let cases = [
            (TransStatus::Authenticated, Final::Succeeded, true),
            (TransStatus::Attempted, Final::Succeeded, true),
            (TransStatus::Rejected, Final::Rejected, false),
            (TransStatus::NotAuthenticated, Final::Failed, false),
            (TransStatus::Unavailable, Final::Failed, false),
        ];
        for (status, state, frictionless) in cases {
            let (answer, to) = sandbox_final(status, outcome(status));
            assert_eq!(to, state, "{status:?}");
            assert_eq!(
                matches!(answer, DeviceAnswer::Frictionless(_)),
                frictionless
            );
        }
    }
}
