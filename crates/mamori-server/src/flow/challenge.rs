//! The challenge: issuing codes, what the challenge screen shows, checking an entered code and
//! resending.
//!
//! The limits (attempts, resends, cooldown) are decided here by pure functions for the answer
//! the cardholder sees, and again by the store's conditional statements, which are the guard
//! against concurrent requests: a request that passes here can still lose there.

use mamori_core::otp;
use mamori_core::token::{Method, Reason, TransStatus};

use super::notice::Parties;
use super::{Flow, FlowError};
use crate::config::Security;
use crate::mail::templates::Alert;
use crate::model::{Authentication, Cardholder, Device, Locale, Merchant, NewMail, Outcome, State};
use crate::sandbox;
use crate::secrets::{random_bytes, random_id};
use crate::store::{Acceptance, CodeIssue, Limits, Resend, WrongCode};
use crate::text::mask_email;
use crate::tokens::Verdict;

/// What the challenge screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChallengeView {
    /// The cardholder's address, masked (`t•••@example.com`).
    pub masked_email: String,
    /// Digits in a code.
    pub code_length: usize,
    /// When the current code stops matching.
    pub expires_at: Option<i64>,
    /// Wrong entries left.
    pub attempts_left: i64,
    /// Resends left.
    pub resends_left: i64,
    /// When a resend becomes possible.
    pub resend_available_at: i64,
    /// The cardholder's language.
    pub locale: Locale,
}

/// The challenge screen's facts for `auth` as stored.
pub fn challenge_view(
    auth: &Authentication,
    cardholder: &Cardholder,
    security: &Security,
) -> ChallengeView {
    let last_sent = auth.last_sent_at.unwrap_or(auth.created_at);
    ChallengeView {
        masked_email: mask_email(&cardholder.email),
        code_length: otp::CODE_LEN,
        expires_at: auth.code_expires_at,
        attempts_left: (security.max_attempts - auth.attempts).max(0),
        resends_left: (security.max_resends - auth.resends).max(0),
        resend_available_at: last_sent + security.resend_cooldown,
        locale: cardholder.locale,
    }
}

/// Why a resend of `auth` at `now` is refused, if it is: final, no resend left, or the
/// cooldown since the last code has not passed.
pub fn resend_refusal(auth: &Authentication, limits: &Limits, now: i64) -> Option<FlowError> {
    let available = auth.last_sent_at.unwrap_or(0) + limits.resend_cooldown;
    if auth.state.is_final() {
        Some(FlowError::AuthenticationFinished)
    } else if auth.resends >= limits.max_resends {
        Some(FlowError::ResendLimit)
    } else if now < available {
        Some(FlowError::ResendCooldown {
            retry_after: available - now,
        })
    } else {
        None
    }
}

/// Which device a correct code leaves trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// None: a sandbox authentication trusts no device, so each test run starts alike.
    Nothing,
    /// The device whose token was valid stays the same device; its token is renewed.
    Renew(String),
    /// Any other browser becomes a new trusted device, and the cardholder hears about it.
    NewDevice,
}

/// The trust a correct code on `auth` grants.
pub fn trust_after_code(auth: &Authentication) -> Trust {
    match &auth.device_id {
        _ if auth.sandbox_card.is_some() => Trust::Nothing,
        Some(id) => Trust::Renew(id.clone()),
        None => Trust::NewDevice,
    }
}

