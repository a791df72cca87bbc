// `npm run demo`: the whole pipeline, end to end, on this machine.
//   --only <part>   run one part: parallel, leak, staging, freshness, reaper, replay, card, agent
//   --locale ru     the card in Russian (default en)
//   --keep          keep the temp folder and print where it is
import { parseArgs } from 'node:util';
import type { CardLocale } from '@conveyor/adapter-telegram';
import { DEMO_PARTS, type DemoPart, runDemo, summarize } from './demo.js';

const usage = `usage: npm run demo -- [--only <${DEMO_PARTS.join('|')}>] [--locale en|ru] [--keep]`;
let values: { only?: string; locale?: string; keep?: boolean };
try {
  values = parseArgs({
    options: { only: { type: 'string' }, locale: { type: 'string' }, keep: { type: 'boolean' } },
    strict: true,
  }).values;
} catch (thrown) {
  process.stderr.write(`${thrown instanceof Error ? thrown.message : String(thrown)}\n${usage}\n`);
  process.exit(2);
}
if (values.only !== undefined && !DEMO_PARTS.includes(values.only as DemoPart)) {
  process.stderr.write(`unknown part "${values.only}"\n${usage}\n`);
  process.exit(2);
}
if (values.locale !== undefined && values.locale !== 'en' && values.locale !== 'ru') {
  process.stderr.write(`unknown locale "${values.locale}"\n${usage}\n`);
  process.exit(2);
}
try {
  const result = await runDemo({
    keep: values.keep === true,
    ...(values.only === undefined ? {} : { parts: [values.only as DemoPart] }),
    ...(values.locale === undefined ? {} : { locale: values.locale as CardLocale }),
  });
  const { lines, ok } = summarize(result);
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (values.keep) process.stdout.write(`kept ${result.dir}\n`);
  process.exit(ok ? 0 : 1);
} catch (thrown) {
  process.stderr.write(`demo failed: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}\n`);
  process.exit(1);
}
