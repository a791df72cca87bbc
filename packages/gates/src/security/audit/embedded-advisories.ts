import type { OsvAdvisory } from './osv.js';

// Conveyor's own offline advisories, written here in OSV format from public
// CVE facts (package, affected range, fixed version). A small, stable set so
// the audit works with no network; point `securityAdvisoryDir` at a full OSV
// mirror for real coverage. Kept as a module so it works from src and dist.

/** The embedded advisories (OSV format, ids prefixed `CONVEYOR-`). */
export const EMBEDDED_ADVISORIES: readonly OsvAdvisory[] = Object.freeze([
  {
    id: 'CONVEYOR-2021-0001',
    aliases: ['CVE-2021-23337'],
    summary: 'lodash: command injection through the template function',
    database_specific: { severity: 'HIGH' },
    affected: [
      {
        package: { ecosystem: 'npm', name: 'lodash' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.21' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2021-0002',
    aliases: ['CVE-2021-44906'],
    summary: 'minimist: prototype pollution',
    database_specific: { severity: 'CRITICAL' },
    affected: [
      {
        package: { ecosystem: 'npm', name: 'minimist' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.2.4' }] }],
      },
      {
        package: { ecosystem: 'npm', name: 'minimist' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '1.0.0' }, { fixed: '1.2.6' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2022-0001',
    aliases: ['CVE-2022-0235'],
    summary: 'node-fetch: exposure of sensitive headers on redirect to another host',
    database_specific: { severity: 'HIGH' },
    affected: [
      {
        package: { ecosystem: 'npm', name: 'node-fetch' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.6.7' }] }],
      },
      {
        package: { ecosystem: 'npm', name: 'node-fetch' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '3.0.0' }, { fixed: '3.1.1' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2023-0001',
    aliases: ['CVE-2023-45857'],
    summary: 'axios: XSRF-TOKEN header leaked to third-party hosts',
    database_specific: { severity: 'MODERATE' },
    affected: [
      {
        package: { ecosystem: 'npm', name: 'axios' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0.8.1' }, { fixed: '1.6.0' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2022-0002',
    aliases: ['CVE-2022-24999'],
    summary: 'qs: prototype poisoning through crafted query strings',
    database_specific: { severity: 'HIGH' },
    affected: [
      {
        package: { ecosystem: 'npm', name: 'qs' },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '6.2.4' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2023-0002',
    aliases: ['CVE-2023-32681'],
    summary: 'requests: Proxy-Authorization header leaked on redirects',
    database_specific: { severity: 'MODERATE' },
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'requests' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.3.0' }, { fixed: '2.31.0' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2020-0001',
    aliases: ['CVE-2020-14343'],
    summary: 'PyYAML: arbitrary code execution through full_load',
    database_specific: { severity: 'CRITICAL' },
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'pyyaml' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.4' }] }],
      },
    ],
  },
  {
    id: 'CONVEYOR-2024-0001',
    aliases: ['CVE-2024-22195'],
    summary: 'Jinja2: cross-site scripting through the xmlattr filter',
    database_specific: { severity: 'MODERATE' },
    affected: [
      {
        package: { ecosystem: 'PyPI', name: 'jinja2' },
        ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.1.3' }] }],
      },
    ],
  },
]);
