export {
  type FakeOsv,
  type FakeOsvAdvisory,
  type FakeOsvOptions,
  type FakeOsvQuery,
  fakeOsvCompareVersions,
  fakeOsvMatches,
  loadOsvAdvisories,
  startFakeOsv,
} from './fake-osv.js';
