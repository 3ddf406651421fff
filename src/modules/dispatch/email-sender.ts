import { createTransport, type Transporter } from 'nodemailer';

/** One email ready for SMTP: the stored content plus what is added on the way out. */
export interface OutgoingEmail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /** `<touchpoint-id@host>`: the same on every attempt, so a resend is a recognisable duplicate. */
  readonly messageId: string;
  readonly unsubscribeUrl: string;
}

export type SendResult =
  | { readonly ok: true; readonly messageId: string; readonly response: string }
  | { readonly ok: false; readonly permanent: boolean; readonly error: string };

/** Sends email; `close()` ends pooled connections. */
export interface EmailSender {
  send(email: OutgoingEmail): Promise<SendResult>;
  close(): void;
}

const TIMEOUT_MS = '30000';

/**
 * SMTP over a pooled nodemailer transport. Connection timeouts are bounded, so a hung server
 * turns into a retryable failure rather than a job stuck for ever.
 */
export function smtpSender(smtpUrl: string): EmailSender {
  const url = new URL(smtpUrl);
  url.searchParams.set('pool', 'true');
  for (const name of ['connectionTimeout', 'greetingTimeout', 'socketTimeout']) {
    if (!url.searchParams.has(name)) url.searchParams.set(name, TIMEOUT_MS);
  }
  const transport: Transporter = createTransport(url.toString());
  return {
    async send(email) {
      try {
        const info = await transport.sendMail({
          from: email.from,
          to: email.to,
          subject: email.subject,
          html: email.html,
          text: email.text,
          messageId: email.messageId,
          headers: {
            // RFC 8058: mail clients show an unsubscribe button that POSTs here, no page visit.
            'List-Unsubscribe': `<${email.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
        });
        return { ok: true, messageId: email.messageId, response: String(info.response ?? '') };
      } catch (error) {
        return { ok: false, ...classifySmtpError(error) };
      }
    },
    close: () => transport.close(),
  };
}

/** nodemailer's codes for refusals of the message itself (MAIL FROM, RCPT TO, DATA). */
const MESSAGE_ERRORS = new Set(['EENVELOPE', 'EMESSAGE']);

/**
 * 5xx answers to the message (the server refused it: bad address, policy) are permanent and
 * not retried; 4xx answers and connection errors are temporary and are. A 5xx to the session
 * rather than the message (a refused login, a 554 greeting) says nothing about this email and
 * would fail every one due until SMTP is fixed, so it is temporary too.
 */
export function classifySmtpError(error: unknown): { readonly permanent: boolean; readonly error: string } {
  const e = error as { responseCode?: number; code?: string; response?: string; message?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const detail = (e.response ?? e.message ?? String(error)).replace(/\s+/g, ' ').trim();
  const label = code !== undefined ? String(code) : (e.code ?? 'error');
  const text = `${label}: ${detail}`.slice(0, 500);
  const aboutMessage = e.code === undefined || MESSAGE_ERRORS.has(e.code);
  return { permanent: aboutMessage && code !== undefined && code >= 500 && code < 600, error: text };
}

/** The open pixel goes at the end of the body, where clients that load images fetch it last. */
export function withOpenPixel(html: string, pixelUrl: string): string {
  const img = `<img src="${pixelUrl}" width="1" height="1" alt="" style="display:none">`;
  const close = html.search(/<\/body\s*>/i);
  return close >= 0 ? `${html.slice(0, close)}${img}${html.slice(close)}` : `${html}${img}`;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** An HTML part for a template written only as text, so it can carry the open pixel too. */
export function htmlFromText(text: string): string {
  const escaped = text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
  return escaped
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${paragraph.replace(/\n/g, '<br>')}</p>`)
    .join('\n');
}

/** `<id@host>` with the host of PUBLIC_URL: globally unique and stable for a touchpoint. */
export function messageIdFor(touchpointId: string, publicUrl: string): string {
  return `<${touchpointId}@${new URL(publicUrl).hostname}>`;
}
