//! Everything the widget says, in Japanese and English, and how the language is chosen.

use wasm_bindgen::JsValue;

use crate::js;

/// One language's texts. `{email}`, `{n}` and `{time}` are filled in by [`fill`].
pub(crate) struct Texts {
    /// The `lang` attribute of the widget's root, so screen readers pronounce it right.
    pub(crate) lang: &'static str,
    pub(crate) title: &'static str,
    pub(crate) checking: &'static str,
    pub(crate) sent_to: &'static str,
    pub(crate) label: &'static str,
    pub(crate) submit: &'static str,
    pub(crate) resend: &'static str,
    pub(crate) resend_in: &'static str,
    pub(crate) cancel: &'static str,
    pub(crate) expires_in: &'static str,
    pub(crate) code_sent: &'static str,
    pub(crate) code_resent: &'static str,
    pub(crate) verifying: &'static str,
    pub(crate) wrong_code: &'static str,
    pub(crate) invalid_code: &'static str,
    pub(crate) expired: &'static str,
    pub(crate) failed: &'static str,
    pub(crate) verified: &'static str,
    pub(crate) cancelled: &'static str,
    pub(crate) network: &'static str,
    pub(crate) origin_not_allowed: &'static str,
    pub(crate) finished: &'static str,
    pub(crate) resend_limit: &'static str,
    pub(crate) unavailable: &'static str,
}

pub(crate) const EN: Texts = Texts {
    lang: "en",
    title: "Confirm it's you",
    checking: "Checking this device…",
    sent_to: "We sent a 6-digit code to {email}.",
    label: "Verification code",
    submit: "Verify",
    resend: "Send a new code",
    resend_in: "New code in {n} s",
    cancel: "Cancel",
    expires_in: "Code expires in {time}",
    code_sent: "Code sent.",
    code_resent: "A new code was sent.",
    verifying: "Checking the code…",
    wrong_code: "Wrong code, {n} tries left.",
    invalid_code: "Enter the 6-digit code from the email.",
    expired: "The code has expired. Send a new code.",
    failed: "Too many wrong codes. The purchase could not be confirmed.",
    verified: "Confirmed.",
    cancelled: "Cancelled.",
    network: "Could not reach the card issuer. Check your connection and try again.",
    origin_not_allowed: "This site is not registered with the card issuer's verification \
                         service, so the purchase cannot be confirmed here.",
    finished: "This confirmation has already ended.",
    resend_limit: "No more codes can be sent.",
    unavailable: "Verification is unavailable right now. Try again later.",
};

pub(crate) const JA: Texts = Texts {
    lang: "ja",
    title: "ご本人確認",
    checking: "ご利用の端末を確認しています…",
    sent_to: "{email} に6桁の確認コードを送信しました。",
    label: "確認コード",
    submit: "確認する",
    resend: "コードを再送信",
    resend_in: "{n}秒後に再送信できます",
    cancel: "キャンセル",
    expires_in: "有効期限まで {time}",
    code_sent: "確認コードを送信しました。",
    code_resent: "新しい確認コードを送信しました。",
    verifying: "コードを確認しています…",
    wrong_code: "コードが正しくありません。残り{n}回入力できます。",
    invalid_code: "メールに記載の6桁のコードを入力してください。",
    expired: "確認コードの有効期限が切れました。新しいコードを送信してください。",
    failed: "誤ったコードが続けて入力されたため、ご本人確認ができませんでした。",
    verified: "ご本人確認が完了しました。",
    cancelled: "キャンセルしました。",
    network: "カード発行会社に接続できませんでした。通信環境をご確認のうえ、もう一度お試しください。",
    origin_not_allowed: "このサイトはカード発行会社の本人確認サービスに登録されていないため、\
                         ここでは確認できません。",
    finished: "この本人確認はすでに終了しています。",
    resend_limit: "これ以上コードを送信できません。",
    unavailable: "現在、本人確認をご利用いただけません。しばらくしてからお試しください。",
};

/// The texts for the first language that names Japanese or English: the `lang` option, then
/// `<html lang>`, then the browser's preferred languages; English otherwise.
pub(crate) fn choose(option: Option<&str>, window: &JsValue) -> &'static Texts {
    let html = js::prop(&js::prop(window, "document"), "documentElement");
    let html_lang = js::string(&html, "lang").unwrap_or_default();
    let languages = js::prop(&js::prop(window, "navigator"), "languages");
    let preferred = js::call(&languages, "join", &[",".into()])
        .ok()
        .and_then(|list| list.as_string())
        .unwrap_or_default();
    option
        .into_iter()
        .chain([html_lang.as_str()])
        .chain(preferred.split(','))
        .find_map(known)
        .unwrap_or(&EN)
}

/// The texts for a BCP 47 tag's primary language, if it is one we have.
fn known(tag: &str) -> Option<&'static Texts> {
    let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
    match primary.as_str() {
        "ja" => Some(&JA),
        "en" => Some(&EN),
        _ => None,
    }
}

/// `template` with each `{name}` replaced by its value.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&["{", name, "}"].concat(), value)
        })
}

/// `m:ss` for a number of seconds.
pub(crate) fn clock(seconds: u32) -> String {
    let rest = seconds % 60;
    let pad = if rest < 10 { "0" } else { "" };
    [digits(seconds / 60).as_str(), ":", pad, &digits(rest)].concat()
}

/// `n` in decimal, without the formatting machinery of `to_string`.
pub(crate) fn digits(mut n: u32) -> String {
    let mut text = Vec::with_capacity(10);
    loop {
        text.push(b'0' + (n % 10) as u8);
        n /= 10;
        if n == 0 {
            break;
        }
    }
    text.iter().rev().map(|&digit| char::from(digit)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_by_primary_subtag() {
        assert_eq!(known("ja-JP").map(|t| t.lang), Some("ja"));
        assert_eq!(known("EN_gb").map(|t| t.lang), Some("en"));
        assert!(known("fr").is_none());
        assert!(known("").is_none());
    }

    #[test]
    fn templates_and_clock() {
        assert_eq!(
            fill(EN.wrong_code, &[("n", "4")]),
            "Wrong code, 4 tries left."
        );
        assert_eq!(clock(599), "9:59");
        assert_eq!(clock(61), "1:01");
        assert_eq!(clock(0), "0:00");
        assert_eq!(digits(4_294_967_295), "4294967295");
    }
}
