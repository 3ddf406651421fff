import { convert as htmlToText } from 'html-to-text';
import { Liquid, type LiquidOptions, type Template } from 'liquidjs';
import { type FieldError, unprocessable } from '../../errors.js';
import { displayLocale, displayZone, FILTER_ENV, type FilterEnv, POSVENDA_FILTERS } from './filters.js';
import type { RenderContext } from './render-context.js';
import {
  type CallScript,
  type JsonValue,
  type LiquidSource,
  type TemplateBody,
  type TemplateVariant,
  variantSources,
} from './template-document.js';

// Guards so that a hostile template cannot hang or exhaust a worker: LiquidJS stops a
// parse past PARSE_LIMIT characters, a render past RENDER_LIMIT_MS, and a render that
// allocates more than MEMORY_LIMIT (string and array lengths) — e.g. a loop over 1..1e9.
const PARSE_LIMIT = 200_000;
const RENDER_LIMIT_MS = 2_000;
const MEMORY_LIMIT = 20_000_000;

// include/render/layout read other templates; templates here are self-contained.
const FORBIDDEN_TAGS = ['include', 'render', 'layout'] as const;

function engine(extra: LiquidOptions): Liquid {
  const liquid = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    templates: {},
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
    ...extra,
  });
  for (const [name, filter] of Object.entries(POSVENDA_FILTERS)) liquid.registerFilter(name, filter);
  for (const tag of FORBIDDEN_TAGS) delete liquid.tags[tag];
  return liquid;
}

// HTML is escaped on output: customer data cannot inject markup; `| raw` opts out.
const htmlEngine = engine({ outputEscape: 'escape' });
// Subjects, text parts and scripts are plain text: nothing is escaped, nothing is executed.
const textEngine = engine({});
// Webhook strings that are a single `{{ … }}` keep their JSON type (a number stays a number).
const payloadEngine = engine({ keepOutputType: true });

const engineFor = (mode: LiquidSource['mode']) => (mode === 'html' ? htmlEngine : textEngine);

/** "undefined filter: nope, line:2, col:3" → "line 2, col 3: undefined filter: nope". */
function describeLiquidError(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const match = /^(.*?),? line:(\d+), col:(\d+)\s*$/s.exec(raw.split('\n')[0] ?? raw);
  if (!match) return raw.split('\n')[0] ?? raw;
  return `line ${match[2]}, col ${match[3]}: ${match[1]}`;
}

function parse(source: LiquidSource): Template[] {
  return engineFor(source.mode).parse(source.source);
}

/** Parses every Liquid string of the document; returns one error per string that does not parse. */
export function checkLiquid(doc: TemplateBody): FieldError[] {
  const errors: FieldError[] = [];
  doc.variants.forEach((variant, i) => {
    for (const source of variantSources(variant, `/body/variants/${i}`)) {
      try {
        parse(source);
      } catch (error) {
        errors.push({ path: source.path, message: describeLiquidError(error) });
      }
    }
  });
  return errors;
}

export interface RenderOptions {
  readonly now: Date;
  /** Wraps a URL for click tracking (the `track` filter). */
  readonly trackUrl: (url: string) => string;
}

export type RenderedContent =
  | {
      readonly channel: 'email';
      readonly subject: string;
      readonly html: string | null;
      readonly text: string;
    }
  | { readonly channel: 'task'; readonly script: CallScript }
  | { readonly channel: 'webhook'; readonly payload: { readonly [k: string]: JsonValue } };

interface Renderer {
  text(path: string, source: string): Promise<string>;
  html(path: string, source: string): Promise<string>;
  value(path: string, source: string): Promise<JsonValue>;
}

