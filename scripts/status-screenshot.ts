/**
 * `npm run screenshot`: docs/status.png, the status page as a person sees it. Starts the
 * end-to-end rig of test/e2e/status.test.ts (BIND, HAProxy and the built agent, from
 * PATH), waits until the page shows every case, and has headless Chromium take the
 * picture. Needs `chromium` (Debian: apt-get install -y chromium), or CHROMIUM=<path>.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PodState } from '../src/agent/status-shape.ts';
import { getModel, StatusRig } from '../test/support/status-rig.ts';
import { tempRoot } from '../test/support/temp-root.ts';

const OUT = fileURLToPath(new URL('../docs/status.png', import.meta.url));
/** Every case the picture is there to show, on be_app and be_drain. */
const WANTED: readonly PodState[] = ['draining', 'in-force', 'over-cap', 'refused', 'waiting-check'];

async function main(): Promise<number> {
  const chromium = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
  if (spawnSync(chromium, ['--version']).error !== undefined) {
    process.stderr.write(`screenshot: ${chromium} not found: install Chromium (apt-get install -y chromium) or set CHROMIUM=<path>\n`);
    return 2;
  }
  // HAProxy's and BIND's folders, the sockets and Chromium's profile all go under one folder, removed at the end.
  const removeTemp = tempRoot('hda-screenshot-');
  const rig = new StatusRig();
  const profile = mkdtempSync(join(tmpdir(), 'hda-chromium-'));
  try {
    await rig.start();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const m = await getModel(rig.url).catch(() => null);
      const states = new Set(m?.backends.flatMap((b) => b.sockets.flatMap((s) => s.pods.rows.map((r) => r.state))) ?? []);
      if (WANTED.every((s) => states.has(s))) break;
      if (Date.now() > deadline) throw new Error(`the page did not show ${WANTED.join(', ')} within 30 s`);
      await new Promise((r) => setTimeout(r, 300));
    }
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        '--window-size=1400,1500',
        `--screenshot=${OUT}`,
        `${rig.url}/status`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (r.status !== 0) throw new Error(`chromium exited ${String(r.status)}: ${r.stderr.slice(-500)}`);
    process.stdout.write(`screenshot: wrote ${OUT}\n`);
    return 0;
  } finally {
    await rig.stop();
    rmSync(profile, { recursive: true, force: true });
    removeTemp();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`screenshot: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
