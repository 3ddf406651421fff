import { TONES, type Tone } from './template-document.js';

/** What resolution needs to know about a live template. */
export interface TemplateCandidate {
  readonly key: string;
  readonly locale: string;
  readonly tone: Tone;
  readonly family: string | null;
}

export interface ResolveWanted {
  /** The customer's locale, when known. */
  readonly locale?: string | null;
  /** The customer's preferred tone, when known (see preferredTone). */
  readonly tone?: Tone | null;
  readonly workspaceLocale: string;
}

/** The locale every workspace can fall back to: the seed library is written in it. */
export const LIBRARY_LOCALE = 'pt-BR';

const lower = (tag: string) => tag.toLowerCase();
const language = (tag: string) => lower(tag).split('-')[0];

/**
 * The concrete template to render when a playbook step names `key`: among `key` and the
 * templates whose `family` is `key`, the one in the customer's locale (exact tag, then same
 * language), else the workspace's locale, else pt-BR; within a locale the customer's tone,
 * else `key` itself. Undefined when `key` is not a live template. Pure.
 */
export function resolveTemplate<C extends TemplateCandidate>(
  key: string,
  candidates: readonly C[],
  wanted: ResolveWanted,
): C | undefined {
  const base = candidates.find((c) => c.key === key);
  if (!base) return undefined;
  const group = candidates
    .filter((c) => c.key === key || c.family === key)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const locales = [wanted.locale, wanted.workspaceLocale, LIBRARY_LOCALE].filter(
    (l): l is string => typeof l === 'string' && l !== '',
  );
  for (const locale of locales) {
    const exact = group.filter((c) => lower(c.locale) === lower(locale));
    const pool = exact.length > 0 ? exact : group.filter((c) => language(c.locale) === language(locale));
    if (pool.length === 0) continue;
    const toned = wanted.tone ? pool.filter((c) => c.tone === wanted.tone) : [];
    const choices = toned.length > 0 ? toned : pool;
    return choices.find((c) => c.key === key) ?? choices[0];
  }
  return base;
}

/**
 * The tone a customer should be addressed in, per the seed's checklist ("match the
 * customer's profile"): `attributes.tone` when the shop set it, else formal for the
 * `enterprise` segment, else none (the template's own tone).
 */
export function preferredTone(customer: {
  readonly segment?: string | null;
  readonly attributes?: Readonly<Record<string, unknown>>;
}): Tone | undefined {
  const given = customer.attributes?.tone;
  if (typeof given === 'string' && (TONES as readonly string[]).includes(given)) return given as Tone;
  if (customer.segment === 'enterprise') return 'formal';
  return undefined;
}
