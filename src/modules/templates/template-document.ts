import type { FieldError } from '../../errors.js';

export const TEMPLATE_CHANNELS = ['email', 'task', 'webhook'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

export const TONES = ['formal', 'informal'] as const;
export type Tone = (typeof TONES)[number];

export const TASK_KINDS = ['call', 'meeting', 'whatsapp'] as const;

export const TEMPLATE_KEY_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';

/** An objection a customer may raise on a call, with the answer the script suggests. */
export interface Objection {
  readonly objection: string;
  readonly answer: string;
}

/** A call/meeting/WhatsApp script in the seed article's structure. Every string is Liquid. */
export interface CallScript {
  readonly kind?: (typeof TASK_KINDS)[number];
  readonly title?: string;
  readonly opening: string;
  readonly diagnosis: readonly string[];
  readonly value_proposal: string;
  readonly call_to_action: string;
  readonly objections: readonly Objection[];
  readonly escalation: string;
}

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [k: string]: JsonValue };

/** One A/B variant. Which fields it carries depends on the template's channel. */
export interface TemplateVariant {
  readonly key: string;
  readonly weight: number;
  readonly subject?: string;
  readonly html?: string;
  readonly text?: string;
  readonly script?: CallScript;
  readonly payload?: { readonly [k: string]: JsonValue };
}

/** The template document of API.md, as stored in a version (the key lives on the template). */
export interface TemplateBody {
  readonly channel: TemplateChannel;
  readonly locale: string;
  readonly tone: Tone;
  readonly name?: string;
  readonly description?: string;
  /** The key of the template this one translates or re-tones (see resolveTemplate). */
  readonly family?: string;
  readonly variants: readonly TemplateVariant[];
}

export interface TemplateDocument extends TemplateBody {
  readonly key: string;
}

/** One Liquid source inside a document, with the JSON Pointer (under /body) that names it. */
export interface LiquidSource {
  readonly path: string;
  readonly source: string;
  /** html sources are rendered with HTML escaping; everything else is plain text. */
  readonly mode: 'html' | 'text';
}

function payloadSources(value: JsonValue, path: string, out: LiquidSource[]): void {
  if (typeof value === 'string') out.push({ path, source: value, mode: 'text' });
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) payloadSources(item, `${path}/${i}`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) {
      payloadSources(item as JsonValue, `${path}/${name.replaceAll('~', '~0').replaceAll('/', '~1')}`, out);
    }
  }
}

/** Every Liquid string of one variant, with its path, in document order. */
export function variantSources(variant: TemplateVariant, base: string): LiquidSource[] {
  const out: LiquidSource[] = [];
  if (variant.subject !== undefined)
    out.push({ path: `${base}/subject`, source: variant.subject, mode: 'text' });
  if (variant.html !== undefined) out.push({ path: `${base}/html`, source: variant.html, mode: 'html' });
  if (variant.text !== undefined) out.push({ path: `${base}/text`, source: variant.text, mode: 'text' });
  const script = variant.script;
  if (script) {
    const s = `${base}/script`;
    const text = (path: string, source: string): void => {
      out.push({ path, source, mode: 'text' });
    };
    if (script.title !== undefined) text(`${s}/title`, script.title);
    text(`${s}/opening`, script.opening);
    for (const [i, q] of script.diagnosis.entries()) text(`${s}/diagnosis/${i}`, q);
    text(`${s}/value_proposal`, script.value_proposal);
    text(`${s}/call_to_action`, script.call_to_action);
    for (const [i, o] of script.objections.entries()) {
      text(`${s}/objections/${i}/objection`, o.objection);
      text(`${s}/objections/${i}/answer`, o.answer);
    }
    text(`${s}/escalation`, script.escalation);
  }
  if (variant.payload !== undefined) payloadSources(variant.payload, `${base}/payload`, out);
  return out;
}

const CHANNEL_FIELDS: Readonly<Record<TemplateChannel, readonly (keyof TemplateVariant)[]>> = {
  email: ['subject', 'html', 'text'],
  task: ['script'],
  webhook: ['payload'],
};
const CONTENT_FIELDS = ['subject', 'html', 'text', 'script', 'payload'] as const;

/**
 * What the JSON schema cannot say: the fields each channel needs, unique variant keys, a
 * positive total weight and a real locale. Paths are JSON Pointers under `/body`.
 */
export function checkDocumentShape(doc: TemplateBody): FieldError[] {
  const errors: FieldError[] = [];
  try {
    Intl.getCanonicalLocales(doc.locale);
  } catch {
    errors.push({ path: '/body/locale', message: `not a BCP 47 locale tag: "${doc.locale}"` });
  }
  const allowed = CHANNEL_FIELDS[doc.channel];
  const seen = new Set<string>();
  doc.variants.forEach((variant, i) => {
    const base = `/body/variants/${i}`;
    if (seen.has(variant.key)) {
      errors.push({ path: `${base}/key`, message: `duplicate variant key "${variant.key}"` });
    }
    seen.add(variant.key);
    for (const field of CONTENT_FIELDS) {
      if (variant[field] !== undefined && !allowed.includes(field)) {
        errors.push({
          path: `${base}/${field}`,
          message: `not used by ${doc.channel} templates (they carry ${allowed.join(', ')})`,
        });
      }
    }
    if (doc.channel === 'email') {
      if (variant.subject === undefined) errors.push({ path: `${base}/subject`, message: 'is required' });
      if (variant.html === undefined && variant.text === undefined) {
        errors.push({ path: `${base}/html`, message: 'an email variant needs html, text or both' });
      }
    }
    if (doc.channel === 'task' && variant.script === undefined) {
      errors.push({ path: `${base}/script`, message: 'is required' });
    }
    if (doc.channel === 'webhook' && variant.payload === undefined) {
      errors.push({ path: `${base}/payload`, message: 'is required' });
    }
  });
  if (doc.variants.reduce((sum, v) => sum + v.weight, 0) <= 0) {
    errors.push({ path: '/body/variants', message: 'at least one variant needs a weight above 0' });
  }
  return errors;
}
