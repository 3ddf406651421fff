import { createDb } from '../../src/db/client.js';
import { KPIS } from '../../src/modules/metrics/kpi-catalog.js';

const db = createDb('postgres://postgres@127.0.0.1:5432/posvenda_metrics_prof');
const to = new Date();
const from = new Date(to.getTime() - 30 * 86400000);
const only = process.argv[2];
for (let round = 0; round < 2; round++) {
  for (const kpi of KPIS) {
    if (only && kpi.key !== only) continue;
    const scope = {
      workspaceId: '00000000-0000-7000-8000-000000000001',
      currency: 'BRL',
      segment: process.env.SEG,
    };
    const t0 = performance.now();
    const v = await kpi.compute(db, scope, { from, to });
    if (round === 1)
      console.log(
        kpi.key.padEnd(28),
        (performance.now() - t0).toFixed(0).padStart(6),
        'ms',
        JSON.stringify(v.value),
      );
  }
}
await db.destroy();
