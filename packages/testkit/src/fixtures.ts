import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of third-party contract fixtures (Gitea's swagger spec, captured
 * webhooks, Plane payloads, the Telegram Bot API spec, OSV advisories), or
 * `undefined` when it is absent. They are never copied into the repository:
 * `CONVEYOR_FIXTURES_DIR` wins, else `../shared/fixtures` beside the checkout.
 * Tests that need them skip with a message when this returns `undefined`.
 *
 * @example
 * ```ts
 * const dir = sharedFixturesDir();
 * describe.skipIf(!dir)('against the real Gitea payloads', () => { ... });
 * ```
 */
export function sharedFixturesDir(): string | undefined {
  const fromEnv = process.env.CONVEYOR_FIXTURES_DIR;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : undefined;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i += 1) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'packages'))) {
      const candidate = resolve(dir, '..', 'shared', 'fixtures');
      return existsSync(candidate) ? candidate : undefined;
    }
    dir = dirname(dir);
  }
  return undefined;
}

/** The message a skipped fixture test prints. */
export const FIXTURES_MISSING_MESSAGE =
  'shared fixtures not found (set CONVEYOR_FIXTURES_DIR or place them at ../shared/fixtures): contract tests against real third-party data are skipped';
