import { defineConfig } from 'tsup';

export default defineConfig({
  // the scan worker is its own entry: the bundled code starts it as `./scan-worker.js` next to itself
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    'staging-cli': 'src/staging-cli.ts',
    'scan-worker': 'src/security/scan-worker.ts',
  },
  format: ['esm'],
  dts: { entry: 'src/index.ts', compilerOptions: { composite: false } },
  tsconfig: 'tsconfig.build.json',
  sourcemap: true,
  clean: true,
  target: 'node20',
});
