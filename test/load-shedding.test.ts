import { describe, expect, it } from 'vitest';
import { call, startTestApp, TEST_ADMIN_KEY } from './helpers/app.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('load shedding', () => {
  it('the long synchronous stretch of an app start does not shed the requests that follow it', async () => {
    for (let round = 0; round < 4; round++) {
      // The production threshold (test apps have shedding off by default).
      const t = await startTestApp({ env: { LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '1000' } });
      try {
        for (const wait of [0, 50, 120]) {
          await sleep(wait);
          const response = await call(t.app, 'GET', '/v1/settings', TEST_ADMIN_KEY);
          expect(response.statusCode, `round ${round}, +${wait} ms: ${response.body}`).toBe(200);
        }
      } finally {
        await t.close();
      }
    }
  });
});
