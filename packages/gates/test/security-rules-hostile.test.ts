import { describe, expect, it } from 'vitest';
import { compileSecretsConfig, DEFAULT_SECRETS_CONFIG, scanText } from '../src/index.js';

// The round-2 built-in rules on text written to make a backtracking engine
// work: each answers (no RangeError, no hang) with the findings it should.
const defaults = (() => {
  const c = compileSecretsConfig(DEFAULT_SECRETS_CONFIG);
  if (!c.ok) throw c.error;
  return c.value;
})();

describe('round-2 built-in rules on hostile text', () => {
  it.each([
    ['a megabyte of `curl `', 'curl '.repeat(200_000)],
    ['a megabyte of `curl -u `', 'curl -u '.repeat(125_000)],
    ['a megabyte of `curl -H "Authorization: `', 'curl -H "Authorization: '.repeat(40_000)],
    ['curl, then a megabyte of escaped line ends', `curl ${'\\\n'.repeat(500_000)}`],
    ['an endless 1Password token', `ops_eyJ${'A'.repeat(1_000_000)}`],
    ['an endless Bedrock key', `ABSK${'a'.repeat(1_000_000)}`],
    ['an endless Azure secret lead-in', ` abc8Q~${'a'.repeat(1_000_000)}`],
  ])('%s', (_name, text) => {
    expect(scanText(defaults, text).filter((f) => f.RuleID.startsWith('curl-'))).toEqual([]);
  });

  it('still finds the one real credential in a page of curls', () => {
    const text = `${'curl https://x.io\n'.repeat(5000)}curl -u deploy:Zq8vLr2mXc91Tp https://api.internal\n`;
    expect(scanText(defaults, text).map((f) => [f.RuleID, f.Secret, f.StartLine])).toEqual([
      ['curl-auth-user', 'deploy:Zq8vLr2mXc91Tp', 5001],
    ]);
  });
});
