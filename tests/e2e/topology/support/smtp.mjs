// The cardholders' mail server: an SMTP receiver in the test process (smtp-server), each message
// parsed (mailparser) and kept. The verifier delivers to it over real SMTP, as it would to an
// issuer's relay.

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

import { until } from '../../support/wait.mjs';

// What a message is, from its subject (ja or en) and its text.
function kindOf({ subject, text }) {
  if (/entered wrongly too many times|入力に失敗しました/.test(subject)) return 'alert_failed';
  if (/was declined|お断りしました/.test(subject)) return 'alert_rejected';
  if (/new browser was trusted|新しいブラウザ/.test(subject)) return 'alert_new_device';
  if (/We have received your report|不正利用のご報告を受け付けました/.test(subject)) return 'case_open';
  if (/We are reviewing your report|確認しています/.test(subject)) return 'case_under_review';
  if (/: refunded$|返金となりました/.test(subject)) return 'case_refunded';
  if (/the outcome of our review|確認結果/.test(subject)) return 'case_declined';
  if (/^\s+\d{6}\s*$/m.test(text)) return 'code';
  return 'other';
}

export async function startSmtp() {
  const messages = [];
  const server = new SMTPServer({
    // The verifier is configured with `tls = "none"` and no credentials, as for a local relay.
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          const message = {
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom.address,
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            html: mail.html || '',
          };
          messages.push({ ...message, kind: kindOf(message) });
          callback();
        },
        (error) => callback(error),
      );
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });

  const matching = ({ to, kind }) => messages.filter((m) => m.to.includes(to) && (!kind || m.kind === kind));
  return {
    port: server.server.address().port,
    // Every message received so far, oldest first.
    messages,
    matching,
    // The first matching message after the first `after` ones, once it has arrived.
    async next({ to, kind, after = 0 }) {
      const found = await until(() => matching({ to, kind })[after], { what: `mail #${after + 1} (${kind}) to ${to}` });
      return found;
    },
    // The six-digit code in a code mail's text.
    code(message) {
      const code = /^\s+(\d{6})\s*$/m.exec(message.text)?.[1];
      if (!code) throw new Error(`no code in: ${message.text}`);
      return code;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
