// Writes the flag table of docs/flags.md from src/cli/flags.ts: `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { README_FLAGS_END, README_FLAGS_START } from '../src/cli/flags.ts';
import { flagsDocTable } from './flags-doc.ts';

const path = new URL('../docs/flags.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
const start = doc.indexOf(README_FLAGS_START);
const end = doc.indexOf(README_FLAGS_END);
if (start < 0 || end < start) {
  process.stderr.write(`docs/flags.md: expected the markers ${README_FLAGS_START} and ${README_FLAGS_END} around the flag table\n`);
  process.exit(1);
}
writeFileSync(path, `${doc.slice(0, start + README_FLAGS_START.length)}\n${flagsDocTable()}\n${doc.slice(end)}`);
