// The example host: `node --import tsx examples/server/src/main.ts` with ORCH_* set
// (see .env.example). Stops cleanly on SIGTERM/SIGINT.
import { createHost } from './host.js';
import { loadServerSettings } from './settings.js';
import { openHostStore } from './store.js';

const settings = loadServerSettings(process.env);
if (!settings.ok) {
  process.stderr.write(`conveyor: cannot start, ${settings.error.message}\n`);
  process.exit(2);
}
for (const warning of settings.value.warnings) process.stderr.write(`conveyor: warning: ${warning}\n`);

// SQLite opens in place; PostgreSQL connects and migrates first (ORCH_STORE)
const store = await openHostStore(settings.value);
if (!store.ok) {
  process.stderr.write(`conveyor: cannot open the store, ${store.error.message}\n`);
  process.exit(2);
}
const host = createHost(settings.value, { store: store.value });
let signals = 0;
const shutdown = (signal: string) => {
  signals += 1;
  if (signals > 1) {
    process.stderr.write('conveyor: second signal, exiting now\n');
    process.exit(1);
  }
  host.stop(signal).then(
    () => process.exit(0),
    (thrown: unknown) => {
      process.stderr.write(`conveyor: shutdown failed: ${String(thrown)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

await host.start();
process.stdout.write(`conveyor host listening on ${host.url()}\n`);
