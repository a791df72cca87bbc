import { join } from 'node:path';
import { type FakeModelServer, type FakeTurnContext, startFakeAnthropic } from '@conveyor/testkit';

/** The API key the demo's Claude Code sends to the scripted model server (fake; nothing leaves 127.0.0.1). */
export const DEMO_MODEL_KEY = ['sk-ant-api03', 'ConveyorDemoKey', '00000000deadbeef'].join('-');

/** What the scripted model has Claude Code write for DEMO-8: a feature and its test. */
export const AGENT_FILES: Readonly<Record<string, string>> = Object.freeze({
  'src/hello.js':
    "import { greet } from './greet.js';\n\nexport function hello(name) {\n  return greet(name) + ' Welcome!';\n}\n",
  'test/hello.test.js':
    "import assert from 'node:assert/strict';\nimport { hello } from '../src/hello.js';\n\nassert.equal(hello('Ada'), 'Hello, Ada! Welcome!');\n",
});

/** One model turn: read `src/greet.js`, write the feature, write its test, finish (by how far the conversation is). */
function turn({ body, request, cwd }: FakeTurnContext) {
  const step = (Array.isArray(body.messages) ? body.messages : []).filter(
    (m) => (m as { role?: string }).role === 'assistant',
  ).length;
  if (!request.body.includes('# Implement')) return { text: 'Nothing to do for this prompt.' };
  const [feature, test] = Object.entries(AGENT_FILES);
  if (step === 0)
    return {
      text: 'I will build hello(name) on top of greet(name); first I read it.',
      tool: { kind: 'raw' as const, name: 'Read', input: { file_path: join(cwd ?? '/', 'src/greet.js') } },
    };
  if (step === 1 && feature) return { tool: { kind: 'write' as const, path: feature[0], content: feature[1] } };
  if (step === 2 && test) return { tool: { kind: 'write' as const, path: test[0], content: test[1] } };
  return { text: 'Added hello(name), built on greet(name), with a test.' };
}

/**
 * A model server on 127.0.0.1 that follows the Anthropic Messages API and is
 * scripted for DEMO-8's development job, so the real Claude Code CLI runs with
 * no account and no network.
 */
export function startScriptedClaude(): Promise<FakeModelServer> {
  return startFakeAnthropic({ apiKey: DEMO_MODEL_KEY, script: Array.from({ length: 20 }, () => turn) });
}
