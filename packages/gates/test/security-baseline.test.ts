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

describe('old rule ids keep working in .gitleaksignore and baselines (gitleaks ids now)', () => {
  const AWS = `aws_key = "AKIA${'QW3RT7YU2IOPZX5C'}"`;
  it('the built-in rules carry gitleaks ids, not the old ones', () => {
    const ids = new Set(config.rules.map((r) => r.id));
    for (const id of ['aws-access-token', 'gcp-api-key', 'stripe-access-token', 'slack-bot-token']) {
      expect(ids.has(id), id).toBe(true);
    }
    for (const old of ['aws-access-key-id', 'google-api-key', 'stripe-live-key', 'slack-token']) {
      expect(ids.has(old), old).toBe(false);
    }
    const [f] = scanText(config, AWS, where);
    expect(f?.RuleID).toBe('aws-access-token');
  });

  it('an ignore line or baseline entry with the old id matches the finding under the new id', () => {
    const ignored = parseGitleaksIgnore(`c0ffee:src/a.ts:aws-access-key-id:1\n`);
    expect(scanText(config, AWS, where, { ignoredFingerprints: ignored })).toEqual([]);
    const [f] = scanText(config, AWS, where);
    const old = { ...(f as NonNullable<typeof f>), RuleID: 'aws-access-key-id', Secret: 'AKIA…' };
    expect(scanText(config, AWS, where, { baseline: [old] })).toEqual([]);
    const slack = `SLACK_BOT_TOKEN=xoxb-123456789012-1234567890123-${chars(24, 3)}`;
    const slackIgnored = parseGitleaksIgnore('src/a.ts:slack-token:1\n');
    expect(scanText(config, slack, where, { ignoredFingerprints: slackIgnored })).toEqual([]);
    // an unrelated old id covers nothing
    expect(
      scanText(config, AWS, where, { ignoredFingerprints: parseGitleaksIgnore('src/a.ts:google-api-key:1') }),
    ).toHaveLength(1);
  });
});
