// The shop's own texts in English and Japanese. The widget has its own; the shop passes it the
// same language so the whole page speaks one language.

export const TEXTS = {
  en: {
    brand: 'Mamori Tea House',
    sandbox: 'Sandbox: no real cards, no real money',
    product: 'Tokoname teapot',
    blurb: 'A red clay kyusu from Tokoname, with a fine built-in strainer.',
    checkout: 'Checkout',
    card: 'Card number',
    amount: 'Amount (JPY)',
    pay: 'Pay',
    events: 'Widget events',
    guide: 'Demo cards',
    guide_intro: 'Pick a card, press Pay, and read the code in the demo mailbox.',
    card_taro:
      'Challenged the first time (code mailed to taro@example.jp, in Japanese), then frictionless in this browser up to ¥50,000.',
    card_hanako:
      'Challenged the first time (code mailed to hanako@example.com, in English), then frictionless up to ¥1,000,000.',
    card_blocked: 'Blocked by the issuer: rejected (R).',
    card_unknown: 'Not enrolled: rejected (R), the same answer as a blocked card.',
    try: 'Things to try',
    try_amount: "On a trusted browser, an amount over the card's limit is challenged again.",
    try_clear: "Clearing this site's data (or another browser) means a new device: challenged.",
    try_wrong:
      'Five wrong codes fail the purchase and mail a fraud alert; its link signs out every trusted browser of the card.',
    try_paste: 'Codes can be pasted with spaces, or typed in full-width digits.',
    mailbox: 'Open the demo mailbox',
    starting: 'Starting the payment…',
    accepted: 'Payment accepted: {amount}.',
    refused: 'Payment refused: {why}',
    pending: 'The code expired. Send a new code to go on.',
    failed_start: 'The payment could not start: {why}',
    how_frictionless: 'Confirmed without a code: this browser is trusted for the card.',
    how_challenge: 'Confirmed with the code from the email.',
    signals: 'Risk signals: {list}',
    why_N: 'the cardholder could not be authenticated',
    why_U: 'the authentication could not be completed',
    why_R: 'the card issuer declined the purchase',
    why_invalid_token: 'the result token did not verify',
    why_already_paid: 'this order was already paid',
    reason_01: 'cancelled',
    reason_12: 'not permitted',
    reason_14: 'timed out',
    reason_19: 'too many wrong codes',
  },
  ja: {
    brand: 'まもり茶房',
    sandbox: 'サンドボックス：実在のカードや代金は使われません',
    product: '常滑焼 急須',
    blurb: '常滑の朱泥の急須。細かな茶こし付き。',
    checkout: 'お支払い',
    card: 'カード番号',
    amount: '金額（円）',
    pay: '支払う',
    events: 'ウィジェットのイベント',
    guide: 'デモ用カード',
    guide_intro: 'カードを選んで「支払う」を押し、確認コードはデモ用メールボックスでご覧ください。',
    card_taro:
      '初回は確認コード（taro@example.jp 宛、日本語）。以後このブラウザでは5万円までコードなし。',
    card_hanako:
      '初回は確認コード（hanako@example.com 宛、英語）。以後100万円までコードなし。',
    card_blocked: 'カード発行会社が停止中：お断り（R）。',
    card_unknown: '未登録：お断り（R）。停止中のカードと同じ応答です。',
    try: '試せること',
    try_amount: '信頼済みのブラウザでも、上限を超える金額では確認コードが必要です。',
    try_clear: 'サイトデータの削除や別のブラウザは新しい端末として扱われ、確認コードが必要です。',
    try_wrong:
      'コードを5回誤るとお取引は失敗し、不正利用の通知メールが届きます。そのリンクからカードの信頼済みブラウザをすべて無効にできます。',
    try_paste: 'コードはスペース入りの貼り付けや全角数字の入力もできます。',
    mailbox: 'デモ用メールボックスを開く',
    starting: 'お支払いを開始しています…',
    accepted: 'お支払いが完了しました：{amount}',
    refused: 'お支払いをお受けできませんでした：{why}',
    pending: '確認コードの有効期限が切れました。新しいコードを送信してください。',
    failed_start: 'お支払いを開始できませんでした：{why}',
    how_frictionless: 'このブラウザはカードの信頼済み端末のため、コードなしで確認しました。',
    how_challenge: 'メールの確認コードで確認しました。',
    signals: 'リスク判定の理由：{list}',
    why_N: 'ご本人確認ができませんでした',
    why_U: 'ご本人確認を完了できませんでした',
    why_R: 'カード発行会社がお取引をお断りしました',
    why_invalid_token: '結果トークンを検証できませんでした',
    why_already_paid: 'このご注文はお支払い済みです',
    reason_01: 'キャンセル',
    reason_12: '許可されていない取引',
    reason_14: '時間切れ',
    reason_19: 'コードの誤入力が上限に達しました',
  },
};

// The page's language: `?lang=`, then the browser's preferences; English otherwise.
export function chooseLanguage(search, languages) {
  const asked = new URLSearchParams(search).get('lang');
  for (const tag of [asked, ...languages]) {
    const primary = tag?.toLowerCase().split('-')[0];
    if (primary in TEXTS) return primary;
  }
  return 'en';
}

// `template` with each `{name}` replaced.
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}
