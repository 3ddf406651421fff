/**
 * The variables a template sees. The dispatcher builds this for a real touchpoint (with
 * signed links); preview builds it from the request with clearly marked preview links.
 * Field names are snake_case, as in the API.
 */
export interface RenderContext {
  readonly customer: {
    readonly id: string;
    readonly name: string | null;
    /** The first word of the name, or "" when there is no name. */
    readonly first_name: string;
    readonly email: string | null;
    readonly phone: string | null;
    readonly segment: string | null;
    readonly locale: string | null;
    readonly timezone: string | null;
    readonly attributes: Readonly<Record<string, unknown>>;
    /** Derived facts when known: orders_count, revenue_total, last_purchase_at, nps… */
    readonly [fact: string]: unknown;
  };
  readonly event: {
    readonly type: string;
    readonly occurred_at: string;
    readonly properties: Readonly<Record<string, unknown>>;
  } | null;
  readonly workspace: {
    readonly name: string;
    readonly currency: string;
    readonly locale: string;
    readonly timezone: string;
    /**
     * The shop's own pages the seed library links to when set: help, reports_tutorial, plans,
     * premium_demo, schedule. Not signed; the `track` filter wraps them for click tracking.
     */
    readonly links: Readonly<Record<string, string>>;
  };
  readonly usage: {
    readonly metric: string;
    readonly value: number;
    readonly limit: number;
    /** value / limit on a 0–100 scale, rounded to one decimal. */
    readonly percent: number;
  } | null;
  readonly links: {
    readonly unsubscribe: string;
    /** One answer link per score, keyed "0" to "10": NPS uses 0–10, CES 1–7, CSAT 1–5. */
    readonly survey: Readonly<Record<string, string>>;
  };
  readonly touchpoint: { readonly id: string; readonly due_at: string } | null;
}

export interface CustomerInput {
  readonly id: string;
  readonly name?: string | null;
  readonly email?: string | null;
  readonly phone?: string | null;
  readonly segment?: string | null;
  readonly locale?: string | null;
  readonly timezone?: string | null;
  readonly attributes?: Readonly<Record<string, unknown>>;
  readonly facts?: Readonly<Record<string, unknown>>;
}

export interface ContextInput {
  readonly customer: CustomerInput;
  readonly event?: {
    readonly type: string;
    readonly occurred_at: string;
    readonly properties?: Readonly<Record<string, unknown>>;
  } | null;
  readonly workspace: RenderContext['workspace'];
  readonly usage?: { readonly metric: string; readonly value: number; readonly limit: number } | null;
  readonly links: RenderContext['links'];
  readonly touchpoint?: RenderContext['touchpoint'];
}

/** The first word of a person's name: "ana souza" → "Ana", "  " → "". */
export function firstName(name: string | null | undefined): string {
  const word = (name ?? '').trim().split(/\s+/)[0] ?? '';
  if (word === '') return '';
  // Only fix an all-lower or all-upper name; "McDonald" or "d'Ávila" stay as written.
  if (word === word.toLowerCase() || word === word.toUpperCase()) {
    return word.charAt(0).toLocaleUpperCase('pt-BR') + word.slice(1).toLocaleLowerCase('pt-BR');
  }
  return word;
}

/** Usage as a 0–100 percentage with one decimal; null when there is no positive limit. */
export function usagePercent(value: number, limit: number): number | null {
  if (!(limit > 0) || !Number.isFinite(value)) return null;
  return Math.round((value / limit) * 1000) / 10;
}

/** Builds the render context from its parts, deriving first_name and usage.percent. */
export function buildRenderContext(input: ContextInput): RenderContext {
  const c = input.customer;
  const percent = input.usage ? usagePercent(input.usage.value, input.usage.limit) : null;
  return {
    customer: {
      ...c.facts,
      id: c.id,
      name: c.name ?? null,
      first_name: firstName(c.name),
      email: c.email ?? null,
      phone: c.phone ?? null,
      segment: c.segment ?? null,
      locale: c.locale ?? null,
      timezone: c.timezone ?? null,
      attributes: c.attributes ?? {},
    },
    event: input.event
      ? {
          type: input.event.type,
          occurred_at: input.event.occurred_at,
          properties: input.event.properties ?? {},
        }
      : null,
    workspace: input.workspace,
    usage: input.usage && percent !== null ? { ...input.usage, percent } : null,
    links: input.links,
    touchpoint: input.touchpoint ?? null,
  };
}

/** Links for previews: under PUBLIC_URL, marked as previews; the Dispatch issue signs real ones. */
export function previewLinks(publicUrl: string): RenderContext['links'] {
  const survey: Record<string, string> = {};
  for (let score = 0; score <= 10; score++) survey[String(score)] = `${publicUrl}/s/preview?score=${score}`;
  return { unsubscribe: `${publicUrl}/u/preview`, survey };
}

/** Click tracking for previews: the URL is shown wrapped, so the author sees where tracking goes. */
export function previewTrackUrl(publicUrl: string): (url: string) => string {
  return (url) => `${publicUrl}/t/c/preview?url=${encodeURIComponent(url)}`;
}
