import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  auditDependencies,
  isAuditedLockfile,
  osvAffects,
  parseLockfile,
  registryTarballPackage,
  unauditedLockfileEcosystem,
  unpinnedRequirements,
} from '../src/security/index.js';
import { BUN_LOCK, packageLock, SHRINKWRAP, YARN_BERRY, YARN_V1 } from './fixtures/audit/lockfile-texts.js';
import { TempRepo } from './fixtures/security/git-repo.js';

const PNPM_V5 = `lockfileVersion: 5.4

specifiers:
  lodash: ^4.17.15

dependencies:
  lodash: 4.17.15

packages:

  /lodash/4.17.15:
    resolution: {integrity: sha512-x}
    dev: false

  /@babel/core/7.24.0_supports-color@5.5.0:
    resolution: {integrity: sha512-y}
    dev: true

  github.com/user/repo/0123456:
    resolution: {tarball: https://codeload.github.com/user/repo/tar.gz/0123456}
    name: from-git
    version: 2.0.0
`;

const PNPM_V6 = `lockfileVersion: '6.0'

dependencies:
  lodash:
    specifier: ^4.17.15
    version: 4.17.15

packages:

  /lodash@4.17.15:
    resolution: {integrity: sha512-x}
    dev: false

  /react-dom@18.2.0(react@18.2.0):
    resolution: {integrity: sha512-y}
`;

const PNPM_V9 = `lockfileVersion: '9.0'

importers:
  .:
    dependencies:
      lodash:
        specifier: ^4.17.15
        version: 4.17.15

packages:

  lodash@4.17.15:
    resolution: {integrity: sha512-x}

  '@types/node@20.11.0':
    resolution: {integrity: sha512-y}

snapshots:

  lodash@4.17.15: {}
`;

const names = (r: ReturnType<typeof parseLockfile>) => {
  if (!r.ok) throw r.error;
  return r.value.map((p) => `${p.name}@${p.version}`);
};

describe('lockfile formats', () => {
  it('yarn.lock v1: every entry, npm: aliases by their real name, local packages skipped', () => {
    expect(names(parseLockfile('yarn.lock', YARN_V1('4.17.15')))).toEqual([
      '@babel/code-frame@7.12.13',
      'lodash@4.17.15',
      'string-width@4.2.3',
    ]);
  });

  it('yarn.lock Berry: the resolution decides, workspaces skipped', () => {
    expect(names(parseLockfile('web/yarn.lock', YARN_BERRY('4.17.15')))).toEqual([
      'lodash@4.17.15',
      'strip-ansi@6.0.1',
    ]);
  });

  it('bun.lock (JSONC with trailing commas and comments): registry packages only', () => {
    expect(names(parseLockfile('bun.lock', BUN_LOCK('4.17.15')))).toEqual(['lodash@4.17.15', 'ansi-styles@4.3.0']);
  });

  it('package-lock.json v2: `packages` and the npm 6 `dependencies` mirror are both read', () => {
    const v2 = JSON.stringify({
      lockfileVersion: 2,
      packages: { '': {}, 'node_modules/lodash': { version: '4.17.21' } },
      dependencies: {
        lodash: { version: '4.17.15' },
        aliased: { version: 'npm:minimist@1.2.5' },
        gitdep: { version: 'git+https://github.com/u/r.git#abc' },
      },
    });
    expect(names(parseLockfile('package-lock.json', v2))).toEqual([
      'lodash@4.17.21',
      'lodash@4.17.15',
      'minimist@1.2.5',
    ]);
  });

  it('npm-shrinkwrap.json reads like package-lock.json (aliases by their real name)', () => {
    expect(names(parseLockfile('npm-shrinkwrap.json', SHRINKWRAP('4.17.15')))).toEqual([
      'lodash@4.17.15',
      'minimist@1.2.6',
    ]);
  });

  it('pnpm-lock.yaml 5.4 (slash keys, _peer suffix), 6.0 (parens) and 9.0', () => {
    expect(names(parseLockfile('pnpm-lock.yaml', PNPM_V5))).toEqual([
      'lodash@4.17.15',
      '@babel/core@7.24.0',
      'from-git@2.0.0',
    ]);
    expect(names(parseLockfile('pnpm-lock.yaml', PNPM_V6))).toEqual(['lodash@4.17.15', 'react-dom@18.2.0']);
    expect(names(parseLockfile('pnpm-lock.yaml', PNPM_V9))).toEqual(['lodash@4.17.15', '@types/node@20.11.0']);
  });

  it('uv.lock, pdm.lock and Pipfile.lock (PyPI), requirements-*.txt by name', () => {
    expect(
      names(
        parseLockfile(
          'uv.lock',
          'version = 1\n\n[[package]]\nname = "app"\nversion = "0.1.0"\nsource = { editable = "." }\n\n[[package]]\nname = "Requests"\nversion = "2.30.0"\nsource = { registry = "https://pypi.org/simple" }\n',
        ),
      ),
    ).toEqual(['requests@2.30.0']);
    expect(names(parseLockfile('pdm.lock', '[[package]]\nname = "jinja2"\nversion = "3.1.2"\n'))).toEqual([
      'jinja2@3.1.2',
    ]);
    expect(
      names(
        parseLockfile(
          'Pipfile.lock',
          JSON.stringify({
            _meta: {},
            default: { urllib3: { version: '==1.26.16' } },
            develop: { pytest: { version: '*' } },
          }),
        ),
      ),
    ).toEqual(['urllib3@1.26.16']);
    expect(isAuditedLockfile('svc/requirements-dev.txt')).toBe(true);
    expect(isAuditedLockfile('node_modules/x/package-lock.json')).toBe(false);
    expect(unauditedLockfileEcosystem('crates/Cargo.lock')).toContain('Cargo');
    expect(unauditedLockfileEcosystem('constructor')).toBeUndefined();
  });
});

