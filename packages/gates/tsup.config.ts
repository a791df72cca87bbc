import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'tsup';

/** Removes the CLI bundle's chunks of an earlier build (the library's `clean` leaves the CLI's files alone). */
const cleanCliChunks = {
  name: 'clean-cli-chunks',
  setup(build: { onStart(f: () => void): void }) {
    build.onStart(() => {
      let names: string[] = [];
      try {
        names = readdirSync('dist');
      } catch {
        return;
      }
      for (const n of names) if (n.startsWith('cli-chunk-')) rmSync(join('dist', n), { force: true });
    });
  },
};

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      'staging-cli': 'src/staging-cli.ts',
    },
    format: ['esm'],
    dts: { entry: 'src/index.ts', compilerOptions: { composite: false } },
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    // the CLI bundle below is written to the same directory at the same time
    clean: ['!cli.js', '!cli.js.map', '!cli-chunk-*', '!scan-worker.js', '!scan-worker.js.map'],
    target: 'node20',
  },
  {
    // conveyor-scan is one self-contained, tree-shaken bundle (its dependencies included): a CI job starts it on
    // every push, and loading the packages file by file (@conveyor/core, zod, execa, yaml) took most of its start-up.
    // The scan worker a host's security gate starts for every scan (`./scan-worker.js`, next to the library's
    // code) is built the same way, for the same reason: it shares the CLI's chunks.
    entry: { cli: 'src/cli.ts', 'scan-worker': 'src/security/scan-worker.ts' },
    format: ['esm'],
    tsconfig: 'tsconfig.build.json',
    sourcemap: true,
    clean: false,
    target: 'node20',
    noExternal: [/.*/],
    // the scan itself is a chunk of its own (`cli-chunk-*.js`), loaded once the arguments are read
    splitting: true,
    esbuildPlugins: [cleanCliChunks],
    esbuildOptions(options) {
      options.chunkNames = 'cli-chunk-[hash]';
      // @conveyor/core from its sources: its built file is one module, so taking anything from it (an error
      // class) kept every dependency it imports at the top (yaml and eventemitter3 are CommonJS and always run)
      options.alias = { '@conveyor/core': fileURLToPath(new URL('../core/src/index.ts', import.meta.url)) };
    },
    // bundled CommonJS dependencies call require() for node's own modules
    banner: {
      js: "import { createRequire as __conveyorRequire } from 'node:module';\nconst require = __conveyorRequire(import.meta.url);",
    },
  },
]);
