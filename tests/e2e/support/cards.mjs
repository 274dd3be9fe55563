// Card numbers for cardholders a test enrolls for itself, so that no test inherits another's
// trusted devices, failed challenges or fraud reports.

let next = 0;

// A fresh 15-digit Amex-style number that passes the Luhn check.
export function newCardNumber() {
  next += 1;
  const body = `3799${String(process.pid % 100000).padStart(5, '0')}${String(next).padStart(5, '0')}`;
  return body + luhnDigit(body);
}

// The check digit that makes `digits` + it pass the Luhn check.
export function luhnDigit(digits) {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    // Doubling starts from the rightmost digit of `digits`, the one next to the check digit.
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

// The demo's seeded cards (crates/mamori-server/src/demo).
export const DEMO = {
  taro: '378282246310005',
  hanako: '371449635398431',
  blocked: '378734493671000',
  notEnrolled: '340000000000009',
};
