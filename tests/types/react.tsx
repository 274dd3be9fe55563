// A React checkout: `mamori/react`'s component with typed callbacks, and `<mamori-challenge>`
// written directly in JSX.

import { useRef } from 'react';
import type { ErrorDetail, MamoriChallengeElement, ResultDetail } from 'mamori';
import { MamoriChallenge, type MamoriChallengeProps } from 'mamori/react';

export function Checkout({ id, secret }: { id: string; secret: string }) {
  const element = useRef<MamoriChallengeElement>(null);
  return (
    <>
      <MamoriChallenge
        verifier="https://safekey.issuer.example"
        authentication={id}
        clientSecret={secret}
        mode="dialog"
        lang="ja"
        theme={{ accent: '#006fcf' }}
        className="checkout-step"
        onResult={(detail: ResultDetail) => void detail.resultToken}
        onError={({ code, fatal }: ErrorDetail) => void [code, fatal]}
        onChallenge={({ maskedEmail, expiresAt }) => void [maskedEmail.length, expiresAt + 1]}
      />
      {/* @ts-expect-error: the client secret is required */}
      <MamoriChallenge verifier="https://safekey.issuer.example" authentication={id} />
      <MamoriChallenge
        verifier="https://safekey.issuer.example"
        authentication={id}
        clientSecret={secret}
        // @ts-expect-error: a result carries no error code
        onResult={(detail) => void detail.code}
      />
      <mamori-challenge ref={element} authentication={id} client-secret={secret} mode="inline" theme="dark" />
      {/* @ts-expect-error: the element has two modes */}
      <mamori-challenge authentication={id} client-secret={secret} mode="modal" />
    </>
  );
}

const props: MamoriChallengeProps = {
  verifier: 'https://safekey.issuer.example',
  authentication: 'au_1',
  clientSecret: 'cs_1',
};
void props;
