import { describe, expect, it } from 'vitest';
import { checkLiquid, type RenderedContent, renderVariant } from '../src/modules/templates/render.js';
import {
  buildRenderContext,
  type ContextInput,
  firstName,
  previewLinks,
} from '../src/modules/templates/render-context.js';
import type { TemplateBody, TemplateVariant } from '../src/modules/templates/template-document.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const options = { now: NOW, trackUrl: (url: string) => `https://t.example/c?u=${encodeURIComponent(url)}` };

function context(overrides: Partial<ContextInput> = {}) {
  return buildRenderContext({
    customer: { id: 'c-42', name: 'Ana Souza', locale: 'pt-BR', timezone: 'America/Sao_Paulo' },
    event: { type: 'delivery', occurred_at: '2026-11-20T13:00:00Z', properties: { amount: 3500 } },
    workspace: {
      name: 'Loja da Ana',
      currency: 'BRL',
      locale: 'pt-BR',
      timezone: 'America/Sao_Paulo',
      links: {},
    },
    usage: { metric: 'seats', value: 8, limit: 10 },
    links: previewLinks('https://pv.example'),
    ...overrides,
  });
}

const emailDoc = (variant: Partial<TemplateVariant>, locale = 'pt-BR'): [TemplateBody, TemplateVariant] => {
  const v = { key: 'a', weight: 1, subject: 's', ...variant };
  return [{ channel: 'email', locale, tone: 'informal', variants: [v] }, v];
};

async function renderText(source: string, ctx = context(), locale = 'pt-BR'): Promise<string> {
  const [doc, variant] = emailDoc({ text: source }, locale);
  const out = (await renderVariant(doc, variant, ctx, options)) as Extract<
    RenderedContent,
    { channel: 'email' }
  >;
  return out.text;
}

describe('parsing at save time', () => {
  it('reports an unknown filter with the field path and line/column', () => {
    const [doc] = emailDoc({ html: '<p>Oi</p>\n<p>{{ customer.name | shout }}</p>' });
    expect(checkLiquid(doc)).toEqual([
      { path: '/body/variants/0/html', message: 'line 2, col 4: undefined filter: shout' },
    ]);
  });

  it('reports an unclosed tag and an unclosed output, one error per field', () => {
    const [doc] = emailDoc({ subject: 'Oi {{ customer.name', text: '{% if customer.name %}sem fim' });
    const errors = checkLiquid(doc);
    expect(errors.map((e) => e.path)).toEqual(['/body/variants/0/subject', '/body/variants/0/text']);
    expect(errors[0]?.message).toMatch(/^line 1, col 4: output "\{\{ customer.name" not closed/);
    expect(errors[1]?.message).toMatch(/^line 1, col 1: tag \{% if customer.name %\} not closed/);
  });

  it('names script and payload fields by their JSON Pointer', () => {
    const doc: TemplateBody = {
      channel: 'task',
      locale: 'pt-BR',
      tone: 'formal',
      variants: [
        {
          key: 'a',
          weight: 1,
          script: {
            opening: 'ok',
            diagnosis: ['ok', '{{ x | nope }}'],
            value_proposal: 'ok',
            call_to_action: 'ok',
            objections: [{ objection: 'ok', answer: '{% endif %}' }],
            escalation: 'ok',
          },
        },
      ],
    };
    expect(checkLiquid(doc).map((e) => e.path)).toEqual([
      '/body/variants/0/script/diagnosis/1',
      '/body/variants/0/script/objections/0/answer',
    ]);
  });

  it('rejects include/render/layout: templates cannot read files', () => {
    const [doc] = emailDoc({ text: "{% include '/etc/passwd' %}", html: "{% render 'x' %}" });
    expect(checkLiquid(doc).map((e) => e.message)).toEqual([
      'line 1, col 1: tag "render" not found',
      'line 1, col 1: tag "include" not found',
    ]);
  });

  it('accepts a valid template', () => {
    const [doc] = emailDoc({
      html: '{% if usage %}{{ usage.percent | percent }}{% endif %} {{ 1 | money }}',
    });
    expect(checkLiquid(doc)).toEqual([]);
  });
});

