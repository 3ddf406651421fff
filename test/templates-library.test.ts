import { describe, expect, it } from 'vitest';
import { checkLiquid, type RenderedContent, renderVariant } from '../src/modules/templates/render.js';
import { buildRenderContext, previewLinks } from '../src/modules/templates/render-context.js';
import { TEMPLATE_LIBRARY } from '../src/modules/templates/seed/index.js';
import { checkDocumentShape } from '../src/modules/templates/template-document.js';

const options = {
  now: new Date('2026-11-23T12:00:00Z'),
  trackUrl: (url: string) => `https://t.example/c?u=${url}`,
};
const shopLinks = {
  help: 'https://loja.example/ajuda',
  reports_tutorial: 'https://loja.example/tutoriais/relatorios',
  plans: 'https://loja.example/planos',
  premium_demo: 'https://loja.example/premium/video',
  schedule: 'https://loja.example/agenda',
};

const sampleCustomers = {
  'pt-BR': {
    id: 'c-42',
    name: 'Ana Souza',
    email: 'ana@example.com',
    locale: 'pt-BR',
    timezone: 'America/Sao_Paulo',
  },
  en: {
    id: 'c-43',
    name: 'John Smith',
    email: 'john@example.com',
    locale: 'en-US',
    timezone: 'America/New_York',
  },
} as const;

function contextFor(locale: keyof typeof sampleCustomers, withShopLinks: boolean, withData: boolean) {
  return buildRenderContext({
    customer: { ...sampleCustomers[locale], segment: 'smb', attributes: withData ? { plan: 'Básico' } : {} },
    event: withData
      ? {
          type: 'delivery',
          occurred_at: '2026-11-20T13:00:00Z',
          properties: {
            order_id: '981',
            amount: 3500,
            currency: 'BRL',
            days: 15,
            ticket_id: 'T-7',
            score: 4,
          },
        }
      : null,
    workspace: {
      name: 'Loja da Ana',
      currency: 'BRL',
      locale: 'pt-BR',
      timezone: 'America/Sao_Paulo',
      links: withShopLinks ? shopLinks : {},
    },
    usage: withData ? { metric: 'orders', value: 820, limit: 1000 } : null,
    links: previewLinks('https://pv.example'),
  });
}

function strings(content: RenderedContent): string[] {
  if (content.channel === 'email') return [content.subject, content.html ?? '', content.text];
  if (content.channel === 'task') {
    const s = content.script;
    return [
      s.title ?? '',
      s.opening,
      ...s.diagnosis,
      s.value_proposal,
      s.call_to_action,
      ...s.objections.flatMap((o) => [o.objection, o.answer]),
      s.escalation,
    ];
  }
  return [JSON.stringify(content.payload)];
}

const localeOf = (locale: string): keyof typeof sampleCustomers => (locale.startsWith('en') ? 'en' : 'pt-BR');

describe('seed library', () => {
  it('covers the calendar of the issue, pt-BR first with English versions', () => {
    const keys = TEMPLATE_LIBRARY.map((t) => t.key);
    for (const key of [
      'welcome',
      'checkin-call',
      'usage-tips',
      'nps-survey',
      'upgrade-offer',
      'reengagement',
      'reengagement-call',
      'escalation-call',
      'ces-survey',
      'csat-survey',
      'crm-sync',
    ]) {
      expect(keys).toContain(key);
      const head = TEMPLATE_LIBRARY.find((t) => t.key === key)!;
      expect(head.locale).toBe('pt-BR');
      if (head.channel !== 'webhook') {
        expect(
          TEMPLATE_LIBRARY.some((t) => t.family === key && t.locale === 'en'),
          `${key} in English`,
        ).toBe(true);
      }
    }
    for (const key of ['welcome', 'checkin-call', 'escalation-call']) {
      const tones = TEMPLATE_LIBRARY.filter(
        (t) => (t.key === key || t.family === key) && t.locale === 'pt-BR',
      );
      expect(tones.map((t) => t.tone).sort()).toEqual(['formal', 'informal']);
    }
    // Family heads come first, so installing in order never names a missing family.
    TEMPLATE_LIBRARY.forEach((t, i) => {
      if (t.family)
        expect(TEMPLATE_LIBRARY.slice(0, i).some((h) => h.key === t.family && !h.family)).toBe(true);
    });
  });

  it('every template is a valid document whose Liquid parses', () => {
    for (const { key: _key, ...doc } of TEMPLATE_LIBRARY) {
      expect(checkDocumentShape(doc), _key).toEqual([]);
      expect(checkLiquid(doc), _key).toEqual([]);
    }
  });

  for (const template of TEMPLATE_LIBRARY) {
    it(`${template.key} renders every variant for a sample customer, with and without data and shop links`, async () => {
      const locale = localeOf(template.locale);
      for (const variant of template.variants) {
        for (const [withLinks, withData] of [
          [true, true],
          [false, false],
        ] as const) {
          const out = await renderVariant(
            template,
            variant,
            contextFor(locale, withLinks, withData),
            options,
          );
          for (const text of strings(out)) {
            expect(text, `${template.key}/${variant.key}`).not.toMatch(/\{\{|\{%|%\}|\}\}/);
            expect(text).not.toMatch(/\bundefined\b|\[object Object\]/);
            expect(text).not.toMatch(/<p>\s*<\/p>/);
          }
          if (out.channel === 'email') {
            expect(out.subject.length).toBeGreaterThan(5);
            expect(out.text.length).toBeGreaterThan(40);
            expect(out.html).toContain('href="https://pv.example/u/preview"');
          }
        }
      }
    });
  }

  it('the usage-tips email carries the seed 80 % message and the tutorial link', async () => {
    const tips = TEMPLATE_LIBRARY.find((t) => t.key === 'usage-tips')!;
    const ctx = contextFor('pt-BR', true, false);
    const out = (await renderVariant(tips, tips.variants[0]!, ctx, options)) as Extract<
      RenderedContent,
      { channel: 'email' }
    >;
    expect(out.html).toContain(
      'Veja que você tem usado 80% das funcionalidades básicas. <strong>Já explorou o módulo avançado de relatórios?</strong>',
    );
    expect(out.html).toContain('href="https://t.example/c?u=https://loja.example/tutoriais/relatorios"');
  });

  it('the NPS email links every score from 0 to 10; CES 1–7; CSAT 1–5', async () => {
    const scores = async (key: string) => {
      const t = TEMPLATE_LIBRARY.find((d) => d.key === key)!;
      const out = (await renderVariant(
        t,
        t.variants[0]!,
        contextFor('pt-BR', false, true),
        options,
      )) as Extract<RenderedContent, { channel: 'email' }>;
      return [...(out.html ?? '').matchAll(/score=(\d+)"/g)].map((m) => Number(m[1]));
    };
    expect(await scores('nps-survey')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await scores('ces-survey')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await scores('csat-survey')).toEqual([1, 2, 3, 4, 5]);
  });

  it('the crm-sync payload keeps numbers as numbers and formats money', async () => {
    const crm = TEMPLATE_LIBRARY.find((t) => t.key === 'crm-sync')!;
    const out = await renderVariant(crm, crm.variants[0]!, contextFor('pt-BR', false, true), options);
    expect(out).toMatchObject({
      channel: 'webhook',
      payload: {
        customer: { external_id: 'c-42', name: 'Ana Souza' },
        event: { type: 'delivery', amount: 3500, amount_label: 'R$ 3.500,00', order_id: '981' },
      },
    });
  });
});
