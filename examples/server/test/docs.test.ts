import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { settingsDoc } from '../../../scripts/settings-doc.js';

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

describe('the docs a new user reads', () => {
  it('docs/settings.md lists every setting of every schema, as generated (npm run docs:settings)', () => {
    const committed = read('../../../docs/settings.md');
    expect(committed).toBe(settingsDoc());
    expect(committed).not.toContain('(undocumented)');
    for (const name of [
      'ORCH_SECURITY_DEP_AUDIT_FAIL_CLOSED',
      'ORCH_MERGE_RETEST_COMMAND',
      'ORCH_REAPER_DEAD_TICKS',
      'ORCH_STAGING_STRICT',
    ]) {
      expect(committed).toContain(name);
    }
  });

  it('getting-started shows the minimal host exactly as it is type-checked', () => {
    const guide = read('../../../docs/getting-started.md');
    expect(guide).toContain(read('../src/minimal-host.ts'));
  });
});
