//! Why a token was refused: one variant per rule of the strict profile.

use core::fmt;

/// A token was refused.
///
/// Each variant names the rule that failed, so a merchant can tell a replayed token from a
/// tampered amount. None of them carries data from the token or the key: nothing here helps
/// forge a signature (a wrong tag is [`TokenError::Signature`], with no hint of how far off it
/// was), and every check before the signature needs only public data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than [`MAX_TOKEN_LEN`](super::MAX_TOKEN_LEN) bytes.
    TooLong,
    /// The token is not exactly three non-empty, dot-separated segments (extra segments and
    /// trailing data land here).
    Segments,
    /// A segment is not canonical unpadded base64url: padding, a foreign character, or a
    /// re-spelling with non-zero unused bits.
    Encoding,
    /// The header is not the exact JSON object `{"alg","typ","kid"}`: invalid UTF-8, bad syntax,
    /// a missing, unknown or duplicate member.
    Header,
    /// The header names an algorithm other than `HS256` (`none`, `RS256`, `HS512`, …).
    Algorithm,
    /// The header's `typ` is not the kind of token the caller asked for (a device token offered
    /// as a result token, or the reverse).
    Type,
    /// No key with the header's `kid` is in the key set.
    UnknownKey,
    /// The HMAC-SHA256 tag does not match (compared in constant time).
    Signature,
    /// The signed claims are not the exact JSON object of their kind: invalid UTF-8, bad syntax,
    /// a missing, unknown or duplicate member, a value of the wrong type, or trailing data.
    Claims,
    /// `exp` is in the past, beyond the leeway.
    Expired,
    /// `iat` is in the future, beyond the leeway.
    IssuedInFuture,
    /// `exp` is not after `iat`, or the two are further apart than this kind of token may live.
    Lifetime,
    /// `aud` is not the audience the caller expects (a token issued to another merchant).
    Audience,
    /// `sub` is not the authentication the merchant created for this order (a result of another
    /// authentication of the same order, perhaps with another card).
    Authentication,
    /// The transaction reference differs from the expected order's.
    Reference,
    /// The amount differs from the expected order's.
    Amount,
    /// The currency differs from the expected order's.
    Currency,
}

impl TokenError {
    /// A stable snake_case code for logs, APIs and the golden vectors.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLong => "too_long",
            Self::Segments => "segments",
            Self::Encoding => "encoding",
            Self::Header => "header",
            Self::Algorithm => "algorithm",
            Self::Type => "type",
            Self::UnknownKey => "unknown_key",
            Self::Signature => "signature",
            Self::Claims => "claims",
            Self::Expired => "expired",
            Self::IssuedInFuture => "issued_in_future",
            Self::Lifetime => "lifetime",
            Self::Audience => "audience",
            Self::Authentication => "authentication",
            Self::Reference => "reference",
            Self::Amount => "amount",
            Self::Currency => "currency",
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Self::TooLong => "token is too long",
            Self::Segments => "token is not three dot-separated segments",
            Self::Encoding => "token segment is not canonical base64url",
            Self::Header => "token header is malformed",
            Self::Algorithm => "token algorithm is not HS256",
            Self::Type => "token is of the wrong type",
            Self::UnknownKey => "token key id is unknown",
            Self::Signature => "token signature is invalid",
            Self::Claims => "token claims are malformed",
            Self::Expired => "token has expired",
            Self::IssuedInFuture => "token is issued in the future",
            Self::Lifetime => "token lifetime is out of bounds",
            Self::Audience => "token is for another audience",
            Self::Authentication => "token is for another authentication",
            Self::Reference => "token is for another order reference",
            Self::Amount => "token is for another amount",
            Self::Currency => "token is for another currency",
        };
        f.write_str(text)
    }
}

impl core::error::Error for TokenError {}
