/**
 * `@conveyor/testkit`: conformance suites every store and adapter runs, an
 * in-memory `Store`, and fake Plane, Gitea and Telegram servers and fake
 * Anthropic and OpenAI model servers on 127.0.0.1.
 *
 * @packageDocumentation
 */
export {
  cwdFromRequest,
  type FakeModelCall,
  type FakeModelOptions,
  type FakeModelServer,
  type FakeStep,
  type FakeToolCall,
  type FakeTurn,
  type FakeTurnContext,
  startFakeAnthropic,
  startFakeOpenAI,
} from './agents/index.js';
export { FIXTURES_MISSING_MESSAGE, sharedFixturesDir } from './fixtures.js';
export * from './gitea/index.js';
export * from './http/index.js';
export * from './plane/index.js';
export * from './store/index.js';
export * from './telegram/index.js';
