// Everything the widget says, in Japanese and English, and how the language is chosen.
// `{email}`, `{n}` and `{time}` are filled in by `fill`.

const EN = {
  lang: 'en',
  title: "Confirm it's you",
  checking: 'Checking this device…',
  sentTo: 'We sent a 6-digit code to {email}.',
  label: 'Verification code',
  submit: 'Verify',
  resend: 'Send a new code',
  resendIn: 'New code in {n} s',
  cancel: 'Cancel',
  expiresIn: 'Code expires in {time}',
  codeSent: 'Code sent.',
  codeResent: 'A new code was sent.',
  verifying: 'Checking the code…',
  wrongCode: 'Wrong code, {n} tries left.',
  invalidCode: 'Enter the 6-digit code from the email.',
  expired: 'The code has expired. Send a new code.',
  failed: 'Too many wrong codes. The purchase could not be confirmed.',
  verified: 'Confirmed.',
  cancelled: 'Cancelled.',
  network: 'Could not reach the card issuer. Check your connection and try again.',
  originNotAllowed:
    "This site is not registered with the card issuer's verification service, so the purchase cannot be confirmed here.",
  finished: 'This confirmation has already ended.',
  resendLimit: 'No more codes can be sent.',
  unavailable: 'Verification is unavailable right now. Try again later.',
};

const JA = {
  lang: 'ja',
  title: 'ご本人確認',
  checking: 'ご利用の端末を確認しています…',
  sentTo: '{email} に6桁の確認コードを送信しました。',
  label: '確認コード',
  submit: '確認する',
  resend: 'コードを再送信',
  resendIn: '{n}秒後に再送信できます',
  cancel: 'キャンセル',
  expiresIn: '有効期限まで {time}',
  codeSent: '確認コードを送信しました。',
  codeResent: '新しい確認コードを送信しました。',
  verifying: 'コードを確認しています…',
  wrongCode: 'コードが正しくありません。残り{n}回入力できます。',
  invalidCode: 'メールに記載の6桁のコードを入力してください。',
  expired: '確認コードの有効期限が切れました。新しいコードを送信してください。',
  failed: '誤ったコードが続けて入力されたため、ご本人確認ができませんでした。',
  verified: 'ご本人確認が完了しました。',
  cancelled: 'キャンセルしました。',
  network: 'カード発行会社に接続できませんでした。通信環境をご確認のうえ、もう一度お試しください。',
  originNotAllowed: 'このサイトはカード発行会社の本人確認サービスに登録されていないため、ここでは確認できません。',
  finished: 'この本人確認はすでに終了しています。',
  resendLimit: 'これ以上コードを送信できません。',
  unavailable: '現在、本人確認をご利用いただけません。しばらくしてからお試しください。',
};

// The texts for the first language that names Japanese or English: the `lang` option, then
// `<html lang>`, then the browser's preferred languages; English otherwise. A tag counts by its
// primary subtag (`ja-JP`, `EN_gb`).
export function choose(option) {
  let preferred = [];
  try {
    preferred = [...navigator.languages];
  } catch {}
  const tags = [option, document.documentElement?.lang, ...preferred];
  for (const tag of tags) {
    const primary = typeof tag === 'string' ? tag.split(/[-_]/)[0].toLowerCase() : '';
    if (primary === 'ja') return JA;
    if (primary === 'en') return EN;
  }
  return EN;
}

// `template` with each `{name}` replaced by `values[name]`.
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
}

// `m:ss` for a number of seconds.
export function clock(seconds) {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