describe('unparsable lockfiles are errors that name the file and never quote it', () => {
  const CANARY = 'ghp_CANARYcanaryCANARYcanaryCANARY0123';
  const cases: [string, string][] = [
    ['package-lock.json', `{"packages": {"node_modules/a": {"version": "${CANARY}" oops}}}`],
    ['npm-shrinkwrap.json', `{"packages": {"node_modules/a": {"version": 4}}, "x": "${CANARY}"}`],
    ['package-lock.json', `{"packages": {"node_modules/${CANARY}": 5}}`],
    ['yarn.lock', `__metadata:\n  version: 8\n"${CANARY}@npm:1": 3\n`],
    ['bun.lock', `{"lockfileVersion": 1, "packages": {"${CANARY}": ["no-version-here"]}}`],
    ['yarn.lock', `# yarn lockfile v1\n\nlodash@^4:\n  version "4.17.15"\n${CANARY}\n`],
    ['yarn.lock', `__metadata:\n  version: 8\n"lodash@npm:^4": [${CANARY}\n`],
    ['bun.lock', `{"lockfileVersion": 1, "packages": {"a": ["${CANARY}" "x"]}}`],
    ['bun.lock', `{"lockfileVersion": 1, "packages": {"a": "${CANARY}"}}`],
    ['pnpm-lock.yaml', `lockfileVersion: '9.0'\npackages:\n  a@1: {x: [${CANARY}\n`],
    ['poetry.lock', `[[package]\nname = "${CANARY}"\n`],
    ['Pipfile.lock', `{"default": ["${CANARY}"]}`],
  ];
  it.each(cases)('%s', (file, text) => {
    const res = parseLockfile(file, text);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.message).toContain(`lockfile ${file}`);
    expect(res.error.message).not.toContain(CANARY);
    expect(JSON.stringify(res.error.details)).not.toContain(CANARY);
    expect(res.error.cause).toBeUndefined();
  });

  it('says where, when the parser knows', () => {
    const res = parseLockfile('yarn.lock', '# yarn lockfile v1\n\nlodash@^4:\n  version "4.17.15"\nnot a header\n');
    expect(!res.ok && res.error.message).toContain('line 5');
  });
});

