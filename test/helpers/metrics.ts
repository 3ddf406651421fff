import { sql } from 'kysely';
import { expect } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { uuidv7 } from '../../src/ids.js';
import { call, type TestApp } from './app.js';

let n = 0;

/** Posts events through the public API (batch), each with an explicit occurred_at; all must be accepted. */
export async function postEvents(
  t: TestApp,
  key: string,
  events: readonly {
    readonly type: string;
    readonly at: string;
    readonly customer: string;
    readonly segment?: string;
    readonly properties?: Record<string, unknown>;
  }[],
): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const body = {
      events: events.slice(i, i + 500).map((event) => ({
        id: `ev-${++n}`,
        type: event.type,
        occurred_at: event.at,
        customer: { id: event.customer, ...(event.segment ? { segment: event.segment } : {}) },
        properties: event.properties ?? {},
      })),
    };
    const response = await call(t.app, 'POST', '/v1/events/batch', key, body);
    expect(response.statusCode, response.body).toBe(200);
    for (const result of response.json().results)
      expect(result.status, JSON.stringify(result)).toBe('accepted');
  }
}

export interface TouchpointRow {
  readonly customer: string;
  readonly playbook?: string;
  readonly step?: string;
  readonly template?: string;
  readonly channel?: 'email' | 'webhook' | 'task';
  readonly variant?: string | null;
  readonly status?: string;
  readonly due: string;
  readonly created?: string;
  readonly sent?: string | null;
  readonly completed?: string | null;
  readonly delivered?: string | null;
  readonly opened?: string | null;
  readonly clicked?: string | null;
  readonly answered?: string | null;
}

/**
 * Inserts touchpoints straight into Postgres (the dispatcher that sets sent_at and engagement
 * lives on another branch), each under an enrollment of the workspace's `onboarding` playbook.
 */
export async function insertTouchpoints(
  db: Database,
  workspaceId: string,
  rows: readonly TouchpointRow[],
): Promise<void> {
  for (const row of rows) {
    const enrollment = uuidv7();
    const customer = await sql<{ id: string }>`
      SELECT id FROM customers WHERE workspace_id = ${workspaceId} AND external_id = ${row.customer}`.execute(
      db,
    );
    const customerId = customer.rows[0]?.id;
    if (!customerId) throw new Error(`no customer ${row.customer}`);
    await sql`
      INSERT INTO enrollments (workspace_id, id, customer_id, playbook_id, playbook_key, playbook_version,
                               trigger_kind, trigger_at, status, created_at, updated_at)
      SELECT ${workspaceId}, ${enrollment}, ${customerId}, p.id, p.key, p.current_version, 'event', now(), 'active', now(), now()
      FROM playbooks p WHERE p.workspace_id = ${workspaceId} AND p.key = 'onboarding' AND p.deleted_at IS NULL`.execute(
      db,
    );
    const sent = row.sent === undefined ? null : row.sent;
    const status = row.status ?? (row.completed ? 'completed' : sent ? 'sent' : 'scheduled');
    await sql`
      INSERT INTO touchpoints (workspace_id, id, customer_id, enrollment_id, playbook_key, playbook_version, step_key,
                               channel, template_key, due_at, status, variant, created_at, updated_at, sent_at,
                               completed_at, delivered_at, opened_at, clicked_at, answered_at)
      VALUES (${workspaceId}, ${uuidv7()}, ${customerId}, ${enrollment}, ${row.playbook ?? 'onboarding'}, 1,
              ${row.step ?? 'welcome'}, ${row.channel ?? 'email'}, ${row.template ?? 'welcome'}, ${row.due}, ${status},
              ${row.variant ?? null}, ${row.created ?? row.due}, ${row.created ?? row.due}, ${sent},
              ${row.completed ?? null}, ${row.delivered ?? null}, ${row.opened ?? null}, ${row.clicked ?? null},
              ${row.answered ?? null})`.execute(db);
  }
}
