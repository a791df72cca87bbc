import { defineConfig } from 'vitest/config';
import { conveyorAliases } from './vitest.shared.js';

const packages = [
  'core',
  'testkit',
  'store-sqlite',
  'store-postgres',
  'gates',
  'adapter-plane',
  'adapter-gitea',
  'adapter-telegram',
  'agents',
];
const examples = ['server', 'local-pipeline'];

export default defineConfig({
  test: {
    projects: [
      ...packages.map((name) => ({
        resolve: { alias: conveyorAliases },
        test: {
          name,
          root: `./packages/${name}`,
          include: ['test/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // one PostgreSQL server for the run (CONVEYOR_PG_URL, or a throwaway cluster)
          ...(name === 'store-postgres' ? { globalSetup: ['./test/support/global-setup.ts'] } : {}),
        },
      })),
      ...examples.map((name) => ({
        resolve: { alias: conveyorAliases },
        test: {
          name: `example-${name}`,
          root: `./examples/${name}`,
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      })),
    ],
    passWithNoTests: false,
  },
});
