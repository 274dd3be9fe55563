// `mamori/react`: types of the component, and `<mamori-challenge>` in React's JSX.

import type { HTMLAttributes, JSX as ReactJSX, Ref } from 'react';

import type { MamoriChallengeAttributes, MamoriChallengeElement } from './globals.js';
import type { ChallengeDetail, ErrorDetail, MountOptions, ResultDetail } from './index.js';

/** Callbacks for the widget's `mamori:*` events, each given the event's `detail`. */
export interface MamoriChallengeCallbacks {
  onReady?: (detail: Record<string, never>) => void;
  onChallenge?: (detail: ChallengeDetail) => void;
  onResend?: (detail: ChallengeDetail) => void;
  /** The authentication is over: hand `resultToken` to your backend. */
  onResult?: (detail: ResultDetail) => void;
  /** Also called, as a fatal `invalid_options`, `network` or `bad_response` error, when the
   * widget cannot be loaded or mounted. */
  onError?: (detail: ErrorDetail) => void;
  onExpired?: (detail: Record<string, never>) => void;
  onCancel?: (detail: ResultDetail) => void;
}

/** Props of {@link MamoriChallenge}: the options of `mount`, the event callbacks, and the
 * attributes of the `<div>` it renders. */
export type MamoriChallengeProps = MountOptions &
  MamoriChallengeCallbacks &
  Omit<HTMLAttributes<HTMLDivElement>, keyof MamoriChallengeCallbacks | 'children' | 'lang'>;

/** The widget in a `<div>`: mounted after the render is committed, destroyed on unmount and
 * mounted anew when an option changes. */
export function MamoriChallenge(props: MamoriChallengeProps): ReactJSX.Element;

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      /** The element the script tag (or `defineElement()`) defines. */
      'mamori-challenge': MamoriChallengeAttributes &
        Omit<HTMLAttributes<HTMLElement>, keyof MamoriChallengeAttributes> & {
          ref?: Ref<MamoriChallengeElement>;
        };
    }
  }
}
