import { describe, expect, it } from 'vitest';
import { uuidv7 } from '../src/ids.js';

describe('uuidv7', () => {
  it('is an RFC 9562 version 7 UUID carrying the millisecond time first', () => {
    const at = new Date('2026-12-02T05:00:00.123Z');
    const id = uuidv7(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(at.getTime());
  });

  it('differs on every call, across refills of the random pool, and sorts by time', () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7(new Date('2026-12-02T05:00:00Z')));
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuidv7(new Date('2026-12-02T05:00:00.001Z')) > uuidv7(new Date('2026-12-02T05:00:00Z'))).toBe(
      true,
    );
  });
});
