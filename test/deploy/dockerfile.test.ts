import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

// No Docker engine here: check the runtime stage's instructions, then run its file list,
// built from a clean production install, the way its ENTRYPOINT does.
describe('Dockerfile', () => {
  it('runs as a non-root user, on Node.js 24, with the agent as its entrypoint', () => {
    expect(dockerfile).toMatch(/^FROM node:24\S* AS build$/m);
    expect(runtime).toMatch(/^FROM \S*nodejs24\S* AS runtime$/m);
    expect(runtime).toMatch(/^USER 65532:65532$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/nodejs\/bin\/node", "--max-semi-space-size=1", "--max-opt=1", "\/app\/dist\/main\.js"\]$/m);
    expect(dockerfile).toContain('npm prune --omit=dev');
  });

  it('copies exactly what the agent needs to run, and that runs', () => {
    const copies = [...runtime.matchAll(/^COPY --from=build \/src\/(\S+) \.\/(\S+)$/gm)].map((m) => m[1]);
    expect(copies.sort()).toEqual(['dist', 'node_modules', 'package.json']);
    const app = mkdtempSync(join(tmpdir(), 'hda-image-'));
    cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
    cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    // From npm's cache, which the project's own `npm ci` filled: the test needs no network.
    const install = spawnSync('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(install.status, install.stderr).toBe(0);
    cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
    const version = spawnSync(process.execPath, ['--max-semi-space-size=1', '--max-opt=1', join(app, 'dist/main.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    const usage = spawnSync(process.execPath, [join(app, 'dist/main.js')], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    const du = spawnSync('du', ['-sk', app], { encoding: 'utf8' });
    process.stdout.write(`image application layer (dist + production node_modules): ${du.stdout.split('\t')[0] ?? '?'} KiB\n`);
  }, 120_000);
});
