// The small pages people see after following a link of an email: self-contained HTML (no
// scripts, no external resources), in Portuguese or English.

/** A 1×1 transparent GIF: the open pixel. */
export const PIXEL_GIF: Buffer = Buffer.from(
  'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7',
  'base64',
);

export type PageLanguage = 'pt' | 'en';

/** Portuguese for pt-* locales, English otherwise (the seed templates' two languages). */
export function pageLanguage(locale: string | null | undefined): PageLanguage {
  return locale?.toLowerCase().startsWith('pt') ? 'pt' : 'en';
}

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function page(language: PageLanguage, title: string, body: string): string {
  return (
    `<!doctype html>\n<html lang="${language === 'pt' ? 'pt-BR' : 'en'}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">' +
    `<title>${escapeHtml(title)}</title><style>` +
    'body{font-family:Arial,Helvetica,sans-serif;color:#222;background:#f6f6f6;margin:0;padding:40px 16px}' +
    'main{max-width:480px;margin:0 auto;background:#fff;border-radius:8px;padding:24px 28px;line-height:1.5}' +
    'h1{font-size:20px;margin:0 0 12px}button{font-size:15px;padding:10px 18px;border:0;border-radius:4px;' +
    'background:#222;color:#fff;cursor:pointer}' +
    `</style></head><body><main>${body}</main></body></html>\n`
  );
}

/** GET /u/{token}: asks to confirm; only the button's POST unsubscribes (RFC 8058: a GET must not). */
export function unsubscribeConfirmPage(language: PageLanguage, shop: string): string {
  const name = escapeHtml(shop);
  // The form posts what a one-click mail client posts, to this same URL.
  const form = (label: string) =>
    '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">' +
    `<button type="submit">${label}</button></form>`;
  return language === 'pt'
    ? page(
        'pt',
        'Cancelar inscrição',
        `<h1>Cancelar inscrição</h1><p>Você deixará de receber e-mails de ${name}.</p>${form('Confirmar cancelamento')}`,
      )
    : page(
        'en',
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>You will no longer receive emails from ${name}.</p>${form('Unsubscribe')}`,
      );
}

/** After the unsubscribe (also when it had already been done). */
export function unsubscribedPage(language: PageLanguage, shop: string): string {
  const name = escapeHtml(shop);
  return language === 'pt'
    ? page(
        'pt',
        'Inscrição cancelada',
        `<h1>Pronto, inscrição cancelada</h1><p>Você não receberá mais e-mails de ${name}.</p>`,
      )
    : page(
        'en',
        'Unsubscribed',
        `<h1>You are unsubscribed</h1><p>You will no longer receive emails from ${name}.</p>`,
      );
}

/** After a survey answer; `already`: the first answer to this email was kept. */
export function surveyThanksPage(language: PageLanguage, shop: string, already: boolean): string {
  const name = escapeHtml(shop);
  if (language === 'pt') {
    const note = already
      ? 'Sua resposta a esta pesquisa já estava registrada, e vale a primeira. Quer contar mais? Responda o e-mail.'
      : 'Sua resposta foi registrada. Quer contar o porquê? É só responder o e-mail: a gente lê tudo.';
    return page('pt', 'Obrigado!', `<h1>Obrigado!</h1><p>${note}</p><p>Equipe ${name}</p>`);
  }
  const note = already
    ? 'Your answer to this survey was already recorded, and the first one counts. Want to tell us more? Reply to the email.'
    : 'Your answer has been recorded. Want to tell us why? Just reply to the email: we read every answer.';
  return page('en', 'Thank you!', `<h1>Thank you!</h1><p>${note}</p><p>The ${name} team</p>`);
}

const ERRORS: Readonly<Record<number, { readonly pt: string; readonly en: string }>> = {
  400: {
    pt: 'Este link de pesquisa não traz uma nota válida. Clique em uma das notas do e-mail.',
    en: 'This survey link does not carry a valid score. Click one of the scores in the email.',
  },
  404: {
    pt: 'Este link não é válido ou não está mais disponível.',
    en: 'This link is not valid or is no longer available.',
  },
  429: {
    pt: 'Muitas solicitações seguidas. Tente de novo em instantes.',
    en: 'Too many requests in a row. Please try again in a moment.',
  },
};

/** An error for a person in a browser: we may not know their language, so both. */
export function errorPage(status: number): string {
  const text = ERRORS[status] ?? {
    pt: 'Algo deu errado. Tente de novo mais tarde.',
    en: 'Something went wrong. Please try again later.',
  };
  return page(
    'pt',
    status === 404 ? 'Link inválido · Invalid link' : 'Erro · Error',
    `<p>${escapeHtml(text.pt)}</p><p lang="en">${escapeHtml(text.en)}</p>`,
  );
}
