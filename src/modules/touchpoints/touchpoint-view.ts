import type { AttemptRow, TouchpointRow } from './touchpoints.repository.js';
import type { TouchpointStatus } from './touchpoints.schemas.js';

type Channel = 'email' | 'webhook' | 'task';
type TaskKind = 'call' | 'meeting' | 'whatsapp';

/** A touchpoint row as the API shows it in lists. */
export function presentTouchpoint(row: TouchpointRow) {
  return {
    id: row.id,
    customer_id: row.customerExternalId,
    playbook: row.playbookKey,
    step: row.stepKey,
    channel: row.channel as Channel,
    template: row.templateKey,
    template_version: row.templateVersion,
    variant: row.variant,
    due_at: row.dueAt.toISOString(),
    status: row.status as TouchpointStatus,
    status_reason: row.statusReason,
    task_kind: row.taskKind as TaskKind | null,
    outcome: row.outcome,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/**
 * One touchpoint with its customer, the content the dispatcher rendered (null before) and its
 * delivery attempts, oldest first.
 */
export function presentTouchpointDetail(row: TouchpointRow, attempts: readonly AttemptRow[]) {
  return {
    ...presentTouchpoint(row),
    outcome_notes: row.outcomeNotes,
    customer: {
      id: row.customerExternalId,
      name: row.customerName,
      email: row.customerEmail,
      phone: row.customerPhone,
      segment: row.customerSegment,
    },
    // Stored as rendered (RenderedContent of touchpoints.schemas.ts), keys as in the API.
    content: (row.content ?? null) as Record<string, unknown> | null,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      at: a.at.toISOString(),
      status: a.status as 'succeeded' | 'failed',
      error: a.error,
      provider_message_id: a.providerMessageId,
    })),
  };
}
