//! Small text helpers for mail and pages: HTML escaping, amounts, times, masked addresses.

use crate::model::{Amount, Currency, Locale};

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Digits after the decimal point of a currency's minor unit (ISO 4217), for the currencies a
/// Japanese issuer sees most; others default to two.
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "TWD" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Formats an amount in minor units: `¥12,800`, `$128.00`, `€9.99`, `12.50 CHF`.
pub fn format_amount(amount: Amount, currency: Currency) -> String {
    let currency = currency.as_str();
    let digits = minor_digits(currency);
    let scale = 10_i64.pow(digits);
    let amount = amount.get();
    let whole = amount / scale;
    let mut grouped = String::new();
    let text = whole.to_string();
    for (i, c) in text.chars().enumerate() {
        if i > 0 && (text.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = if digits == 0 {
        grouped
    } else {
        let fraction = amount % scale;
        format!("{grouped}.{fraction:0width$}", width = digits as usize)
    };
    match currency {
        "JPY" => format!("¥{number}"),
        "USD" => format!("${number}"),
        "EUR" => format!("€{number}"),
        "GBP" => format!("£{number}"),
        _ => format!("{number} {currency}"),
    }
}

/// Formats a time for a cardholder: Japan time for `ja` (`2027-01-15 09:30 JST`), UTC for `en`.
pub fn format_time(epoch: i64, locale: Locale) -> String {
    let (offset, zone) = match locale {
        Locale::Ja => (9 * 3600, "JST"),
        Locale::En => (0, "UTC"),
    };
    let t = epoch + offset;
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} {zone}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Formats a time as RFC 3339 in UTC, to the second: `2027-01-15T00:30:00Z`.
pub fn format_rfc3339(epoch: i64) -> String {
    let days = epoch.div_euclid(86_400);
    let secs = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Masks an address for the challenge screen: `t***@example.com`. The domain is what follows the last `@` (a quoted local part may hold
/// one), so no more of the local part than its first character shows.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn amounts_per_currency() {
        assert_eq!(
            format_amount(Amount::new(12_800).unwrap(), Currency::new("JPY").unwrap()),
            "¥12,800"
        );
        assert_eq!(
            format_amount(
                Amount::new(1_234_567).unwrap(),
                Currency::new("JPY").unwrap()
            ),
            "¥1,234,567"
        );
        assert_eq!(
            format_amount(Amount::new(12_800).unwrap(), Currency::new("USD").unwrap()),
            "$128.00"
        );
        assert_eq!(
            format_amount(Amount::new(999).unwrap(), Currency::new("EUR").unwrap()),
            "€9.99"
        );
        assert_eq!(
            format_amount(Amount::new(5).unwrap(), Currency::new("GBP").unwrap()),
            "£0.05"
        );
        assert_eq!(
            format_amount(Amount::new(1250).unwrap(), Currency::new("CHF").unwrap()),
            "12.50 CHF"
        );
        assert_eq!(
            format_amount(Amount::new(1234).unwrap(), Currency::new("KWD").unwrap()),
            "1.234 KWD"
        );
        assert_eq!(
            format_amount(Amount::new(100).unwrap(), Currency::new("JPY").unwrap()),
            "¥100"
        );
    }

    #[test]
    fn times_per_locale() {
        assert_eq!(format_time(0, Locale::En), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(0, Locale::Ja), "1970-01-01 09:00 JST");
        assert_eq!(
            format_time(1_800_000_000, Locale::En),
            "2027-01-15 08:00 UTC"
        );
        assert_eq!(format_time(951_782_400, Locale::En), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn masks_addresses() {
        assert_eq!(mask_email("taro@example.com"), "t***@example.com");
        assert_eq!(mask_email("山田@example.jp"), "山***@example.jp");
        assert_eq!(mask_email("nobody"), "***");
        assert_eq!(mask_email("\"a@secret\"@example.org"), "\"***@example.org");
    }
}
