// `npm run demo`: the whole pipeline, end to end, on this machine.
import { runDemo, summarize } from './demo.js';

const keep = process.argv.includes('--keep');
try {
  const result = await runDemo({ keep });
  const { lines, ok } = summarize(result);
  for (const line of lines) process.stdout.write(`${line}\n`);
  if (keep) process.stdout.write(`kept ${result.dir}\n`);
  process.exit(ok ? 0 : 1);
} catch (thrown) {
  process.stderr.write(`demo failed: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}\n`);
  process.exit(1);
}
