import { createEvents, type EventAttributes } from 'ics';

/** What a calendar entry needs to know about one task touchpoint. */
export interface FeedTask {
  readonly id: string;
  readonly playbook: string;
  readonly step: string;
  readonly taskKind: string | null;
  readonly dueAt: Date;
  readonly status: string;
  readonly updatedAt: Date;
  readonly customer: {
    readonly name: string | null;
    readonly email: string | null;
    readonly phone: string | null;
    readonly erased: boolean;
  };
  /** The rendered call script as text, once the dispatcher has rendered it. */
  readonly script?: string | null;
}

// How long each kind of task blocks in the calendar.
const MINUTES: Readonly<Record<string, number>> = { call: 30, meeting: 60, whatsapp: 15 };
const VERB: Readonly<Record<string, string>> = { call: 'Ligar', meeting: 'Reunião', whatsapp: 'WhatsApp' };

// DTSTAMP: ics reads `timestamp` (else it stamps the system time) but its types leave it out.
type Entry = EventAttributes & { readonly timestamp: number };

function entry(task: FeedTask, publicUrl: string, now: Date): Entry {
  const kind = task.taskKind ?? 'call';
  // An erased customer's pseudonym and leftovers stay out of the feed: nothing to link back.
  const who = task.customer.erased ? 'cliente removido' : (task.customer.name ?? 'cliente sem nome');
  const link = `${publicUrl}/v1/touchpoints/${task.id}`;
  const lines = [`Playbook: ${task.playbook} · etapa: ${task.step}`, `Cliente: ${who}`];
  if (!task.customer.erased) {
    if (task.customer.phone) lines.push(`Telefone: ${task.customer.phone}`);
    if (task.customer.email) lines.push(`E-mail: ${task.customer.email}`);
  }
  lines.push(`Detalhes: ${link}`);
  if (task.script) lines.push('', task.script);
  return {
    uid: `${task.id}@posvenda`,
    start: task.dueAt.getTime(),
    startInputType: 'utc',
    startOutputType: 'utc',
    duration: { minutes: MINUTES[kind] ?? 30 },
    title: `${VERB[kind] ?? 'Tarefa'}: ${who} — ${task.step}`,
    description: lines.join('\n'),
    url: link,
    status: task.status === 'cancelled' ? 'CANCELLED' : 'CONFIRMED',
    // Calendar apps refresh an event when its sequence grows; updated_at only moves forward.
    sequence: Math.floor(task.updatedAt.getTime() / 1000) - 1_700_000_000,
    lastModified: task.updatedAt.getTime(),
    // DTSTAMP: when this feed was made (RFC 5545, METHOD:PUBLISH), by the service's clock.
    timestamp: now.getTime(),
    categories: ['posvenda', task.playbook],
  };
}

/** The iCalendar document of a workspace's tasks. */
export function buildFeed(
  tasks: readonly FeedTask[],
  options: { readonly publicUrl: string; readonly name: string; readonly now: Date },
) {
  const header = { productId: '-//Posvenda//Calendar feed//PT', method: 'PUBLISH', calName: options.name };
  const result = createEvents(
    tasks.map((task) => entry(task, options.publicUrl, options.now)),
    header,
  );
  if (result.error || result.value === null) throw result.error ?? new Error('ics produced no calendar');
  return result.value;
}
