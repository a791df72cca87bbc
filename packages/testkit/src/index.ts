/**
 * `@conveyor/testkit`: conformance suites every store and adapter runs, an
 * in-memory `Store`, fake Plane, Gitea (in memory or over real git), Telegram and
 * OSV servers, fake Anthropic and OpenAI model servers on 127.0.0.1, and a local
 * git forge (a bare repository playing the forge).
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
export {
  createLocalGitForge,
  type LocalGitForge,
  type LocalGitForgeOptions,
  type LocalGitIdentity,
  type LocalPullRequest,
} from './forge/local-git-forge.js';
export * from './gitea/index.js';
export * from './http/index.js';
export {
  type FakeOsv,
  type FakeOsvAdvisory,
  type FakeOsvOptions,
  type FakeOsvQuery,
  fakeOsvCompareVersions,
  fakeOsvMatches,
  loadOsvAdvisories,
  startFakeOsv,
} from './osv/index.js';
export * from './plane/index.js';
export * from './store/index.js';
export * from './telegram/index.js';
