//! The challenge: issuing codes, what the challenge screen shows, checking an entered code and
//! resending.
//!
//! The limits (attempts, resends, cooldown) are decided here by pure functions for the answer
//! the cardholder sees, and again by the store's conditional statements, which are the guard
//! against concurrent requests: a request that passes here can still lose there.

use mamori_core::otp;
use mamori_core::token::{Method, Reason, TransStatus};
use subtle::ConstantTimeEq;

use super::notice::Parties;
use super::proof::ProvenKey;
use super::{Flow, FlowError};
use crate::config::Security;
use crate::mail::templates::Alert;
use crate::model::{
    Authentication, CardStatus, Cardholder, Challenge, Device, DeviceId, Final, Finished, Locale,
    Merchant, NewMail, Outcome, Progress,
};
use crate::sandbox;
use crate::secrets::random_bytes;
use crate::store::{
    Accept, Acceptance, CodeIssue, DeviceWrite, Limits, Resend, TrustWrite, WrongCode,
};
use crate::text::mask_email;
use crate::tokens::Verdict;
use crate::webhooks::NewEvent;

/// What the challenge screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeView {
    /// The cardholder's address, masked (`t•••@example.com`).
    pub masked_email: String,
    /// Digits in a code.
    pub code_length: usize,
    /// When the current code stops matching.
    pub expires_at: i64,
    /// Wrong entries left.
    pub attempts_left: i64,
    /// Resends left.
    pub resends_left: i64,
    /// When a resend becomes possible.
    pub resend_available_at: i64,
    /// The cardholder's language.
    pub locale: Locale,
}

/// The challenge screen's facts for `challenge`.
pub fn challenge_view(
    challenge: &Challenge,
    cardholder: &Cardholder,
    security: &Security,
) -> ChallengeView {
    ChallengeView {
        masked_email: mask_email(&cardholder.email),
        code_length: otp::CODE_LEN,
        expires_at: challenge.code_expires_at,
        attempts_left: (security.max_attempts - challenge.attempts).max(0),
        resends_left: (security.max_resends - challenge.resends).max(0),
        resend_available_at: challenge.last_sent_at + security.resend_cooldown,
        locale: cardholder.locale,
    }
}

/// The running challenge of `auth` a resend at `now` may replace, or why not: final, not
/// challenging yet, no resend left, or the cooldown since the last code has not passed.
pub fn resendable<'a>(
    auth: &'a Authentication,
    limits: &Limits,
    now: i64,
) -> Result<&'a Challenge, FlowError> {
    let challenge = match &auth.progress {
        Progress::Finished(_) => return Err(FlowError::AuthenticationFinished),
        Progress::Pending => return Err(FlowError::ChallengeNotStarted),
        Progress::Challenging { challenge, .. } => challenge,
    };
    let available = challenge.last_sent_at + limits.resend_cooldown;
    if challenge.resends >= limits.max_resends {
        Err(FlowError::ResendLimit)
    } else if now < available {
        Err(FlowError::ResendCooldown {
            retry_after: available - now,
        })
    } else {
        Ok(challenge)
    }
}

/// Which device a correct code leaves trusted for the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// None: a sandbox authentication trusts no device, so each test run starts alike.
    Nothing,
    /// The device the device step identified stays the same device: refreshed (fingerprint,
    /// expiry, key), trusted for this card, its token renewed.
    Renew(DeviceId),
    /// Any other browser becomes a new device, trusted for this card.
    NewDevice,
}

/// The trust a correct code on `auth` grants.
pub fn trust_after_code(auth: &Authentication) -> Trust {
    match auth.assessment().and_then(|a| a.device_id.as_ref()) {
        _ if auth.sandbox_card.is_some() => Trust::Nothing,
        Some(id) => Trust::Renew(id.clone()),
        None => Trust::NewDevice,
    }
}

