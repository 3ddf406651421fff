import { Duration } from 'luxon';
import type { FieldError } from '../../errors.js';
import { conditionError } from '../../rules/conditions.js';
import type { Condition, Playbook, Reentry, Step, Trigger } from '../../rules/types.js';
import { EVENT_TYPE_PATTERN } from '../events/event-types.js';

// An event type of API.md or `custom.<name>`: the same rule as for ingested events.
const EVENT_TYPE = new RegExp(EVENT_TYPE_PATTERN);

/** A JSON Logic expression as it arrives in a document. */
export type JsonLogic = object | boolean;

/** A playbook step as the API takes it (snake_case). */
export interface StepDocument {
  readonly key: string;
  readonly after: string;
  readonly channel: 'email' | 'webhook' | 'task';
  readonly template: string;
  readonly at?: string;
  readonly business_days?: boolean;
  readonly when?: JsonLogic;
  readonly send_if?: JsonLogic;
  readonly task?: { readonly kind: 'call' | 'meeting' | 'whatsapp' };
  readonly endpoint?: string;
}

export interface TriggerDocument {
  readonly event?: string;
  readonly when?: JsonLogic;
  readonly inactivity?: { readonly days: number };
  readonly usage?: { readonly metric: string; readonly at_least: number };
  readonly before?: { readonly attribute: string; readonly days: number };
}

/** The playbook document of API.md, without its key. */
export interface PlaybookBody {
  readonly name: string;
  readonly description?: string;
  readonly enabled?: boolean;
  readonly trigger: TriggerDocument;
  readonly audience?: JsonLogic;
  readonly reentry?: 'never' | 'always' | { readonly after: string };
  readonly exit_on?: readonly { readonly event: string; readonly when?: JsonLogic }[];
  readonly steps: readonly StepDocument[];
}

function isEventType(type: string): boolean {
  return EVENT_TYPE.test(type);
}

function durationError(text: string): string | undefined {
  const duration = Duration.fromISO(text);
  if (!duration.isValid) return `"${text}" is not an ISO-8601 duration (e.g. P3D, PT12H, P1M)`;
  if (duration.as('milliseconds') < 0) return 'must not be negative';
  return undefined;
}

function checkCondition(condition: JsonLogic | undefined, path: string, errors: FieldError[]): void {
  if (condition === undefined) return;
  const error = conditionError(condition as Condition);
  if (error) errors.push({ path, message: `not a valid JSON Logic expression: ${error}` });
}

/**
 * Checks what the JSON schema cannot: durations, event types, one trigger kind, conditions
 * that compile, unique step keys, channel-specific fields. Template references are checked
 * by the service, which can see the templates.
 */
export function checkPlaybookDocument(doc: PlaybookBody, base = '/body'): FieldError[] {
  const errors: FieldError[] = [];
  const trigger = doc.trigger;
  const kinds = (['event', 'inactivity', 'usage', 'before'] as const).filter(
    (kind) => trigger[kind] !== undefined,
  );
  if (kinds.length !== 1) {
    errors.push({
      path: `${base}/trigger`,
      message: 'must have exactly one of event, inactivity, usage or before',
    });
  }
  if (trigger.event !== undefined && !isEventType(trigger.event)) {
    errors.push({ path: `${base}/trigger/event`, message: `unknown event type "${trigger.event}"` });
  }
  if (trigger.when !== undefined && trigger.event === undefined) {
    errors.push({ path: `${base}/trigger/when`, message: 'only an event trigger takes a condition' });
  }
  checkCondition(trigger.when, `${base}/trigger/when`, errors);
  checkCondition(doc.audience, `${base}/audience`, errors);
  if (typeof doc.reentry === 'object') {
    const error = durationError(doc.reentry.after);
    if (error) errors.push({ path: `${base}/reentry/after`, message: error });
  }
  (doc.exit_on ?? []).forEach((rule, i) => {
    if (!isEventType(rule.event))
      errors.push({ path: `${base}/exit_on/${i}/event`, message: `unknown event type "${rule.event}"` });
    checkCondition(rule.when, `${base}/exit_on/${i}/when`, errors);
  });
  const seen = new Set<string>();
  doc.steps.forEach((step, i) => {
    const path = `${base}/steps/${i}`;
    if (seen.has(step.key))
      errors.push({ path: `${path}/key`, message: `step key "${step.key}" is used twice` });
    seen.add(step.key);
    const error = durationError(step.after);
    if (error) errors.push({ path: `${path}/after`, message: error });
    if (step.task !== undefined && step.channel !== 'task') {
      errors.push({ path: `${path}/task`, message: 'only a task step takes a task' });
    }
    if (step.endpoint !== undefined && step.channel !== 'webhook') {
      errors.push({ path: `${path}/endpoint`, message: 'only a webhook step takes an endpoint' });
    }
    checkCondition(step.when, `${path}/when`, errors);
    checkCondition(step.send_if, `${path}/send_if`, errors);
  });
  return errors;
}

function toTrigger(doc: TriggerDocument): Trigger {
  if (doc.inactivity) return { kind: 'inactivity', days: doc.inactivity.days };
  if (doc.usage) return { kind: 'usage', metric: doc.usage.metric, atLeast: doc.usage.at_least };
  if (doc.before) return { kind: 'before', attribute: doc.before.attribute, days: doc.before.days };
  return {
    kind: 'event',
    event: doc.event ?? '',
    ...(doc.when === undefined ? {} : { when: doc.when as Condition }),
  };
}

function toReentry(doc: PlaybookBody['reentry']): Reentry {
  if (doc === undefined || doc === 'never') return { kind: 'never' };
  if (doc === 'always') return { kind: 'always' };
  return { kind: 'after', after: doc.after };
}

function toStep(doc: StepDocument): Step {
  return {
    key: doc.key,
    after: doc.after,
    channel: doc.channel,
    template: doc.template,
    ...(doc.at === undefined ? {} : { at: doc.at }),
    ...(doc.business_days === undefined ? {} : { businessDays: doc.business_days }),
    ...(doc.when === undefined ? {} : { when: doc.when as Condition }),
    ...(doc.send_if === undefined ? {} : { sendIf: doc.send_if as Condition }),
    ...(doc.task === undefined ? {} : { task: doc.task }),
    ...(doc.endpoint === undefined ? {} : { endpoint: doc.endpoint }),
  };
}

/** The engine's view of a (checked) playbook document. */
export function toEnginePlaybook(key: string, version: number, doc: PlaybookBody): Playbook {
  return {
    key,
    version,
    enabled: doc.enabled ?? true,
    trigger: toTrigger(doc.trigger),
    ...(doc.audience === undefined ? {} : { audience: doc.audience as Condition }),
    reentry: toReentry(doc.reentry),
    exitOn: (doc.exit_on ?? []).map((rule) => ({
      event: rule.event,
      ...(rule.when === undefined ? {} : { when: rule.when as Condition }),
    })),
    steps: doc.steps.map(toStep),
  };
}
