// Writes the README's flag table from src/cli/flags.ts: `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { flagsTable, README_FLAGS_END, README_FLAGS_START } from '../src/cli/flags.ts';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf(README_FLAGS_START);
const end = readme.indexOf(README_FLAGS_END);
if (start < 0 || end < start) {
  process.stderr.write(`README.md: expected the markers ${README_FLAGS_START} and ${README_FLAGS_END} around the flag table\n`);
  process.exit(1);
}
writeFileSync(path, `${readme.slice(0, start + README_FLAGS_START.length)}\n${flagsTable()}\n${readme.slice(end)}`);
