// The npm mirror these machines use does not serve other platforms' optional binaries
// (e.g. @biomejs/cli-darwin-arm64), so `npm install` leaves them out of package-lock.json
// while still listing them as optional dependencies, and `npm ci` then refuses the lock as
// out of sync. This drops optional edges that point at packages absent from the lock.
// Run after `npm install` changes the lock: `node .ci/prune-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const present = new Set(Object.keys(lock.packages).map((path) => path.replace(/^.*node_modules\//, '')));
let pruned = 0;
for (const entry of Object.values(lock.packages)) {
  if (!entry.optionalDependencies) continue;
  for (const name of Object.keys(entry.optionalDependencies)) {
    if (!present.has(name)) {
      delete entry.optionalDependencies[name];
      pruned++;
    }
  }
  if (Object.keys(entry.optionalDependencies).length === 0) delete entry.optionalDependencies;
}
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`pruned ${pruned} optional dependencies the registry does not serve`);
