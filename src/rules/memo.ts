/** Texts remembered before a memo starts over: some come from data (customers' zones), not a fixed set. */
const MAX_TEXTS = 10_000;

/**
 * Memoizes a pure function of a text (a duration, a clock time, a condition, a zone name):
 * playbook steps repeat the same few texts on every event, so each is computed once per process.
 */
export function memoByText<T>(compute: (text: string) => T): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    if (cache.has(text)) return cache.get(text) as T;
    const value = compute(text);
    if (cache.size >= MAX_TEXTS) cache.clear();
    cache.set(text, value);
    return value;
  };
}
