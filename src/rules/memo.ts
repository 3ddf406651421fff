/**
 * Memoizes a pure function of a text (a duration, a clock time, a condition): playbook steps
 * repeat the same few texts on every event, so each is parsed once per process.
 */
export function memoByText<T>(compute: (text: string) => T): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    if (cache.has(text)) return cache.get(text) as T;
    const value = compute(text);
    cache.set(text, value);
    return value;
  };
}
