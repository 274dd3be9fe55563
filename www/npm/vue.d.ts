// `mamori/vue`: types of the component, and `<mamori-challenge>` in Vue's templates and TSX.

import type { DefineSetupFnComponent } from 'vue';

import type { MamoriChallengeAttributes } from './globals.js';
import type { ChallengeDetail, ErrorDetail, MountOptions, ResultDetail } from './index.js';

/** The component's events: each `mamori:*` event under its name without the prefix, with the
 * event's `detail`. */
export type MamoriChallengeEmits = {
  ready: (detail: Record<string, never>) => void;
  challenge: (detail: ChallengeDetail) => void;
  resend: (detail: ChallengeDetail) => void;
  /** The authentication is over: hand `resultToken` to your backend. */
  result: (detail: ResultDetail) => void;
  /** Also emitted, as a fatal `invalid_options`, `network` or `bad_response` error, when the
   * widget cannot be loaded or mounted. */
  error: (detail: ErrorDetail) => void;
  expired: (detail: Record<string, never>) => void;
  cancel: (detail: ResultDetail) => void;
};

/** The widget in a `<div>`: mounted once the component is, destroyed on unmount and mounted
 * anew when a prop changes. Props are the options of `mount`. */
export declare const MamoriChallenge: DefineSetupFnComponent<MountOptions, MamoriChallengeEmits>;

declare module '@vue/runtime-dom' {
  interface IntrinsicElementAttributes {
    /** The element the script tag (or `defineElement()`) defines. */
    'mamori-challenge': MamoriChallengeAttributes & HTMLAttributes;
  }
}