/// What a code entry leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeAnswer {
    /// The right code: `Y`, with the device token of the trusted browser (none in a sandbox,
    /// nor while the card has an open fraud report).
    Authenticated {
        /// The result.
        outcome: Outcome,
        /// The browser's new device token.
        device_token: Option<String>,
    },
    /// A wrong code, counted.
    WrongCode {
        /// Entries left.
        attempts_left: i64,
    },
    /// Ended without authenticating: the last allowed wrong code (`N`), or a right code for a
    /// card the issuer blocked or unenrolled during the challenge (`R`).
    Failed(Outcome),
    /// The authentication's lifetime ran out first: `U`.
    Expired(Outcome),
}

impl Flow<'_> {
    /// A fresh code and its stored form; a sandbox authentication's code is always
    /// [`sandbox::CODE`].
    fn new_code(&self, auth: &Authentication) -> Result<(otp::Code, CodeIssue), FlowError> {
        let code = match auth.sandbox_card {
            Some(_) => otp::normalize(sandbox::CODE),
            None => otp::Code::from_random(&random_bytes::<{ otp::RANDOM_LEN }>()?),
        }
        .map_err(|e| FlowError::Internal(e.to_string()))?;
        let issue = CodeIssue {
            digest: otp::digest(&self.secrets.otp_key, auth.id.as_str(), &code).to_vec(),
            expires_at: self.now() + self.config.security.code_lifetime,
        };
        Ok((code, issue))
    }

    /// A code for a challenge about to start: its stored form, the mail carrying it, and the
    /// screen showing it.
    pub(super) fn first_code(
        &self,
        to: Parties<'_>,
    ) -> Result<(CodeIssue, NewMail, ChallengeView), FlowError> {
        let (code, issue) = self.new_code(to.auth)?;
        let mail = self.code_mail(to, code.as_str(), issue.expires_at, 0);
        let challenge = Challenge {
            code_digest: issue.digest.clone(),
            code_expires_at: issue.expires_at,
            attempts: 0,
            resends: 0,
            last_sent_at: self.now(),
        };
        let view = challenge_view(&challenge, to.cardholder, &self.config.security);
        Ok((issue, mail, view))
    }

    /// The cardholder entered `code`, with the browser's new device `key` when it sent one.
    ///
    /// The answer is always the stored state's: a concurrent resend or entry can change the
    /// challenge between reading it and the conditional write that decides, and then the entry
    /// is checked again against what is stored now — the code a resend replaced is a wrong
    /// code, not a finished authentication. Each lost write follows a change that happened
    /// (a code sent, an attempt counted, the end), and those are bounded by the limits, so the
    /// re-checks end.
    ///
    /// # Errors
    ///
    /// [`FlowError::ChallengeNotStarted`] before the device step,
    /// [`FlowError::AuthenticationFinished`] once final, also when a concurrent entry ended it.
    pub async fn check_code(
        &self,
        auth: Authentication,
        merchant: &Merchant,
        code: &otp::Code,
        key: Option<&ProvenKey>,
    ) -> Result<CodeAnswer, FlowError> {
        let limits = self.limits();
        // One more than the limits allow: an acceptance refused because the issuer blocked the
        // card meanwhile is re-checked once, with the card read again.
        let races = limits.max_attempts + limits.max_resends + 2;
        let digest = otp::digest(&self.secrets.otp_key, auth.id.as_str(), code);
        let mut current = auth;
        for _ in 0..=races {
            let live = !matches!(current.progress, Progress::Finished(_));
            let id = current.id.clone();
            // Read at each check: the issuer may block or unenrol the card during a challenge.
            let cardholder = self.cardholder_of(&current).await?;
            let checked = self
                .check_code_once(current, merchant, cardholder.as_ref(), &digest, key)
                .await;
            match checked {
                Err(FlowError::AuthenticationFinished) if live => {
                    current = self
                        .store
                        .authentication(&id)
                        .await?
                        .ok_or(FlowError::NotFound)?;
                }
                answer => return answer,
            }
        }
        Err(FlowError::Internal(
            "a code entry lost more races than its limits allow".into(),
        ))
    }

    /// One check of the entered code's `digest` against the challenge as `auth` holds it;
    /// [`FlowError::AuthenticationFinished`] from a live `auth` means a concurrent change won.
    async fn check_code_once(
        &self,
        auth: Authentication,
        merchant: &Merchant,
        cardholder: Option<&Cardholder>,
        digest: &[u8],
        key: Option<&ProvenKey>,
    ) -> Result<CodeAnswer, FlowError> {
        let auth = self.expire_if_due(auth).await?;
        let challenge = match &auth.progress {
            Progress::Challenging { challenge, .. } => challenge,
            Progress::Pending => return Err(FlowError::ChallengeNotStarted),
            Progress::Finished(Finished {
                end: Final::Expired,
                outcome,
                ..
            }) => return Ok(CodeAnswer::Expired(outcome.clone())),
            Progress::Finished(_) => return Err(FlowError::AuthenticationFinished),
        };
        // Compared in constant time, as `otp::verify` does.
        let matches: bool = digest.ct_eq(&challenge.code_digest).into();
        let right = matches && challenge.code_expires_at > self.now();
        let cardholder = cardholder
            .ok_or_else(|| FlowError::Internal(format!("challenge without a card: {}", auth.id)))?;
        if right && cardholder.status != CardStatus::Active {
            // The issuer blocked or unenrolled the card while its code was on the way: the code
            // then authenticates nothing and trusts no browser, and the purchase ends as the
            // device step ends one for such a card (`R`, reason 12).
            let verdict = Verdict {
                status: TransStatus::Rejected,
                method: Method::Challenge,
                reason: Some(Reason::NOT_PERMITTED),
            };
            let outcome = self
                .end(&auth, Final::Rejected, verdict)
                .await?
                .ok_or(FlowError::AuthenticationFinished)?;
            self.metrics.authentication("rejected");
            return Ok(CodeAnswer::Failed(outcome));
        }
        let to = Parties::of(&auth, merchant, cardholder);
        if right {
            self.accept(to, digest, key).await
        } else {
            self.count_wrong(to).await
        }
    }

    /// A correct code: `Y`, and the browser trusted for the card (see [`Trust`]) unless the
    /// card has an open fraud report, which keeps every browser untrusted until the issuer
    /// resolves it (then no device token either). The new browser alert goes only when the
    /// card had no live trust in that device before; the device token's `exp` is the device
    /// row's `expires_at`.
    async fn accept(
        &self,
        to: Parties<'_>,
        digest: &[u8],
        key: Option<&ProvenKey>,
    ) -> Result<CodeAnswer, FlowError> {
        let (auth, now) = (to.auth, self.now());
        let verdict = Verdict {
            status: TransStatus::Authenticated,
            method: Method::Challenge,
            reason: None,
        };
        let outcome = self.outcome(auth, verdict).await?;
        let expires_at = now + self.config.security.device_lifetime;
        let fingerprint = auth
            .assessment()
            .and_then(|a| a.fingerprint.clone())
            .unwrap_or_else(|| "{}".into());
        let public_key = key.map(ProvenKey::key);
        let (new_device, renewed, was_trusted) = match trust_after_code(auth) {
            Trust::Nothing => (None, None, true),
            Trust::Renew(id) => {
                let trust = self.store.trust(&id, &to.cardholder.id).await?;
                let live = trust.is_some_and(|t| t.is_live(now));
                (None, Some(id), live)
            }
            Trust::NewDevice => {
                let device = Device {
                    id: DeviceId::mint()?,
                    merchant_id: auth.merchant_id.clone(),
                    fingerprint: fingerprint.clone(),
                    public_key: public_key.cloned(),
                    created_at: now,
                    expires_at,
                    revoked_at: None,
                };
                (Some(device), None, false)
            }
        };
        let device = match (&new_device, &renewed) {
            (Some(device), _) => Some(DeviceWrite::New(device)),
            (None, Some(id)) => Some(DeviceWrite::Refresh {
                id,
                fingerprint: &fingerprint,
                public_key,
                expires_at,
            }),
            (None, None) => None,
        };
        let alert = (!was_trusted).then(|| self.alert_mail(to, Alert::NewDevice));
        // Always offered: the acceptance is a transaction anyway, and the store queues it only
        // for a live endpoint, whatever the merchant row read a moment ago said.
        let events = [self.finished_event(auth, Final::Succeeded, &outcome)?];
        let accept = Acceptance {
            digest,
            outcome: &outcome,
            trust: device.map(|device| TrustWrite {
                device,
                cardholder_id: &to.cardholder.id,
                expires_at,
                alert: alert.as_ref(),
            }),
            events: &events,
        };
        let trusted = match self
            .store
            .accept_code(&auth.id, now, &self.limits(), &accept)
            .await?
        {
            Accept::Accepted { trusted } => trusted,
            // Another request used the code (or the last attempt) first, or the issuer blocked
            // the card meanwhile: the caller reads both again.
            Accept::Refused => return Err(FlowError::AuthenticationFinished),
        };
        if trusted && alert.is_some() {
            self.mail_queued();
        }
        self.events_queued();
        self.metrics.challenge("success");
        self.metrics.authentication("authenticated");
        // No token for a browser the store did not trust (the card has an open fraud report):
        // it would name a device that is not stored.
        let device_token = device.filter(|_| trusted).map(|device| {
            self.tokens()
                .device(&auth.merchant_id, device.id(), expires_at, now)
        });
        Ok(CodeAnswer::Authenticated {
            outcome,
            device_token,
        })
    }

    async fn count_wrong(&self, to: Parties<'_>) -> Result<CodeAnswer, FlowError> {
        let verdict = Verdict {
            status: TransStatus::NotAuthenticated,
            method: Method::Challenge,
            reason: Some(Reason::MAX_CHALLENGES),
        };
        let failure = self.outcome(to.auth, verdict).await?;
        let alert = self.alert_mail(to, Alert::ChallengeFailed);
        // The issuer's `authentication.failed` is queued whether or not the issuer has an
        // endpoint (the insert then adds nothing): this is the rare last wrong code, already a
        // transaction, and the flow does not know the issuer's endpoint.
        let mut failure_events = vec![NewEvent::authentication_failed(
            to.auth,
            &failure,
            self.now(),
        )?];
        // As for an acceptance: offered whatever the merchant row said, queued for a live
        // endpoint only.
        failure_events.push(self.finished_event(to.auth, Final::Failed, &failure)?);
        let counted = self
            .store
            .reject_code(
                &to.auth.id,
                self.now(),
                &self.limits(),
                &failure,
                &alert,
                &failure_events,
            )
            .await?;
        match counted {
            WrongCode::Counted { attempts_left } => {
                self.metrics.challenge("wrong");
                Ok(CodeAnswer::WrongCode { attempts_left })
            }
            WrongCode::Failed => {
                self.mail_queued();
                self.events_queued();
                self.metrics.challenge("failure");
                self.metrics.authentication("failed");
                Ok(CodeAnswer::Failed(failure))
            }
            WrongCode::NotChallenging => Err(FlowError::AuthenticationFinished),
        }
    }

    /// Sends a new code in place of the current one.
    ///
    /// # Errors
    ///
    /// [`FlowError::ResendLimit`], [`FlowError::ResendCooldown`],
    /// [`FlowError::ChallengeNotStarted`] or [`FlowError::AuthenticationFinished`].
    pub async fn resend(
        &self,
        auth: Authentication,
        merchant: &Merchant,
    ) -> Result<ChallengeView, FlowError> {
        let auth = self.live(auth).await?;
        let (limits, now) = (self.limits(), self.now());
        let challenge = resendable(&auth, &limits, now)?;
        let cardholder = self
            .cardholder_of(&auth)
            .await?
            .ok_or_else(|| FlowError::Internal(format!("challenge without a card: {}", auth.id)))?;
        let (code, issue) = self.new_code(&auth)?;
        let to = Parties::of(&auth, merchant, &cardholder);
        let mail = self.code_mail(to, code.as_str(), issue.expires_at, challenge.resends + 1);
        match self
            .store
            .resend_code(&auth.id, now, &issue, &limits, &mail)
            .await?
        {
            Resend::Sent => {
                self.mail_queued();
                let shown = Challenge {
                    code_digest: issue.digest,
                    code_expires_at: issue.expires_at,
                    attempts: challenge.attempts,
                    resends: challenge.resends + 1,
                    last_sent_at: now,
                };
                Ok(challenge_view(&shown, &cardholder, &self.config.security))
            }
            Resend::Refused => {
                // A concurrent resend or state change won; say which limit now applies.
                let current = self
                    .store
                    .authentication(&auth.id)
                    .await?
                    .ok_or(FlowError::NotFound)?;
                Err(resendable(&current, &limits, now)
                    .err()
                    .unwrap_or(FlowError::ResendCooldown { retry_after: 1 }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::fixtures::{authentication, challenging, finished};
    use crate::model::Assessment;
    use crate::sandbox::SandboxCard;

    const LIMITS: Limits = Limits {
        max_attempts: 5,
        max_resends: 3,
        resend_cooldown: 30,
    };

    #[test]
    fn a_resend_waits_for_the_cooldown() {
        let auth = challenging(0, 1_000);
        assert!(matches!(
            resendable(&auth, &LIMITS, 1_010),
            Err(FlowError::ResendCooldown { retry_after: 20 })
        ));
        assert!(resendable(&auth, &LIMITS, 1_030).is_ok());
    }

    #[test]
    fn the_limit_outranks_the_cooldown_and_the_state_outranks_both() {
        let spent = challenging(3, 1_000);
        assert!(matches!(
            resendable(&spent, &LIMITS, 1_001),
            Err(FlowError::ResendLimit)
        ));
        assert!(matches!(
            resendable(&finished(Final::Succeeded), &LIMITS, 1_001),
            Err(FlowError::AuthenticationFinished)
        ));
        assert!(matches!(
            resendable(&authentication(), &LIMITS, 1_001),
            Err(FlowError::ChallengeNotStarted)
        ));
    }

    #[test]
    fn the_view_counts_what_is_left_and_never_below_zero() {
        let security = Security::default();
        let challenge = Challenge {
            code_digest: vec![0; 32],
            code_expires_at: 1_600,
            attempts: security.max_attempts.get() + 2,
            resends: 1,
            last_sent_at: 1_000,
        };
        let cardholder = crate::sandbox::cardholder();
        let view = challenge_view(&challenge, &cardholder, &security);
        assert_eq!(view.attempts_left, 0);
        assert_eq!(view.resends_left, security.max_resends - 1);
        assert_eq!(view.resend_available_at, 1_000 + security.resend_cooldown);
        assert_eq!(view.expires_at, 1_600);
        assert_eq!(view.code_length, 6);
    }

    #[test]
    fn a_correct_code_renews_a_known_device_and_trusts_a_new_one() {
        let mut auth = challenging(0, 1_000);
        assert_eq!(trust_after_code(&auth), Trust::NewDevice);
        if let Progress::Challenging { assessment, .. } = &mut auth.progress {
            *assessment = Assessment {
                device_id: Some(DeviceId::from_static("dv_1")),
                ..Assessment::default()
            };
        }
        assert_eq!(
            trust_after_code(&auth),
            Trust::Renew(DeviceId::from_static("dv_1"))
        );
        auth.sandbox_card = Some(SandboxCard::Challenge);
        assert_eq!(trust_after_code(&auth), Trust::Nothing);
    }
}
