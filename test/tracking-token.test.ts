import { describe, expect, it } from 'vitest';
import { trackingLinks } from '../src/modules/tracking/tracking-links.js';
import {
  surveyThanksPage,
  unsubscribeConfirmPage,
  unsubscribedPage,
} from '../src/modules/tracking/tracking-pages.js';
import { signTrackingToken, verifyTrackingToken } from '../src/modules/tracking/tracking-token.js';

const key = Buffer.from('k'.repeat(40));
const claims = {
  kind: 'c' as const,
  workspaceId: '019a9a6e-1f00-7000-8000-000000000001',
  touchpointId: '019a9a6e-1f00-7000-8000-000000000002',
  url: 'https://loja.example/guia?x=1',
};

describe('tracking tokens', () => {
  it('verifies what it signed and returns the claims', () => {
    expect(verifyTrackingToken(key, signTrackingToken(key, claims), 'c')).toEqual(claims);
  });

  it('refuses a token of another kind, another key, an altered payload or signature', () => {
    const token = signTrackingToken(key, claims);
    expect(verifyTrackingToken(key, token, 'u')).toBeUndefined();
    expect(verifyTrackingToken(Buffer.from('x'.repeat(40)), token, 'c')).toBeUndefined();
    const [payload, mac] = token.split('.') as [string, string];
    const other = Buffer.from(
      JSON.stringify(['c', claims.workspaceId, claims.touchpointId, 'https://evil.example']),
    ).toString('base64url');
    expect(verifyTrackingToken(key, `${other}.${mac}`, 'c')).toBeUndefined();
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    expect(verifyTrackingToken(key, `${payload}.${flipped}`, 'c')).toBeUndefined();
    expect(verifyTrackingToken(key, 'garbage', 'c')).toBeUndefined();
    expect(verifyTrackingToken(key, `${payload}.`, 'c')).toBeUndefined();
  });

  it('builds signed links for a touchpoint under PUBLIC_URL', () => {
    const links = trackingLinks(key, 'https://pv.example/', claims);
    expect(links.unsubscribe).toMatch(/^https:\/\/pv\.example\/u\/[\w-]+\.[\w-]+$/);
    expect(links.context.unsubscribe).toBe(links.unsubscribe);
    expect(Object.keys(links.context.survey)).toHaveLength(11);
    const survey = new URL(links.context.survey['7']!);
    expect(survey.searchParams.get('score')).toBe('7');
    const token = survey.pathname.replace('/s/', '');
    expect(verifyTrackingToken(key, token, 's')?.touchpointId).toBe(claims.touchpointId);
    const click = new URL(links.trackUrl('https://loja.example/a'));
    expect(verifyTrackingToken(key, click.pathname.replace('/t/c/', ''), 'c')?.url).toBe(
      'https://loja.example/a',
    );
    expect(verifyTrackingToken(key, links.openPixel.split('/t/o/')[1]!, 'o')).toBeDefined();
  });
});

describe('tracking pages', () => {
  it('escape the shop name wherever it is shown', () => {
    const shop = `<script>alert("x")</script> & 'Loja'`;
    const pages = [
      unsubscribeConfirmPage('pt', shop),
      unsubscribeConfirmPage('en', shop),
      unsubscribedPage('pt', shop),
      unsubscribedPage('en', shop),
      surveyThanksPage('pt', shop, false),
      surveyThanksPage('en', shop, true),
    ];
    for (const html of pages) {
      expect(html).not.toContain('<script');
      expect(html).not.toContain(`"x"`);
      expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Loja&#39;');
    }
  });
});
