import { describe, expect, it } from 'vitest';
import { classifySmtpError, htmlFromText, withOpenPixel } from '../src/modules/dispatch/email-sender.js';
import { nextSendSlot, nextSlotWithinCap } from '../src/modules/dispatch/send-window.js';

const at = (iso: string) => new Date(iso);
const NOW = at('2026-11-20T15:00:00Z');

describe('nextSlotWithinCap (rolling windows)', () => {
  const cap = { per_day: 1, per_week: 3 };

  it('is now when nothing was sent, or no cap applies', () => {
    expect(nextSlotWithinCap(NOW, [], cap)).toEqual(NOW);
    expect(nextSlotWithinCap(NOW, [at('2026-11-20T14:00:00Z')], { per_day: null, per_week: null })).toEqual(
      NOW,
    );
  });

  it('1 a day: 24 h after the last send', () => {
    expect(nextSlotWithinCap(NOW, [at('2026-11-20T13:00:00Z')], cap)).toEqual(at('2026-11-21T13:00:00Z'));
    // A send more than 24 h ago does not hold it back.
    expect(nextSlotWithinCap(NOW, [at('2026-11-19T14:59:00Z')], cap)).toEqual(NOW);
  });

  it('3 a week: 7 days after the third newest send in the window', () => {
    const sends = [at('2026-11-14T16:00:00Z'), at('2026-11-16T10:00:00Z'), at('2026-11-18T10:00:00Z')];
    expect(nextSlotWithinCap(NOW, sends, cap)).toEqual(at('2026-11-21T16:00:00Z'));
  });

  it('the later of the two windows wins; a limit of 0 never allows', () => {
    const sends = [at('2026-11-20T14:00:00Z'), at('2026-11-15T10:00:00Z'), at('2026-11-14T16:00:00Z')];
    // Day: 21st 14:00; week: 21st 16:00.
    expect(nextSlotWithinCap(NOW, sends, cap)).toEqual(at('2026-11-21T16:00:00Z'));
    expect(nextSlotWithinCap(NOW, [], { per_day: 0, per_week: null })).toBeUndefined();
  });
});

describe('nextSendSlot', () => {
  const quiet = { start: '21:00', end: '08:00' };
  const zone = 'America/Sao_Paulo';

  it('after the cap, then out of quiet hours; says why it moved', () => {
    // 23:30 local, no sends: quiet hours → 08:00 local next day.
    expect(nextSendSlot(at('2026-11-21T02:30:00Z'), [], { per_day: 1, per_week: null }, quiet, zone)).toEqual(
      {
        at: at('2026-11-21T11:00:00Z'),
        reason: 'quiet_hours',
      },
    );
    // Capped until 22:00 local (quiet), so 08:00 the day after.
    const sends = [at('2026-11-20T01:00:00Z')];
    expect(
      nextSendSlot(at('2026-11-20T15:00:00Z'), sends, { per_day: 1, per_week: null }, quiet, zone),
    ).toEqual({
      at: at('2026-11-21T11:00:00Z'),
      reason: 'frequency_cap',
    });
    expect(nextSendSlot(NOW, [], { per_day: 1, per_week: null }, quiet, zone)).toEqual({
      at: NOW,
      reason: null,
    });
  });
});

describe('email parts', () => {
  it('puts the open pixel before </body>, or at the end', () => {
    expect(withOpenPixel('<html><body><p>x</p></body></html>', 'https://p/o')).toBe(
      '<html><body><p>x</p><img src="https://p/o" width="1" height="1" alt="" style="display:none"></body></html>',
    );
    expect(withOpenPixel('<p>x</p>', 'https://p/o')).toMatch(/^<p>x<\/p><img src="https:\/\/p\/o"/);
  });

  it('builds an escaped HTML part from text', () => {
    expect(htmlFromText('a <b> & c\nd\n\ne')).toBe('<p>a &lt;b&gt; &amp; c<br>d</p>\n<p>e</p>');
  });

  it('5xx answers are permanent; 4xx and connection errors are not', () => {
    expect(classifySmtpError({ responseCode: 550, response: '550 5.1.1 no such user' })).toEqual({
      permanent: true,
      error: '550: 550 5.1.1 no such user',
    });
    expect(classifySmtpError({ responseCode: 451, response: '451 try later' }).permanent).toBe(false);
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'connect ECONNREFUSED' })).toEqual({
      permanent: false,
      error: 'ECONNECTION: connect ECONNREFUSED',
    });
  });

  it('a 5xx to the message is permanent; a 5xx to the session (login, greeting) is not', () => {
    const rcpt = { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 no such user' };
    const data = { code: 'EMESSAGE', command: 'DATA', responseCode: 554, response: '554 spam' };
    expect(classifySmtpError(rcpt).permanent).toBe(true);
    expect(classifySmtpError(data).permanent).toBe(true);
    const login = {
      code: 'EAUTH',
      command: 'AUTH PLAIN',
      responseCode: 535,
      response: '535 bad credentials',
    };
    const greeting = { code: 'EPROTOCOL', command: 'CONN', responseCode: 554, response: '554 no service' };
    expect(classifySmtpError(login)).toEqual({ permanent: false, error: '535: 535 bad credentials' });
    expect(classifySmtpError(greeting).permanent).toBe(false);
  });
});
