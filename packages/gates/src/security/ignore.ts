import { readFile } from 'node:fs/promises';
import { ConveyorError, err, ok, type Result } from '@conveyor/core';
import type { SecretFinding } from './types.js';

const PKG = '@conveyor/gates';

/**
 * Parses `.gitleaksignore` text: one fingerprint per line
 * (`commit:file:rule:line`, or `file:rule:line`), `#` comments.
 *
 * @example
 * ```ts
 * parseGitleaksIgnore('# ok\nabc123:src/a.ts:github-pat:4\n');
 * ```
 */
export function parseGitleaksIgnore(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    out.add(line);
  }
  return out;
}

/**
 * Reads a baseline report from a host file (a gitleaks JSON report: an array
 * of findings); findings already in it are not reported again.
 *
 * @example
 * ```ts
 * const baseline = await readSecretsBaseline('/etc/conveyor/gitleaks-baseline.json');
 * ```
 */
export async function readSecretsBaseline(path: string): Promise<Result<SecretFinding[], ConveyorError>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return err(
      new ConveyorError(PKG, 'invalid_config', `baseline ${path} cannot be read`, {
        details: { path },
      }),
    );
  }
  return parseSecretsBaseline(text, path);
}

/**
 * Parses baseline text (a gitleaks JSON report). Errors name the file and the
 * entry, never the text (JSON.parse's own message quotes it).
 *
 * @example
 * ```ts
 * const baseline = parseSecretsBaseline('[]', 'gitleaks-baseline.json');
 * ```
 */
export function parseSecretsBaseline(text: string, path: string): Result<SecretFinding[], ConveyorError> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return err(
      new ConveyorError(PKG, 'invalid_config', `baseline ${path} is not a readable JSON report`, {
        details: { path },
      }),
    );
  }
  if (!Array.isArray(parsed)) {
    return err(
      new ConveyorError(PKG, 'invalid_config', `baseline ${path} must be a JSON array of findings`, {
        details: { path },
      }),
    );
  }
  const out: SecretFinding[] = [];
  for (const [i, f] of parsed.entries()) {
    if (typeof f !== 'object' || f === null || typeof (f as { RuleID?: unknown }).RuleID !== 'string') {
      return err(
        new ConveyorError(PKG, 'invalid_config', `baseline ${path}: entry ${i} has no RuleID`, {
          details: { path, index: i },
        }),
      );
    }
    const o = f as Record<string, unknown>;
    const str = (k: string) => (typeof o[k] === 'string' ? (o[k] as string) : '');
    const num = (k: string) => (typeof o[k] === 'number' ? (o[k] as number) : 0);
    out.push({
      RuleID: str('RuleID'),
      Description: str('Description'),
      StartLine: num('StartLine'),
      EndLine: num('EndLine'),
      StartColumn: num('StartColumn'),
      EndColumn: num('EndColumn'),
      Match: str('Match'),
      Secret: str('Secret'),
      File: str('File'),
      Commit: str('Commit'),
      Entropy: num('Entropy'),
      Author: str('Author'),
      Email: str('Email'),
      Date: str('Date'),
      Message: str('Message'),
      Tags: Array.isArray(o.Tags) ? o.Tags.filter((t): t is string => typeof t === 'string') : [],
      Fingerprint: str('Fingerprint'),
    });
  }
  return ok(out);
}
