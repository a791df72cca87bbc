// Prints docs/settings.md: every ORCH_* setting of the packages and of the
// example host, with its default and description, from the zod schemas.
// `npm run docs:settings` regenerates it; a test keeps it in step.
import { coreSettingsSchema, describeSettings, type SettingDescription } from '@conveyor/core';
import { mergeSettingsSchema, securitySettingsSchema, stagingSettingsSchema } from '@conveyor/gates';
import { sqliteSettingsSchema } from '@conveyor/store-sqlite';
import { hostSettingsSchema } from '../examples/server/src/settings.js';

const SECTIONS = [
  ['Core: daemons, caps, gate kill-switches and scopes (`@conveyor/core`, `loadCoreSettings`)', coreSettingsSchema],
  ['Security gate (`@conveyor/gates`, `securitySettingsSchema`)', securitySettingsSchema],
  ['Merge gate (`@conveyor/gates`, `mergeSettingsSchema`)', mergeSettingsSchema],
  ['Staging verdict (`@conveyor/gates`, `stagingSettingsSchema`)', stagingSettingsSchema],
  ['SQLite store (`@conveyor/store-sqlite`, `sqliteSettingsSchema`)', sqliteSettingsSchema],
  ['The example host (`examples/server`)', hostSettingsSchema],
] as const;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function settingsDoc(): string {
  const seen = new Set<string>();
  const out = [
    '# Settings reference',
    '',
    'Generated from the settings schemas by `npm run docs:settings`; do not edit by hand.',
    'Every setting is an environment variable with the `ORCH_` prefix. Booleans take',
    '`true/false/1/0/yes/no`, lists are comma-separated, maps are `key=value,key=value`.',
    'A setting read by two packages (a gate’s kill-switch, say) is listed once.',
    '',
  ];
  for (const [title, schema] of SECTIONS) {
    const rows = describeSettings(schema).filter((s: SettingDescription) => !seen.has(s.env));
    for (const s of rows) seen.add(s.env);
    if (rows.length === 0) continue;
    out.push(`## ${title}`, '', '| variable | default | what it does |', '|---|---|---|');
    for (const s of rows) {
      const value = s.required
        ? '**required**'
        : s.default === undefined || s.default === ''
          ? '—'
          : `\`${cell(s.default)}\``;
      out.push(`| \`${s.env}\` | ${value} | ${cell(s.description || '(undocumented)')} |`);
    }
    out.push('');
  }
  return `${out.join('\n')}`;
}

if (process.argv[1]?.endsWith('settings-doc.ts')) process.stdout.write(settingsDoc());
