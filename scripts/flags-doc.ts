// The flag table of docs/flags.md: src/cli/flags.ts's table, its links pointing at the
// documents that hold what they name (--help has the text, without links).
import { flagsTable } from '../src/cli/flags.ts';

/** Where an anchor of the flag texts lives, from docs/. */
const LINKS: Readonly<Record<string, string>> = {
  '#security': 'security.md',
  '#probes': 'kubernetes.md#probes',
  '#status-page': 'status.md',
  '#slots-and-dynamic-servers': 'behaviour.md#slots-and-dynamic-servers',
  '#slow-or-busy-dns-servers': 'behaviour.md#slow-or-busy-dns-servers',
};

/** The table as docs/flags.md shows it. */
export function flagsDocTable(): string {
  return flagsTable().replace(/\]\((#[\w-]+)\)/g, (link, anchor: string) => {
    const to = LINKS[anchor];
    return to === undefined ? link : `](${to})`;
  });
}
