// Snippets shared by the seed library's templates. They are Liquid, written out in full in
// each stored template, so a shop that edits one template never changes another.

/** "Oi, Ana!" — or "Oi!" when the customer has no name on file. */
export const hello = (word: string, end = '!') =>
  `${word}{% if customer.first_name != blank %}, {{ customer.first_name }}{% endif %}${end}`;

/** "Olá, Ana Souza," — the full name, for formal messages. */
export const helloFormal = (word: string) =>
  `${word}{% if customer.name != blank %}, {{ customer.name }}{% endif %},`;

const footerStyle = 'font-size:12px;color:#777777;margin-top:24px';

const UNSUBSCRIBE = {
  pt: 'Não quer mais receber estes e-mails? <a href="{{ links.unsubscribe }}">Cancelar inscrição</a>.',
  en: 'Rather not get these emails? <a href="{{ links.unsubscribe }}">Unsubscribe</a>.',
} as const;

/** Markup that email() places as it is, without wrapping it in a paragraph. */
export interface Block {
  readonly block: string;
}

/** The email frame: paragraphs (wrapped in <p> unless markup or a Block), signature, unsubscribe line. */
export function email(
  language: 'pt' | 'en',
  paragraphs: readonly (string | Block)[],
  signature: string,
): string {
  const body = paragraphs
    .map((p) => (typeof p !== 'string' ? p.block : p.startsWith('<') ? p : `<p>${p}</p>`))
    .join('\n');
  return (
    '<div style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#222222">\n' +
    `${body}\n<p>${signature}</p>\n<p style="${footerStyle}">${UNSUBSCRIBE[language]}</p>\n</div>`
  );
}

/** A paragraph holding only a link to one of the shop's pages; nothing at all when the shop has not set it. */
export const linkParagraph = (name: string, label: string): Block => ({
  block:
    `{% if workspace.links.${name} != blank %}<p><a href="{{ workspace.links.${name} | track }}">${label}</a></p>` +
    '{% endif %}',
});

/** A link to one of the shop's own pages (workspace.links), tracked, only when the shop set it. */
export const shopLink = (name: string, label: string, otherwise = '') =>
  `{% if workspace.links.${name} != blank %}<a href="{{ workspace.links.${name} | track }}">${label}</a>` +
  `{% else %}${otherwise}{% endif %}`;

/** A row of answer buttons, one per score, pointing at the signed survey links. */
export const scoreButtons = (from: number, to: number) =>
  '<p>' +
  `{% for score in (${from}..${to}) %}<a href="{{ links.survey[score] }}" ` +
  'style="display:inline-block;min-width:28px;padding:8px 4px;margin:2px;border:1px solid #cccccc;' +
  'border-radius:4px;text-align:center;text-decoration:none;color:#222222">{{ score }}</a>{% endfor %}' +
  '</p>';
