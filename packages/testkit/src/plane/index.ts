export {
  type FakePlane,
  type FakePlaneComment,
  type FakePlaneIssue,
  type FakePlaneIssueSeed,
  type FakePlaneOptions,
  type FakePlaneState,
  type FakePlaneStateSeed,
  startFakePlane,
} from './fake-plane.js';
export {
  type PlaneWebhookPayload,
  pythonJsonDumps,
  type SendPlaneWebhookOptions,
  type SentPlaneWebhook,
  sendPlaneWebhook,
  signPlaneWebhook,
} from './plane-webhook-sender.js';
export {
  type TrackerSeedIssue,
  type TrackerSubject,
  type TrackerSubjectFactory,
  type TrackerSubjectFake,
  trackerConformance,
} from './tracker-conformance.js';
