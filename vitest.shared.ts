import { fileURLToPath } from 'node:url';

/** Source aliases so tests run against `src/` without a build. */
export const conveyorAliases: Record<string, string> = Object.fromEntries(
  [
    'core',
    'gates',
    'testkit',
    'store-sqlite',
    'store-postgres',
    'adapter-plane',
    'adapter-gitea',
    'adapter-telegram',
    'agents',
  ].map((name) => [`@conveyor/${name}`, fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url))]),
);
