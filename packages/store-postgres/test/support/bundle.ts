import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const requireHere = createRequire(import.meta.url);

/** Packages that stay outside a bundle (node-postgres and its optional native binding), imported by their absolute entry path. */
const NATIVE = ['pg'];

/**
 * Bundles a TypeScript script with esbuild into one plain ESM file `outFile`,
 * so a child process starts with a bare `node outFile` (no TypeScript loader,
 * ~100 ms) instead of `node --import tsx` (seconds). `@conveyor/*` resolves to
 * `packages/<name>/src/index.ts`; native addons stay external, imported by
 * absolute path so the bundle runs from any folder.
 *
 * Resolves to `undefined` when esbuild is not installed (it comes with tsup):
 * callers then fall back to {@link runTs}.
 */
export async function bundleScript(entry: string, outFile: string): Promise<string | undefined> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  await esbuild.build({
    entryPoints: [entry],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // CommonJS dependencies inside an ESM bundle still call `require` for node builtins
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [
      {
        name: 'conveyor-sources',
        setup(build) {
          build.onResolve({ filter: /^@conveyor\/[\w-]+$/ }, (args) => ({
            path: path.join(repoRoot, 'packages', args.path.slice('@conveyor/'.length), 'src', 'index.ts'),
          }));
          build.onResolve({ filter: new RegExp(`^(${NATIVE.join('|')})$`) }, (args) => ({
            path: requireHere.resolve(args.path),
            external: true,
          }));
        },
      },
    ],
  });
  return outFile;
}
