export {
  type FakeHandler,
  type FakeHttpServer,
  type FakeReply,
  type Fault,
  type RecordedRequest,
  startFakeHttpServer,
} from './fake-server.js';
