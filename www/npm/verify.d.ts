/** The order a merchant's backend is about to capture. */
export interface ExpectedOrder {
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
  /** When given, the token must authenticate exactly this order. */
  order?: ExpectedOrder;
}

/** The claims of a verified result token. */
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
  /** 3-D Secure transStatus: only `Y` (and `A`, by your policy) should be captured. */
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
   * Why: `expired`, `signature`, `amount`, `reference`, `currency`, `audience`, `unknown_key`,
   * … (one per rule of the strict profile), or `invalid_key` / `invalid_options` when the call
   * itself is wrong.
   */
  code: string;
}

/**
 * Verifies a mamori result token and returns its claims.
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
