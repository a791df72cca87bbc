import { describe, expect, it } from 'vitest';
import {
  compileSecretsConfig,
  DEFAULT_SECRETS_CONFIG,
  parseGitleaksIgnore,
  redactFinding,
  type SecretsConfig,
  scanText,
} from '../src/index.js';
import { chars } from './fixtures/security/samples.js';

const config = (() => {
  const c = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!c.ok) throw c.error;
  return c.value as SecretsConfig;
})();
const TOKEN = `ghp_${chars(36, 21)}`;
const TEXT = `export const token = "${TOKEN}";`;
const where = { file: 'src/a.ts', commit: 'c0ffee' };

describe('baseline and ignore list match places, not secret values', () => {
  it('a redacted finding (Secret a preview or REDACTED) is a baseline entry for the clear one', () => {
    const [found] = scanText(config, TEXT, where);
    expect(found?.RuleID).toBe('github-pat');
    const redacted = redactFinding(found as NonNullable<typeof found>);
    expect(redacted.Secret).not.toContain(TOKEN);
    expect(scanText(config, TEXT, where, { baseline: [redacted] })).toEqual([]);
    expect(
      scanText(config, TEXT, where, { baseline: [{ ...redacted, Secret: 'REDACTED', Match: 'REDACTED' }] }),
    ).toEqual([]);
  });

  it('a baselined or ignored finding still hides the generic match it overlaps (no generic-api-key in its place)', () => {
    const [found] = scanText(config, TEXT, where);
    const ignored = parseGitleaksIgnore(`${found?.Fingerprint}\n`);
    expect(scanText(config, TEXT, where, { ignoredFingerprints: ignored })).toEqual([]);
    expect(scanText(config, TEXT, where, { baseline: [found as NonNullable<typeof found>] })).toEqual([]);
  });

  it('another commit, file or line is not covered', () => {
    const [found] = scanText(config, TEXT, where);
    const baseline = [found as NonNullable<typeof found>];
    expect(scanText(config, TEXT, { ...where, commit: 'beef' }, { baseline })).toHaveLength(1);
    expect(scanText(config, TEXT, { ...where, file: 'src/b.ts' }, { baseline })).toHaveLength(1);
    expect(scanText(config, `\n${TEXT}`, where, { baseline })).toHaveLength(1);
  });
});