describe('version matching fails closed', () => {
  const adv = {
    id: 'X-1',
    affected: [
      {
        package: { ecosystem: 'npm', name: 'lodash' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
      },
    ],
  };
  it('a version no range can be compared with counts as affected, uncertain', () => {
    expect(osvAffects(adv, { ecosystem: 'npm', name: 'lodash', version: 'latest' })).toEqual({
      affected: true,
      uncertain: true,
    });
    expect(osvAffects(adv, { ecosystem: 'npm', name: 'other', version: 'latest' }).affected).toBe(false);
  });

  it('the fixed hint is the fix of the range that matched', () => {
    const two = {
      id: 'X-2',
      affected: [
        {
          package: { ecosystem: 'npm', name: 'm' },
          ranges: [
            {
              type: 'SEMVER',
              events: [{ introduced: '0' }, { fixed: '0.2.4' }, { introduced: '1.0.0' }, { fixed: '1.2.6' }],
            },
          ],
        },
      ],
    };
    expect(osvAffects(two, { ecosystem: 'npm', name: 'm', version: '1.2.5' })).toEqual({
      affected: true,
      fixed: '1.2.6',
    });
    expect(osvAffects(two, { ecosystem: 'npm', name: 'm', version: '0.1.0' })).toEqual({
      affected: true,
      fixed: '0.2.4',
    });
    expect(osvAffects(two, { ecosystem: 'npm', name: 'm', version: '0.3.0' }).affected).toBe(false);
  });
});

describe('a version field cannot hide the tarball that is installed', () => {
  it('reads the package a registry tarball URL names', () => {
    const cases: [string, { name: string; version: string } | undefined][] = [
      ['https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz', { name: 'lodash', version: '4.17.15' }],
      ['https://registry.npmjs.org/@babel/core/-/core-7.24.0.tgz', { name: '@babel/core', version: '7.24.0' }],
      ['https://registry.yarnpkg.com/@babel%2fcore/-/core-7.24.0.tgz#abc', { name: '@babel/core', version: '7.24.0' }],
      ['https://registry.yarnpkg.com/qs/-/qs-6.2.3.tgz#deadbeef', { name: 'qs', version: '6.2.3' }],
      [
        'https://art.example/artifactory/api/npm/npm-remote/minimist/-/minimist-1.2.5.tgz',
        { name: 'minimist', version: '1.2.5' },
      ],
      ['git+https://github.com/u/r.git#abc', undefined],
      ['https://example.com/lodash-4.17.15.tgz', undefined],
      ['https://registry.npmjs.org/lodash/-/other-1.0.0.tgz', undefined],
      ['https://registry.npmjs.org/%E0%A4%A/-/x-1.0.0.tgz', undefined],
    ];
    for (const [url, want] of cases) expect(registryTarballPackage(url)).toEqual(want);
  });

  it('package-lock.json saying 4.17.21 while resolving the 4.17.15 tarball is audited as 4.17.15', async () => {
    const r = new TempRepo('conveyor-audit-');
    try {
      r.commit('init', { 'package-lock.json': packageLock({ lodash: '4.17.21' }) });
      r.git('checkout', '-q', '-b', 'task');
      const lying = JSON.parse(packageLock({ lodash: '4.17.21' }));
      lying.packages['node_modules/lodash'].resolved = 'https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz';
      r.commit('lie', { 'package-lock.json': JSON.stringify(lying) });
      const res = await auditDependencies({
        repoDir: r.dir,
        baseSha: r.git('rev-parse', 'main'),
        headSha: r.git('rev-parse', 'task'),
      });
      if (!res.ok) throw res.error;
      expect(res.value.vulnerabilities.map((v) => [v.pkg.name, v.pkg.version, v.status])).toEqual([
        ['lodash', '4.17.15', 'introduced'],
      ]);
    } finally {
      r.cleanup();
    }
  });

  it('yarn.lock v1 likewise', () => {
    const text = YARN_V1('4.17.21').replace('lodash-4.17.21.tgz', 'lodash-4.17.15.tgz');
    expect(names(parseLockfile('yarn.lock', text))).toContain('lodash@4.17.15');
  });
});

describe('requirements an install resolves are admitted as unchecked', () => {
  it('lists what is not pinned with ==', () => {
    expect(
      unpinnedRequirements(
        '# c\nrequests==2.31.0\nFlask>=2\nJinja2[i18n]\ndjango @ https://example.com/d.whl\n-e git+https://x/y.git#egg=y\n-r other.txt\n--hash=sha256:abc\n',
      ),
    ).toEqual(['flask', 'jinja2', 'django', '(line 6, editable)']);
  });

  it('the audit names the new unpinned requirements of a changed requirements file', async () => {
    const r = new TempRepo('conveyor-audit-');
    try {
      r.commit('init', { 'svc/requirements.txt': 'requests==2.31.0\nclick\n' });
      r.git('checkout', '-q', '-b', 'task');
      r.commit('loosen', { 'svc/requirements.txt': 'requests>=2.0\nclick\nurllib3==1.26.16\n' });
      const res = await auditDependencies({
        repoDir: r.dir,
        baseSha: r.git('rev-parse', 'main'),
        headSha: r.git('rev-parse', 'task'),
      });
      if (!res.ok) throw res.error;
      expect(res.value.unreachable).toEqual([
        'svc/requirements.txt adds 1 requirement(s) not pinned with == (requests): the versions an install resolves were not checked',
      ]);
    } finally {
      r.cleanup();
    }
  });
});

describe('no lockfile text makes the parser throw', () => {
  const files = [
    'package-lock.json',
    'npm-shrinkwrap.json',
    'yarn.lock',
    'pnpm-lock.yaml',
    'bun.lock',
    'requirements.txt',
    'poetry.lock',
    'uv.lock',
    'Pipfile.lock',
  ];
  it.each(files)('%s: any text parses or is an error naming the file', (file) => {
    const pieces = fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      '"',
      ',',
      ':',
      '\n',
      '  ',
      'version "1.0.0"',
      '__metadata:\n',
      'lockfileVersion: 5.4\n',
      '"packages": {',
      '"node_modules/a": {"version": "1", "resolved": "https://r/a/-/a-%E0.tgz"}',
      '"lockfileVersion": 1,',
      'a@^1:\n',
      'resolved "https://registry.yarnpkg.com/%/-/%-1.tgz"',
      '[[package]]\nname = "x"\nversion = "1"\n',
      '/* c */',
      '// c\n',
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pieces, fc.string()), { maxLength: 30 }), (parts) => {
        const res = parseLockfile(file, parts.join(''));
        if (!res.ok) expect(res.error.message).toContain(`lockfile ${file}`);
      }),
      { numRuns: 300 },
    );
  });
});