/// What a code entry leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeAnswer {
    /// The right code: `Y`, with the device token of the trusted browser (none in a sandbox).
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
    /// The last allowed wrong code: `N`.
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
            digest: otp::digest(&self.secrets.otp_key, &auth.id, &code).to_vec(),
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
        let mail = self.code_mail(to, code.as_str(), issue.expires_at);
        let shown = Authentication {
            code_expires_at: Some(issue.expires_at),
            last_sent_at: Some(self.now()),
            ..to.auth.clone()
        };
        let view = challenge_view(&shown, to.cardholder, &self.config.security);
        Ok((issue, mail, view))
    }

    /// The cardholder entered `code`.
    ///
    /// # Errors
    ///
    /// [`FlowError::ChallengeNotStarted`] before the device step,
    /// [`FlowError::AuthenticationFinished`] once final or when a concurrent entry won.
    pub async fn check_code(
        &self,
        auth: Authentication,
        merchant: &Merchant,
        code: &otp::Code,
    ) -> Result<CodeAnswer, FlowError> {
        let auth = self.expire_if_due(auth).await?;
        match auth.state {
            State::Challenging => {}
            State::Pending => return Err(FlowError::ChallengeNotStarted),
            State::Expired => return expired(&auth),
            _ => return Err(FlowError::AuthenticationFinished),
        }
        let cardholder = self
            .cardholder_of(&auth)
            .await?
            .ok_or_else(|| FlowError::Internal(format!("challenge without a card: {}", auth.id)))?;
        let to = Parties {
            auth: &auth,
            merchant,
            cardholder: &cardholder,
        };
        let right = otp::verify(
            &self.secrets.otp_key,
            &auth.id,
            code,
            auth.code_digest.as_deref().unwrap_or_default(),
        ) && auth.code_expires_at.is_some_and(|at| at > self.now());
        if right {
            self.accept(to, code).await
        } else {
            self.count_wrong(to).await
        }
    }

    async fn accept(&self, to: Parties<'_>, code: &otp::Code) -> Result<CodeAnswer, FlowError> {
        let (auth, now) = (to.auth, self.now());
        let verdict = Verdict {
            status: TransStatus::Authenticated,
            method: Method::Challenge,
            reason: None,
        };
        let outcome = self.outcome(auth, verdict).await?;
        let (device, alert, device_id) = match trust_after_code(auth) {
            Trust::Nothing => (None, None, None),
            Trust::Renew(id) => (None, None, Some(id)),
            Trust::NewDevice => {
                let device = Device {
                    id: random_id("dv_")?,
                    cardholder_id: to.cardholder.id.clone(),
                    merchant_id: auth.merchant_id.clone(),
                    fingerprint: auth.fingerprint.clone().unwrap_or_else(|| "{}".into()),
                    created_at: now,
                    expires_at: now + self.config.security.device_lifetime,
                    revoked_at: None,
                };
                let id = device.id.clone();
                (
                    Some(device),
                    Some(self.alert_mail(to, Alert::NewDevice)),
                    Some(id),
                )
            }
        };
        let digest = otp::digest(&self.secrets.otp_key, &auth.id, code);
        let accept = Acceptance {
            digest: &digest,
            outcome: &outcome,
            device: device.as_ref(),
            mail: alert.as_ref(),
        };
        if !self
            .store
            .accept_code(&auth.id, now, &self.limits(), &accept)
            .await?
        {
            // Another request used the code (or the last attempt) first.
            return Err(FlowError::AuthenticationFinished);
        }
        if alert.is_some() {
            self.mail_queued();
        }
        self.metrics.challenge("success");
        self.metrics.authentication("authenticated");
        let device_token = device_id.map(|id| {
            self.tokens()
                .device(&auth.merchant_id, &to.cardholder.id, &id, now)
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
        let counted = self
            .store
            .reject_code(&to.auth.id, self.now(), &self.limits(), &failure, &alert)
            .await?;
        match counted {
            WrongCode::Counted { attempts_left } => {
                self.metrics.challenge("wrong");
                Ok(CodeAnswer::WrongCode { attempts_left })
            }
            WrongCode::Failed => {
                self.mail_queued();
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
        if auth.state != State::Challenging {
            return Err(FlowError::ChallengeNotStarted);
        }
        let (limits, now) = (self.limits(), self.now());
        if let Some(refusal) = resend_refusal(&auth, &limits, now) {
            return Err(refusal);
        }
        let cardholder = self
            .cardholder_of(&auth)
            .await?
            .ok_or_else(|| FlowError::Internal(format!("challenge without a card: {}", auth.id)))?;
        let (code, issue) = self.new_code(&auth)?;
        let to = Parties {
            auth: &auth,
            merchant,
            cardholder: &cardholder,
        };
        let mail = self.code_mail(to, code.as_str(), issue.expires_at);
        match self
            .store
            .resend_code(&auth.id, now, &issue, &limits, &mail)
            .await?
        {
            Resend::Sent => {
                self.mail_queued();
                let shown = Authentication {
                    code_expires_at: Some(issue.expires_at),
                    last_sent_at: Some(now),
                    resends: auth.resends + 1,
                    ..auth
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
                Err(resend_refusal(&current, &limits, now)
                    .unwrap_or(FlowError::ResendCooldown { retry_after: 1 }))
            }
        }
    }
}

/// The answer to a code entered after the authentication expired: its stored `U` result.
fn expired(auth: &Authentication) -> Result<CodeAnswer, FlowError> {
    let outcome = auth
        .outcome
        .clone()
        .ok_or_else(|| FlowError::Internal(format!("expired without outcome: {}", auth.id)))?;
    Ok(CodeAnswer::Expired(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::create::tests::authentication;
    use crate::sandbox::SandboxCard;

    const LIMITS: Limits = Limits {
        max_attempts: 5,
        max_resends: 3,
        resend_cooldown: 30,
    };

    fn challenging(resends: i64, last_sent_at: i64) -> Authentication {
        Authentication {
            state: State::Challenging,
            resends,
            last_sent_at: Some(last_sent_at),
            ..authentication()
        }
    }

    #[test]
    fn a_resend_waits_for_the_cooldown() {
        let auth = challenging(0, 1_000);
        assert!(matches!(
            resend_refusal(&auth, &LIMITS, 1_010),
            Some(FlowError::ResendCooldown { retry_after: 20 })
        ));
        assert!(resend_refusal(&auth, &LIMITS, 1_030).is_none());
    }

    #[test]
    fn the_limit_outranks_the_cooldown_and_finality_outranks_both() {
        let spent = challenging(3, 1_000);
        assert!(matches!(
            resend_refusal(&spent, &LIMITS, 1_001),
            Some(FlowError::ResendLimit)
        ));
        let done = Authentication {
            state: State::Succeeded,
            ..spent
        };
        assert!(matches!(
            resend_refusal(&done, &LIMITS, 1_001),
            Some(FlowError::AuthenticationFinished)
        ));
    }

    #[test]
    fn the_view_counts_what_is_left_and_never_below_zero() {
        let security = Security::default();
        let auth = Authentication {
            attempts: security.max_attempts + 2,
            resends: 1,
            code_expires_at: Some(1_600),
            ..challenging(1, 1_000)
        };
        let cardholder = crate::sandbox::cardholder();
        let view = challenge_view(&auth, &cardholder, &security);
        assert_eq!(view.attempts_left, 0);
        assert_eq!(view.resends_left, security.max_resends - 1);
        assert_eq!(view.resend_available_at, 1_000 + security.resend_cooldown);
        assert_eq!(view.expires_at, Some(1_600));
        assert_eq!(view.code_length, 6);
    }

    #[test]
    fn a_correct_code_renews_a_known_device_and_trusts_a_new_one() {
        let mut auth = authentication();
        assert_eq!(trust_after_code(&auth), Trust::NewDevice);
        auth.device_id = Some("dv_1".into());
        assert_eq!(trust_after_code(&auth), Trust::Renew("dv_1".into()));
        auth.sandbox_card = Some(SandboxCard::Challenge);
        assert_eq!(trust_after_code(&auth), Trust::Nothing);
    }
}