describe('escaping hostile customer data', () => {
  const hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & "Ana"';
  const ctx = () => context({ customer: { id: 'c-1', name: hostile, attributes: { note: '<b>oi</b>' } } });

  it('HTML output escapes customer data, so no markup is injected', async () => {
    const [doc, v] = emailDoc({ html: '<p>{{ customer.name }} {{ customer.attributes.note }}</p>' });
    const out = (await renderVariant(doc, v, ctx(), options)) as Extract<
      RenderedContent,
      { channel: 'email' }
    >;
    expect(out.html).not.toContain('<script');
    expect(out.html).not.toContain('<img');
    expect(out.html).not.toContain('<b>');
    expect(out.html).toBe(
      '<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#34;Ana&#34; &lt;b&gt;oi&lt;/b&gt;</p>',
    );
  });

  it('the raw filter lets the author emit trusted markup', async () => {
    const [doc, v] = emailDoc({ html: '{{ "<b>ok</b>" | raw }}' });
    const out = (await renderVariant(doc, v, ctx(), options)) as Extract<
      RenderedContent,
      { channel: 'email' }
    >;
    expect(out.html).toBe('<b>ok</b>');
  });

  it('plain-text parts carry the text as written, and the subject stays on one line', async () => {
    const [doc, v] = emailDoc({
      subject: 'Oi {{ customer.attributes.evil }}',
      text: '{{ customer.attributes.note }}',
    });
    const evil = context({
      customer: { id: 'c', attributes: { evil: 'x\r\nBcc: all@example.com', note: '<b>oi</b>' } },
    });
    const out = (await renderVariant(doc, v, evil, options)) as Extract<
      RenderedContent,
      { channel: 'email' }
    >;
    expect(out.subject).toBe('Oi x Bcc: all@example.com');
    expect(out.text).toBe('<b>oi</b>');
  });

  it('a webhook payload carries hostile strings as JSON string values, never as structure', async () => {
    const doc: TemplateBody = {
      channel: 'webhook',
      locale: 'pt-BR',
      tone: 'formal',
      variants: [
        { key: 'a', weight: 1, payload: { name: '{{ customer.name }}', n: 'x {{ customer.name }}' } },
      ],
    };
    const out = await renderVariant(doc, doc.variants[0]!, ctx(), options);
    expect(out).toEqual({ channel: 'webhook', payload: { name: hostile, n: `x ${hostile}` } });
  });

  it('templates cannot reach prototypes or constructors', async () => {
    expect(
      await renderText('[{{ customer.constructor }}][{{ customer.__proto__ }}][{{ links.toString }}]'),
    ).toBe('[][][]');
  });
});

