// The verifier's browser-facing API (docs/api.md): one function per endpoint, each answer read
// strictly into the few values the flow uses, so the flow never touches raw JSON and an answer
// of any other shape is `bad_response`, with nothing shown from it.
//
// Surviving the network: every request has a time limit (`timing.timeoutMs`); one that runs out
// counts as `network`, like a request that got no answer at all. Only the device step is tried
// again, after a short wait, when it got no answer or a 502, 503 or 504: the verifier answers a
// repeated device step with the challenge already running (no second code) or, once the
// authentication is over, `authentication_finished`, so a repeat cannot mail a code twice or
// decide twice. A code submission is never repeated by the widget, since each one may cost the
// cardholder an attempt; nor is a resend (rate-limited) or a cancel. Those are repeated only when
// the cardholder presses the button again.

// 15 s per request (a slow mobile network still gets through; a dead one is reported in time for
// the cardholder to act), and three more tries after 0.5, 1 and 2 s, each wait stretched or
// shortened by up to a quarter at random, so that browsers cut off together do not come back
// together.
export const TIMING = { timeoutMs: 15000, backoffMs: [500, 1000, 2000] };

// Why a call gave no answer: `code` is the `mamori:error` code; `status` the HTTP status of an
// error answer (0 for none, or for a 200 answer of no documented shape); `retryAfter` a
// cooldown's seconds.
export class Failure {
  constructor(code, status = 0, retryAfter = undefined) {
    this.code = code;
    this.status = status;
    this.retryAfter = retryAfter;
  }

  // Whether the same request may succeed later: no answer, a failure on the verifier's side
  // (5xx) or a rate limit (429, such as a resend cooldown). A refusal of what was sent (wrong
  // origin or secret, a finished authentication, a malformed code) never will.
  get retryable() {
    return this.code === 'network' || this.status >= 500 || this.status === 429;
  }

  // Whether an automatic repeat of a repeatable request is worth it now: no answer, or a proxy
  // or load balancer in front of the verifier that could not reach it.
  get transient() {
    return this.code === 'network' || (this.status >= 502 && this.status <= 504);
  }
}

const malformed = () => new Failure('bad_response');

// `object[name]` of a JSON value, undefined when it is not an object.
const field = (object, name) => (typeof object === 'object' && object !== null ? object[name] : undefined);
const text = (object, name) => {
  const value = field(object, name);
  return typeof value === 'string' ? value : undefined;
};
const number = (object, name) => {
  const value = field(object, name);
  return typeof value === 'number' ? value : undefined;
};
// A non-negative whole number that fits 32 bits.
const count = (object, name) => {
  const value = number(object, name);
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff ? value : undefined;
};
const required = (value) => {
  if (value === undefined) throw malformed();
  return value;
};

// A final answer: the 3-D Secure `status` and the signed `resultToken` for the merchant.
export function finished(reply) {
  return { status: required(text(reply, 'status')), resultToken: required(text(reply, 'result_token')) };
}

// A challenge as the verifier describes it, its times in milliseconds since the epoch (as
// `Date.now()` counts; seconds on the wire).
export function challenge(value) {
  return {
    maskedEmail: required(text(value, 'masked_email')),
    expiresAt: required(number(value, 'expires_at')) * 1000,
    attemptsLeft: count(value, 'attempts_left'),
    resendsLeft: count(value, 'resends_left') ?? 0,
    resendAvailableAt: (number(value, 'resend_available_at') ?? 0) * 1000,
  };
}

// The API of one authentication over `transport` (`post(path, body)` → promise of
// `[status, body]`, rejected without an answer; `abort()`), waiting as `timing` says.
export function api(transport, authentication, timing) {
  const base = `/v1/authentications/${encodeURIComponent(authentication)}`;
  let aborted = false;
  const delay = (millis) => new Promise((resolve) => setTimeout(resolve, millis));

  // One try: the body of a 2xx answer within the time limit, else a `Failure`. A request that
  // runs out is left to finish unheard: `abort` still cancels it, and its answer is dropped.
  async function send(path, body) {
    let timer;
    const late = new Promise((_, reject) => {
      timer = setTimeout(reject, timing.timeoutMs);
    });
    let answer;
    try {
      answer = await Promise.race([transport.post(path, body), late]);
    } catch {
      throw new Failure('network');
    } finally {
      clearTimeout(timer);
    }
    const [status, reply] = Array.isArray(answer) ? answer : [];
    if (!Number.isInteger(status)) throw new Failure('network');
    if (status >= 200 && status < 300) return reply;
    // Whatever a 5xx says (`internal`, `unavailable`, a proxy's page), it is a failure on the
    // verifier's side, and merchants get one code for it.
    const code = status >= 500 ? 'server_error' : (text(reply, 'error') ?? 'bad_response');
    throw new Failure(code, status, count(reply, 'retry_after'));
  }

  // Sends `body` to `endpoint` and answers the body of a 2xx answer; a `repeatable` request is
  // tried again (see above).
  async function post(endpoint, body, repeatable) {
    const path = base + endpoint;
    const json = JSON.stringify(body);
    for (const wait of repeatable ? timing.backoffMs : []) {
      try {
        return await send(path, json);
      } catch (failure) {
        if (!failure.transient) throw failure;
        await delay(wait * (0.75 + 0.5 * Math.random()));
        if (aborted) throw failure;
      }
    }
    return send(path, json);
  }

  return {
    // `POST …/device` with the fingerprint, device token and browser data in `evidence`:
    // `{finished}` (frictionless `Y` or rejected `R`) or `{challenge}` (a code was emailed).
    async device(evidence) {
      const reply = await post('/device', evidence, true);
      const outcome = text(reply, 'outcome');
      if (outcome === 'frictionless' || outcome === 'rejected') return { finished: finished(reply) };
      if (outcome === 'challenge') return { challenge: challenge(field(reply, 'challenge')) };
      throw malformed();
    },

    // `POST …/challenge/verify` with a code already normalised to six ASCII digits and, when the
    // browser made one, the fresh device key to register (`{public_key, proof}`): `{finished,
    // deviceToken?}` for the right code, `{attemptsLeft}` for a wrong one, `{finished, over}`
    // when out of attempts (`over: 'failed'`) or out of time (`over: 'expired'`).
    async verify(code, deviceKey) {
      const body = deviceKey ? { code, device_key: deviceKey } : { code };
      const reply = await post('/challenge/verify', body, false);
      const outcome = text(reply, 'outcome');
      if (outcome === 'authenticated') {
        return { finished: finished(reply), deviceToken: text(reply, 'device_token') };
      }
      if (outcome === 'wrong_code') return { attemptsLeft: required(count(reply, 'attempts_left')) };
      if (outcome === 'failed' || outcome === 'expired') return { finished: finished(reply), over: outcome };
      throw malformed();
    },

    // `POST …/challenge/resend`: the challenge of the new code.
    async resend() {
      return challenge(field(await post('/challenge/resend', {}, false), 'challenge'));
    },

    // `POST …/cancel`: the final answer.
    async cancel() {
      return finished(await post('/cancel', {}, false));
    },

    // Abandons requests in flight, and the tries still to come.
    abort() {
      aborted = true;
      transport.abort();
    },
  };
}
