// A typo must never switch a gate off: an edge the stages do not have and a
// gate scope without the host's repository are refused when the host starts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGateRegistry, DEFAULT_STAGES, type Gate, silentLogger } from '@conveyor/core';
import { createSecurityGate } from '@conveyor/gates';
import { afterAll, describe, expect, it } from 'vitest';
import { createHost } from '../../src/host.js';
import { loadServerSettings } from '../../src/settings.js';

const dataDir = mkdtempSync(join(tmpdir(), 'conveyor-adversarial-startup-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const env = (overrides: Record<string, string>): Record<string, string> => ({
  ORCH_PORT: '0',
  ORCH_DATA_DIR: dataDir,
  ORCH_HOST_REPO: 'acme/web',
  ORCH_PLANE_BASE_URL: 'http://127.0.0.1:9',
  ORCH_PLANE_API_KEY: 'plane-key',
  ORCH_PLANE_WORKSPACE_SLUG: 'acme',
  ORCH_PLANE_PROJECT_ID: 'proj-1',
  ORCH_PLANE_WEBHOOK_SECRET: 'plane-secret',
  ORCH_GITEA_BASE_URL: 'http://127.0.0.1:9',
  ORCH_GITEA_TOKEN: 'gitea-token',
  ORCH_GITEA_WEBHOOK_SECRET: 'gitea-secret',
  ORCH_TELEGRAM_BOT_TOKEN: '123456:fake',
  ORCH_TELEGRAM_CHAT_ID: '-1001',
  ORCH_TELEGRAM_BASE_URL: 'http://127.0.0.1:9',
  ORCH_AGENT_ANALYST_COMMAND: 'true',
  ORCH_AGENT_DEVELOPER_COMMAND: 'true',
  ORCH_AGENT_DEPLOYER_COMMAND: 'true',
  ORCH_MERGE_RETEST_COMMAND: 'true',
  ...overrides,
});

describe('adversarial: typos are refused at startup', () => {
  it('a gate registered on a misspelt edge is refused, so the real edge never passes without it', async () => {
    const registry = createGateRegistry({ hostRepo: 'acme/web', stages: DEFAULT_STAGES });
    const typo = registry.register('deploy-staging->deplyo', createSecurityGate());
    expect(typo.ok).toBe(false);
    expect(!typo.ok && typo.error.code).toBe('invalid_config');
    expect(!typo.ok && typo.error.message).toContain('"deploy-staging->deplyo"');
    // and had the host gone on regardless, the guarded edge does not pass with no gate
    const task = {
      id: 't1',
      project: 'web',
      issueId: '1',
      repo: 'acme/web',
      branch: 'task/1',
      title: 't',
      description: '',
      snapshot: {
        stage: 'deploy-staging',
        status: 'gating' as const,
        step: 2,
        developerRetries: 0,
        deferrals: 0,
        jobAttempts: 0,
      },
      version: 1,
      createdAt: 0,
      updatedAt: 0,
    };
    const verdict = await registry.runEdge('deploy-staging->deploy', {
      task,
      logger: silentLogger,
      now: () => 0,
      readOnly: false,
    });
    expect(verdict.status).not.toBe('pass');
    expect(verdict.summary).toContain('guarded');
  });

  it('a security scope that no longer holds the host repository stops the host from starting', () => {
    const loaded = loadServerSettings(env({ ORCH_SECURITY_GATE_REPOS: 'acme/shop.git' }));
    if (!loaded.ok) throw loaded.error;
    expect(() => createHost(loaded.value, { logger: silentLogger })).toThrow(
      /scope \(acme\/shop\.git\) does not contain the host's repository acme\/web/,
    );
  });

  it('the edge summary names a gate switched off, and why', async () => {
    const registry = createGateRegistry({ hostRepo: 'acme/web', stages: DEFAULT_STAGES });
    const green: Gate = { id: 'merge', run: async () => ({ status: 'pass', summary: 'merged' }) };
    registry.register('deploy-staging->deploy', createSecurityGate(), { order: 10, enabled: () => false });
    registry.register('deploy-staging->deploy', green, { order: 20 });
    const verdict = await registry.runEdge('deploy-staging->deploy', {
      task: {
        id: 't1',
        project: 'web',
        issueId: '1',
        repo: 'acme/web',
        branch: 'task/1',
        title: 't',
        description: '',
        snapshot: {
          stage: 'deploy-staging',
          status: 'gating',
          step: 2,
          developerRetries: 0,
          deferrals: 0,
          jobAttempts: 0,
        },
        version: 1,
        createdAt: 0,
        updatedAt: 0,
      },
      logger: silentLogger,
      now: () => 0,
      readOnly: false,
    });
    expect(verdict.status).toBe('pass');
    expect(verdict.summary).toBe('1 of 1 gates passed on deploy-staging->deploy; skipped: security (switched off)');
  });
});