describe('filters', () => {
  it('money: workspace currency in the locale, with an ordinary space ("R$ 3.500,00")', async () => {
    const out = await renderText('{{ event.properties.amount | money }}');
    expect(out).toBe('R$ 3.500,00');
    expect(out.charCodeAt(2)).toBe(32);
    expect(await renderText('{{ 1234.5 | money: "USD" }}')).toBe('US$ 1.234,50');
    expect(await renderText('{{ "99.9" | money }}')).toBe('R$ 99,90');
    expect(await renderText('[{{ "abc" | money }}]')).toBe('[]');
    const en = context({ customer: { id: 'c', locale: 'en-US' } });
    expect(await renderText('{{ 3500 | money }}', en, 'en')).toBe('R$3,500.00');
  });

  it('number and percent', async () => {
    expect(await renderText('{{ 1234.5 | number: 2 }} {{ 1234567 | number }}')).toBe('1.234,50 1.234.567');
    expect(await renderText('{{ usage.percent | percent }} {{ 82.36 | percent: 1 }}')).toBe('80% 82,4%');
  });

  it('date, datetime and time in the customer time zone and locale', async () => {
    // 13:00Z is 10:00 in São Paulo and 09:00 in Manaus.
    expect(await renderText('{{ event.occurred_at | date }}')).toBe('20 de novembro de 2026');
    expect(await renderText('{{ event.occurred_at | date: "short" }}')).toBe('20/11/2026');
    expect(await renderText('{{ event.occurred_at | datetime }}')).toBe('20 de novembro de 2026 às 10:00');
    expect(await renderText('{{ event.occurred_at | time }}')).toBe('10:00');
    expect(await renderText('{{ event.occurred_at | date: "dd/MM HH:mm" }}')).toBe('20/11 10:00');
    const manaus = context({ customer: { id: 'c', locale: 'pt-BR', timezone: 'America/Manaus' } });
    expect(await renderText('{{ event.occurred_at | time }}', manaus)).toBe('09:00');
    const en = context({ customer: { id: 'c', locale: 'en-US', timezone: 'America/New_York' } });
    expect(await renderText('{{ event.occurred_at | date: "full" }}', en, 'en')).toBe(
      'Friday, November 20, 2026',
    );
    expect(await renderText('{{ "now" | date: "short" }}')).toBe('23/11/2026');
    expect(await renderText('[{{ "not a date" | date }}]')).toBe('[]');
  });

  it('falls back to the workspace time zone when the customer has none or an invalid one', async () => {
    const noZone = context({ customer: { id: 'c', timezone: 'Mars/Olympus' } });
    expect(await renderText('{{ event.occurred_at | time }}', noZone)).toBe('10:00');
  });

  it('first_name, and customer.first_name derived from the name', async () => {
    expect(await renderText('{{ "joão da silva" | first_name }}|{{ customer.first_name }}')).toBe('João|Ana');
    expect(firstName('  ')).toBe('');
    expect(firstName('McDonald Smith')).toBe('McDonald');
  });

  it('track wraps http(s) URLs with the click-tracking URL and leaves other text alone', async () => {
    expect(await renderText('{{ "https://loja.example/guia?a=1" | track }}')).toBe(
      'https://t.example/c?u=https%3A%2F%2Floja.example%2Fguia%3Fa%3D1',
    );
    expect(await renderText('{{ "mailto:a@b.c" | track }}')).toBe('mailto:a@b.c');
  });

  it('survey links are reachable per score', async () => {
    expect(await renderText('{% for s in (9..10) %}{{ links.survey[s] }} {% endfor %}')).toBe(
      'https://pv.example/s/preview?score=9 https://pv.example/s/preview?score=10 ',
    );
  });
});

describe('rendering', () => {
  it('derives the text part from the HTML when the email has none', async () => {
    const [doc, v] = emailDoc({
      subject: 'Oi',
      html: '<h1>Olá, {{ customer.first_name }}</h1><p>Veja o <a href="https://loja.example/guia">guia</a>.</p>',
    });
    const out = (await renderVariant(doc, v, context(), options)) as Extract<
      RenderedContent,
      { channel: 'email' }
    >;
    expect(out.text).toBe('Olá, Ana\n\nVeja o guia [https://loja.example/guia].');
  });

  it('webhook strings that are a single output keep their JSON type', async () => {
    const doc: TemplateBody = {
      channel: 'webhook',
      locale: 'pt-BR',
      tone: 'formal',
      variants: [
        {
          key: 'a',
          weight: 1,
          payload: {
            amount: '{{ event.properties.amount }}',
            nested: { list: ['{{ usage.percent }}', 'id {{ customer.id }}', 7, true, null] },
            missing: '{{ customer.nothing }}',
          },
        },
      ],
    };
    expect(await renderVariant(doc, doc.variants[0]!, context(), options)).toEqual({
      channel: 'webhook',
      payload: { amount: 3500, nested: { list: [80, 'id c-42', 7, true, null] }, missing: null },
    });
  });

  it('a runaway loop is stopped by the render guards with a 422 naming the field', async () => {
    const [doc, v] = emailDoc({ text: '{% for i in (1..100000000) %}xxxxxxxxxx{% endfor %}' });
    await expect(renderVariant(doc, v, context(), options)).rejects.toMatchObject({
      status: 422,
      errors: [{ path: '/variants/a/text' }],
    });
  });
});
