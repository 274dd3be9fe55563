/** The order a merchant's backend is about to capture. */
export interface ExpectedOrder {
  /**
   * The authentication id your backend got from `POST /v1/authentications` for this order (and
   * kept with it): the token's `sub` must equal it, so a result of another authentication of the
   * same order (another card, say) is refused with code `authentication`.
   */
  authentication: string;
  /** The merchant's order reference. */
  reference: string;
  /** The amount in the currency's minor unit (yen for JPY, cents for USD). */
  amount: number;
  /** The ISO 4217 alphabetic code, e.g. `"JPY"`. */
  currency: string;
}

export interface VerifyOptions {
  /** Your merchant id: the token's `aud` must equal it. */
  audience: string;
  /** Verify as of this time, in whole seconds since the Unix epoch. Defaults to now. */
  now?: number;
  /** Clock tolerance in seconds. Defaults to 30. */
  leeway?: number;
  /**
   * Whether status `A` (attempted) counts as a success. Defaults to `false`: only `Y` returns
   * claims, anything else throws with code `status`.
   */
  allowAttempted?: boolean;
  /** When given, the token must authenticate exactly this order. */
  order?: ExpectedOrder;
}

/** What a verifier made with `createVerifier` keeps for every call. */
export interface VerifierOptions {
  /** Your merchant id: the token's `aud` must equal it. */
  audience: string;
  /** Clock tolerance in seconds. Defaults to 30. */
  leeway?: number;
  /**
   * Whether status `A` (attempted) counts as a success. Defaults to `false`: only `Y` returns
   * claims, anything else throws with code `status`.
   */
  allowAttempted?: boolean;
}

/** One call of a verifier made with `createVerifier`. */
export interface CallOptions {
  /** When given, the token must authenticate exactly this order. */
  order?: ExpectedOrder;
  /** Verify as of this time, in whole seconds since the Unix epoch. Defaults to now. */
  now?: number;
}

/**
 * A verifier made once with your keys: verifies a result token and returns its claims, only when
 * the cardholder was authenticated (`Y`, or `A` with `allowAttempted`).
 *
 * @throws {MamoriVerifyError}
 */
export type Verifier = (token: string, options?: CallOptions) => ResultClaims;

/** The claims of a verified result token (returned, or carried by a `status` refusal). */
export interface ResultClaims {
  iss: string;
  /** Your merchant id. */
  aud: string;
  /** The authentication id. */
  sub: string;
  iat: number;
  exp: number;
  /** Unique token id: redeem each one once. */
  jti: string;
  txn: { ref: string; amount: number; currency: string };
  /** 3-D Secure transStatus: verification returns only `Y` (and `A` with `allowAttempted`). */
  status: 'Y' | 'A' | 'N' | 'U' | 'R';
  /** Electronic commerce indicator to send with the authorisation. */
  eci: '05' | '06' | '07';
  method: 'frictionless' | 'challenge';
  /** 3-D Secure transStatusReason, present when `status` is not `Y`. */
  reason?: string;
}

/** Thrown when a token is refused; `code` is stable. */
export interface MamoriVerifyError extends Error {
  name: 'MamoriVerifyError';
  /**
   * Why. `status`: the token is genuine and for this order, but the cardholder was not
   * authenticated (`N`, `U`, `R`, or `A` without `allowAttempted`): do not capture; `claims`
   * says why. Anything else means the token is not to be trusted: `expired`, `signature`,
   * `authentication`, `amount`, `reference`, `currency`, `audience`, `unknown_key`, … (one per
   * rule of the strict profile), or `invalid_key` / `invalid_options` when the call itself is
   * wrong.
   */
  code: string;
  /** The verified claims, only with code `status` (to log `status` and `reason`). */
  claims?: ResultClaims;
}

/**
 * Verifies a mamori result token and returns its claims, only when the cardholder was
 * authenticated (`Y`, or `A` with `allowAttempted`): a returned value is the one to capture on.
 * The one-shot form of `createVerifier`: it parses the key and keys the HMAC on every call.
 *
 * @param token The result token the widget handed to your page.
 * @param secretKey Your secret key `mamori_sk.<kid>.<secret>`, or several during a key rotation.
 * @throws {MamoriVerifyError}
 */
export function verifyResult(
  token: string,
  secretKey: string | readonly string[],
  options: VerifyOptions,
): ResultClaims;

/**
 * Makes a verifier for many tokens: the secret key is parsed and the HMAC keyed once, here, so
 * each call only checks its token. It keeps no results: every call verifies its token in full,
 * so redeem each `jti` once yourself. Make one when your server starts and call it per payment;
 * its WebAssembly memory is freed when the function is garbage-collected.
 *
 * @param secretKey Your secret key `mamori_sk.<kid>.<secret>`, or several during a key rotation.
 * @throws {MamoriVerifyError} `invalid_key` or `invalid_options`.
 */
export function createVerifier(
  secretKey: string | readonly string[],
  options: VerifierOptions,
): Verifier;
