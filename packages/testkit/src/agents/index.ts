export { startFakeAnthropic } from './fake-anthropic.js';
export { startFakeOpenAI } from './fake-openai.js';
export {
  cwdFromRequest,
  type FakeModelCall,
  type FakeModelOptions,
  type FakeModelServer,
  type FakeStep,
  type FakeToolCall,
  type FakeTurn,
  type FakeTurnContext,
} from './model-script.js';
