import type { Transaction } from 'kysely';
import { Duration } from 'luxon';
import type { DB } from '../../db/types.js';
import { holds } from '../../rules/conditions.js';
import type { Condition } from '../../rules/types.js';
import { type ConsentChannel, effectiveConsent } from '../customers/consent.js';
import { conditionCustomer } from '../customers/customer-conditions.js';
import { toCustomerState } from '../customers/customer-state.js';
import { countOpenTickets } from '../customers/customers.repository.js';
import { type Channel, effectiveSettings, type SettingsOverrides } from '../workspaces/settings.js';
import { type DispatchTouchpointRow, type LockedCustomer, recentSends } from './dispatch.repository.js';
import type { RenderResult, StoredContent, Surroundings } from './render-touchpoint.js';
import { triggerEvent } from './render-touchpoint.js';
import { CAP_LOOKBACK_MS, nextSendSlot } from './send-window.js';

export type Renderer = (surroundings: Surroundings) => Promise<RenderResult>;

interface Rendered {
  readonly content: StoredContent;
  readonly templateVersion: number;
  readonly variant: string;
}

/** What to do with a queued touchpoint now that it is due. */
export type Decision =
  | { readonly kind: 'cancel'; readonly reason: string }
  | { readonly kind: 'skip'; readonly reason: string; readonly rendered?: Rendered }
  | { readonly kind: 'fail'; readonly reason: string; readonly detail: string }
  | { readonly kind: 'postpone'; readonly until: Date; readonly reason: string }
  | { readonly kind: 'send'; readonly rendered: Rendered };

export interface DecisionInput {
  readonly touchpoint: DispatchTouchpointRow;
  readonly customer: LockedCustomer;
  /** Its workspace, enrollment, step and trigger event (dispatchSurroundings). */
  readonly surroundings: Surroundings;
  readonly now: Date;
  readonly render: Renderer;
  /** Whether email can go out (SMTP_URL set). */
  readonly smtp: boolean;
}

/**
 * The consent a touchpoint needs: email for emails, the phone for call tasks, WhatsApp for
 * WhatsApp tasks (opt-in by default, per WhatsApp Business policy). Meetings and webhooks
 * (the shop's own systems) need none.
 */
function consentChannel(tp: DispatchTouchpointRow): ConsentChannel | undefined {
  if (tp.channel === 'email') return 'email';
  if (tp.channel !== 'task') return undefined;
  if (tp.taskKind === 'call') return 'phone';
  if (tp.taskKind === 'whatsapp') return 'whatsapp';
  return undefined;
}

/**
 * Re-checks a due touchpoint against the world as it is now, in order: the enrollment still
 * running, the customer not erased, not later than the workspace's late grace, an address and consent for the channel, the step's
 * `send_if` over the customer's current facts, the frequency cap and (email) quiet hours;
 * then renders it. Reads under the caller's row locks; writes nothing.
 */
export async function decideDispatch(trx: Transaction<DB>, input: DecisionInput): Promise<Decision> {
  const { touchpoint: tp, customer, surroundings: s, now } = input;
  if (!s.enrollment || s.enrollment.status === 'exited') {
    return { kind: 'cancel', reason: `exited:${s.enrollment?.exitReason ?? 'unknown'}` };
  }
  if (customer.erasedAt !== null) return { kind: 'cancel', reason: 'erased' };
  const settings = effectiveSettings(s.workspace, s.workspace.settings as SettingsOverrides);
  // The planner's rule, again at send time: past the grace (workers down for days), a
  // follow-up about an old event would arrive out of context, so it is not sent.
  if (now.getTime() - tp.dueAt.getTime() > Duration.fromISO(settings.late_grace).as('milliseconds')) {
    return { kind: 'skip', reason: 'late' };
  }
  if (tp.channel === 'email' && !customer.email) return { kind: 'skip', reason: 'no_address' };
  const consent = consentChannel(tp);
  if (
    consent &&
    effectiveConsent(customer.consent as Record<string, unknown>)[consent].status === 'opted_out'
  ) {
    return { kind: 'skip', reason: 'consent' };
  }

  const state = toCustomerState(customer);
  const step = s.enrollment.stepText ? (JSON.parse(s.enrollment.stepText) as { send_if?: Condition }) : {};
  if (step.send_if !== undefined) {
    const open = (await countOpenTickets(trx, tp.workspaceId, [customer.id])).get(customer.id) ?? 0;
    const data = { customer: conditionCustomer(state, now, open), event: triggerEvent(s) };
    if (!holds(step.send_if, data)) return { kind: 'skip', reason: 'condition' };
  }

  const cap = settings.frequency_caps[tp.channel as Channel];
  const quiet = tp.channel === 'email' ? settings.quiet_hours : null;
  const capped = cap.per_day !== null || cap.per_week !== null;
  if (capped || quiet) {
    const sends = capped
      ? await recentSends(
          trx,
          tp,
          new Date(now.getTime() - CAP_LOOKBACK_MS),
          Math.max(cap.per_day ?? 0, cap.per_week ?? 0),
        )
      : [];
    const zone = customer.timezone ?? settings.timezone;
    const slot = nextSendSlot(now, sends, cap, quiet, zone);
    if (!slot) return { kind: 'skip', reason: 'frequency_cap' };
    if (slot.reason) return { kind: 'postpone', until: slot.at, reason: slot.reason };
  }

  const rendered = await input.render(s);
  if (rendered.kind === 'missing') {
    return { kind: 'fail', reason: 'template_missing', detail: `no live template "${tp.templateKey}"` };
  }
  if (rendered.kind === 'error') return { kind: 'fail', reason: 'render_error', detail: rendered.message };
  // Without SMTP the email is rendered and kept, and honestly not sent.
  if (tp.channel === 'email' && !input.smtp) return { kind: 'skip', reason: 'smtp_not_configured', rendered };
  return { kind: 'send', rendered };
}