function renderer(context: RenderContext, env: FilterEnv): Renderer {
  const globals = { [FILTER_ENV]: env };
  const run = async (liquid: Liquid, path: string, source: string): Promise<unknown> => {
    try {
      return await liquid.render(liquid.parse(source), context, { globals });
    } catch (error) {
      throw unprocessable(`The template could not be rendered at ${path}: ${describeLiquidError(error)}`, [
        { path, message: describeLiquidError(error) },
      ]);
    }
  };
  return {
    text: async (path, source) => String(await run(textEngine, path, source)),
    html: async (path, source) => String(await run(htmlEngine, path, source)),
    value: async (path, source) => {
      const out = await run(payloadEngine, path, source);
      if (out === undefined || out === null) return null;
      if (typeof out === 'string' || typeof out === 'number' || typeof out === 'boolean') return out;
      // Objects and arrays (e.g. "{{ customer.attributes }}") go out as JSON, dates as ISO strings.
      return JSON.parse(JSON.stringify(out)) as JsonValue;
    },
  };
}

async function renderPayload(r: Renderer, value: JsonValue, path: string): Promise<JsonValue> {
  if (typeof value === 'string') return r.value(path, value);
  if (Array.isArray(value))
    return Promise.all(value.map((item, i) => renderPayload(r, item, `${path}/${i}`)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [name, item] of Object.entries(value))
      out[name] = await renderPayload(r, item, `${path}/${name}`);
    return out;
  }
  return value;
}

/** The plain-text part of an email whose author wrote only HTML. */
export function textFromHtml(html: string): string {
  return htmlToText(html, {
    wordwrap: 78,
    selectors: [
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'img', format: 'skip' },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
    ],
  });
}

/**
 * Renders one variant of a template for a context. Pure: no I/O, time from `options.now`.
 * Throws a 422 AppError naming the field when a render fails (e.g. a guard trips).
 */
export async function renderVariant(
  doc: TemplateBody,
  variant: TemplateVariant,
  context: RenderContext,
  options: RenderOptions,
): Promise<RenderedContent> {
  const env: FilterEnv = {
    locale: displayLocale(context.customer.locale, doc.locale),
    timezone: displayZone(context.customer.timezone, context.workspace.timezone),
    currency: context.workspace.currency,
    now: options.now,
    trackUrl: options.trackUrl,
  };
  const r = renderer(context, env);
  const base = `/variants/${variant.key}`;
  if (doc.channel === 'email') {
    // A subject is one header line: newlines from data would otherwise split it.
    const subject = (await r.text(`${base}/subject`, variant.subject ?? '')).replace(/\s+/g, ' ').trim();
    const html = variant.html === undefined ? null : await r.html(`${base}/html`, variant.html);
    const text =
      variant.text !== undefined ? await r.text(`${base}/text`, variant.text) : textFromHtml(html ?? '');
    return { channel: 'email', subject, html, text };
  }
  if (doc.channel === 'task') {
    const s = variant.script;
    if (!s) throw unprocessable(`Variant ${variant.key} has no script`);
    const p = `${base}/script`;
    const script: CallScript = {
      ...(s.kind ? { kind: s.kind } : {}),
      ...(s.title !== undefined ? { title: await r.text(`${p}/title`, s.title) } : {}),
      opening: await r.text(`${p}/opening`, s.opening),
      diagnosis: await Promise.all(s.diagnosis.map((q, i) => r.text(`${p}/diagnosis/${i}`, q))),
      value_proposal: await r.text(`${p}/value_proposal`, s.value_proposal),
      call_to_action: await r.text(`${p}/call_to_action`, s.call_to_action),
      objections: await Promise.all(
        s.objections.map(async (o, i) => ({
          objection: await r.text(`${p}/objections/${i}/objection`, o.objection),
          answer: await r.text(`${p}/objections/${i}/answer`, o.answer),
        })),
      ),
      escalation: await r.text(`${p}/escalation`, s.escalation),
    };
    return { channel: 'task', script };
  }
  const payload = await renderPayload(r, variant.payload ?? {}, `${base}/payload`);
  return { channel: 'webhook', payload: payload as { readonly [k: string]: JsonValue } };
}
