import { describe, expect, it } from 'vitest';
import { preferredTone, resolveTemplate, type TemplateCandidate } from '../src/modules/templates/resolve.js';
import { assignmentPoint, assignVariant } from '../src/modules/templates/variants.js';

const customers = (n: number) => Array.from({ length: n }, (_, i) => `customer-${i}`);

describe('variant assignment', () => {
  it('is sticky: the same customer gets the same variant every time', () => {
    const variants = [
      { key: 'a', weight: 1 },
      { key: 'b', weight: 1 },
      { key: 'c', weight: 2 },
    ];
    for (const id of customers(200)) {
      const first = assignVariant('upgrade-offer', id, variants)?.key;
      for (let i = 0; i < 3; i++) expect(assignVariant('upgrade-offer', id, variants)?.key).toBe(first);
    }
  });

  it('honours weights 1:3 over 20 000 customers (chi-squared, 1 degree of freedom, p > 0.001)', () => {
    const variants = [
      { key: 'a', weight: 1 },
      { key: 'b', weight: 3 },
    ];
    const n = 20_000;
    const counts = { a: 0, b: 0 };
    for (const id of customers(n)) counts[assignVariant('welcome', id, variants)!.key as 'a' | 'b']++;
    const expected = { a: n / 4, b: (3 * n) / 4 };
    const chi2 = (counts.a - expected.a) ** 2 / expected.a + (counts.b - expected.b) ** 2 / expected.b;
    expect(chi2).toBeLessThan(10.83);
    expect(counts.a / n).toBeGreaterThan(0.24);
    expect(counts.a / n).toBeLessThan(0.26);
  });

  it('spreads three variants evenly (chi-squared, 2 degrees of freedom, p > 0.001)', () => {
    const variants = ['x', 'y', 'z'].map((key) => ({ key, weight: 5 }));
    const n = 30_000;
    const counts = new Map<string, number>();
    for (const id of customers(n)) {
      const key = assignVariant('nps-survey', id, variants)!.key;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const chi2 = [...counts.values()].reduce((sum, c) => sum + (c - n / 3) ** 2 / (n / 3), 0);
    expect(counts.size).toBe(3);
    expect(chi2).toBeLessThan(13.82);
  });

  it('never picks a variant with weight 0, and gives none when no weight is positive', () => {
    const variants = [
      { key: 'paused', weight: 0 },
      { key: 'live', weight: 1 },
    ];
    for (const id of customers(500)) expect(assignVariant('t', id, variants)?.key).toBe('live');
    expect(assignVariant('t', 'c', [{ key: 'a', weight: 0 }])).toBeUndefined();
  });

  it('is independent between templates: the assignment point depends on the template key too', () => {
    const ids = customers(2_000);
    const same = ids.filter((id) => assignmentPoint('a', id) < 0.5 === assignmentPoint('b', id) < 0.5).length;
    // Independent halves agree about half the time.
    expect(same / ids.length).toBeGreaterThan(0.45);
    expect(same / ids.length).toBeLessThan(0.55);
    for (const id of ids.slice(0, 50)) {
      const p = assignmentPoint('a', id);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(1);
    }
  });
});

describe('template resolution by locale and tone', () => {
  const library: TemplateCandidate[] = [
    { key: 'welcome', locale: 'pt-BR', tone: 'informal', family: null },
    { key: 'welcome-formal', locale: 'pt-BR', tone: 'formal', family: 'welcome' },
    { key: 'welcome-en', locale: 'en', tone: 'informal', family: 'welcome' },
    { key: 'welcome-es', locale: 'es', tone: 'informal', family: 'welcome' },
    { key: 'other', locale: 'en', tone: 'formal', family: null },
  ];
  const resolve = (locale: string | null, tone: 'formal' | 'informal' | null, workspaceLocale = 'pt-BR') =>
    resolveTemplate('welcome', library, { locale, tone, workspaceLocale })?.key;

  it("picks the customer's locale, matching by language when the exact tag is missing", () => {
    expect(resolve('en', null)).toBe('welcome-en');
    expect(resolve('en-GB', null)).toBe('welcome-en');
    expect(resolve('es-AR', null)).toBe('welcome-es');
  });

  it("picks the customer's tone within the locale, else the named template", () => {
    expect(resolve('pt-BR', 'formal')).toBe('welcome-formal');
    expect(resolve('pt-BR', 'informal')).toBe('welcome');
    expect(resolve('pt-BR', null)).toBe('welcome');
    expect(resolve('en', 'formal')).toBe('welcome-en');
  });

  it('falls back to the workspace locale, then pt-BR', () => {
    expect(resolve('fr-FR', null, 'es')).toBe('welcome-es');
    expect(resolve('fr-FR', 'formal', 'de')).toBe('welcome-formal');
    expect(resolve(null, null, 'en-US')).toBe('welcome-en');
  });

  it('never leaves the family, and gives nothing when the named template is gone', () => {
    expect(resolveTemplate('other', library, { locale: 'pt-BR', workspaceLocale: 'pt-BR' })?.key).toBe(
      'other',
    );
    expect(
      resolveTemplate('missing', library, { locale: 'pt-BR', workspaceLocale: 'pt-BR' }),
    ).toBeUndefined();
  });

  it("takes the tone from the customer's attributes, else formal for enterprise accounts", () => {
    expect(preferredTone({ attributes: { tone: 'formal' } })).toBe('formal');
    expect(preferredTone({ segment: 'enterprise', attributes: { tone: 'informal' } })).toBe('informal');
    expect(preferredTone({ segment: 'enterprise' })).toBe('formal');
    expect(preferredTone({ segment: 'smb', attributes: { tone: 'loud' } })).toBeUndefined();
  });
});
