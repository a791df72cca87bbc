export {
  type FakeGitea,
  type FakeGiteaOptions,
  type FakeGiteaPull,
  type FakeGiteaStatus,
  startFakeGitea,
} from './fake-gitea.js';
export { type ForgeSubject, type ForgeSubjectFactory, forgeConformance } from './forge-conformance.js';
export {
  type GitBackedGitea,
  type GitBackedGiteaOptions,
  type GitGiteaPull,
  type GitPush,
  startGitBackedGitea,
} from './git-gitea.js';
export {
  BUILTIN_GITEA_SPEC,
  commitStateEnum,
  type GiteaSpecSource,
  loadGiteaSpec,
  type SwaggerParameter,
  type SwaggerSchema,
  type SwaggerSpec,
  validateRequestBody,
} from './swagger-validator.js';
