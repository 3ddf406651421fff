// `npm run bench -- <name>`: runs one benchmark against real processes on 127.0.0.1 and
// prints its table. Exit code 0 when every target is met, 1 when not, 2 on misuse.
// A new benchmark is a module exporting `run(): Promise<boolean>`, added to BENCHMARKS.

const BENCHMARKS: Record<string, () => Promise<{ run(): Promise<boolean> }>> = {
  dispatch: () => import('./dispatch.js'),
  ingest: () => import('./ingest.js'),
  metrics: () => import('./metrics.js'),
};

const name = process.argv[2];
const load = name ? BENCHMARKS[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join('|')}>\n`);
  process.exit(2);
}
const passed = await (await load()).run();
process.exit(passed ? 0 : 1);
