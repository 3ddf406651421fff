import { LogicEngine } from 'json-logic-engine';
import type { Condition } from './types.js';

const engine = new LogicEngine();
const compiled = new Map<string, (data: unknown) => unknown>();
// The same condition objects come back on every event (playbooks are cached per version):
// found by identity first, without serializing them again.
const byObject = new WeakMap<object, (data: unknown) => unknown>();

/**
 * Evaluates a JSON Logic condition over `data`. Compiled once per distinct expression:
 * the same playbooks are evaluated for every event. An absent condition is true.
 */
export function holds(condition: Condition | undefined, data: unknown): boolean {
  if (condition === undefined) return true;
  if (typeof condition === 'boolean') return condition;
  let fn = byObject.get(condition);
  if (!fn) {
    const text = JSON.stringify(condition);
    fn = compiled.get(text);
    if (!fn) {
      fn = engine.build(condition as Record<string, unknown>) as (data: unknown) => unknown;
      compiled.set(text, fn);
    }
    byObject.set(condition, fn);
  }
  return truthy(fn(data));
}

/** JSON Logic's truthiness: empty arrays are false, as in the spec. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return Boolean(value);
}

/** Checks that a condition compiles; returns the error message when it does not. */
export function conditionError(condition: Condition): string | undefined {
  if (typeof condition === 'boolean') return undefined;
  try {
    engine.build(condition as Record<string, unknown>);
    return undefined;
  } catch (error) {
    return error instanceof Error && error.message ? error.message : 'not a valid JSON Logic expression';
  }
}
