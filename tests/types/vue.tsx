// A Vue checkout: `mamori/vue`'s component in a render function and in TSX, with typed event
// handlers, and `<mamori-challenge>` written directly in TSX.

import { defineComponent, h } from 'vue';
import type { ResultDetail } from 'mamori';
import { MamoriChallenge } from 'mamori/vue';

export const Checkout = defineComponent({
  props: { id: { type: String, required: true }, secret: { type: String, required: true } },
  setup(props) {
    const onResult = (detail: ResultDetail) => void detail.resultToken;
    return () => [
      h(MamoriChallenge, {
        verifier: 'https://safekey.issuer.example',
        authentication: props.id,
        clientSecret: props.secret,
        mode: 'dialog',
        onResult,
        onError: ({ code, retryable }) => void [code.length, retryable],
      }),
      <MamoriChallenge
        verifier="https://safekey.issuer.example"
        authentication={props.id}
        clientSecret={props.secret}
        onChallenge={({ resendsLeft }) => void (resendsLeft + 1)}
      />,
      // @ts-expect-error: the client secret is required
      <MamoriChallenge verifier="https://safekey.issuer.example" authentication={props.id} />,
      <MamoriChallenge
        verifier="https://safekey.issuer.example"
        authentication={props.id}
        clientSecret={props.secret}
        // @ts-expect-error: a result carries no error code
        onResult={(detail) => void detail.code}
      />,
      <mamori-challenge authentication={props.id} client-secret={props.secret} mode="dialog" />,
      // @ts-expect-error: the element has two modes
      <mamori-challenge authentication={props.id} client-secret={props.secret} mode="modal" />,
    ];
  },
});
