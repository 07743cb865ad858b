import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { nodeFlags } from '../../src/v8-flags.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const build = dockerfile.slice(dockerfile.indexOf('\nFROM '), dockerfile.lastIndexOf('\nFROM '));
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };

/** The default of a build argument declared before the first FROM. */
const argDefault = (name: string): string => new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1] ?? '';
/** The Node.js major version an image reference names (`node:24-...`, `.../nodejs24-...`). */
const nodeMajor = (image: string): number => Number(/(?:node:|nodejs)(\d+)/.exec(image)?.[1]);
const lineOf = (text: string, pattern: RegExp): number => text.split('\n').findIndex((l) => pattern.test(l));

// No Docker engine here: check the instructions, then run the runtime stage's file list,
// built from a clean production install, the way its ENTRYPOINT does.
describe('Dockerfile', () => {
  it('builds on Node.js 24 and runs on distroless Node.js 24, both base images build arguments, as a non-root user', () => {
    expect(nodeMajor(argDefault('BUILD_IMAGE'))).toBe(24);
    expect(argDefault('BUILD_IMAGE')).toMatch(/^node:24\S*$/);
    expect(argDefault('RUNTIME_IMAGE')).toMatch(/distroless\/nodejs24\S*:nonroot$/);
    // On the build machine's platform: the target's stage only copies.
    expect(build).toMatch(/^FROM --platform=\$BUILDPLATFORM \$\{BUILD_IMAGE\} AS build$/m);
    expect(runtime).not.toMatch(/^RUN /m);
    expect(runtime).toMatch(/^FROM --platform=\$TARGETPLATFORM \$\{RUNTIME_IMAGE\} AS runtime$/m);
    expect(runtime).toMatch(/^USER 65532:65532$/m);
  });

  it("passes the Node.js flags of src/v8-flags.ts for the runtime image's Node.js major: SIGUSR1 opens no inspector", () => {
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
    const flags = nodeFlags(nodeMajor(argDefault('RUNTIME_IMAGE')));
    expect(flags).toContain('--disable-sigusr1');
    expect(entrypoint).toEqual(['/nodejs/bin/node', ...flags, '/app/dist/main.js']);
  });

  it('installs the dependencies before it copies the code, and prunes the development ones after the build', () => {
    const manifests = lineOf(build, /^COPY package\.json package-lock\.json \.\/$/);
    const install = lineOf(build, /^RUN npm ci\b/);
    const code = lineOf(build, /^COPY src /);
    const compile = lineOf(build, /^RUN npm run build\b/);
    expect(manifests).toBeGreaterThan(0);
    expect([manifests, install, code, compile]).toEqual([...[manifests, install, code, compile]].sort((a, b) => a - b));
    expect(new Set([manifests, install, code, compile]).size).toBe(4);
    expect(build.slice(build.indexOf('RUN npm run build'))).toContain('npm prune --omit=dev');
  });

  it('builds on the build platform only what runs anywhere: no production dependency has native code or an install script', () => {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean; gypfile?: boolean; os?: string[]; cpu?: string[] }>;
    };
    const production = Object.entries(lock.packages).filter(([name, p]) => name !== '' && p.dev !== true);
    expect(production.length).toBeGreaterThan(0);
    expect(
      production
        .filter(([, p]) => p.hasInstallScript === true || p.gypfile === true || p.os !== undefined || p.cpu !== undefined)
        .map(([n]) => n),
    ).toEqual([]);
  });

  it('labels the image (OCI) with its name, version, license and source', () => {
    for (const label of ['title', 'description', 'version', 'licenses', 'source'])
      expect(runtime, label).toMatch(new RegExp(`org\\.opencontainers\\.image\\.${label}=`));
    expect(runtime).toContain(`org.opencontainers.image.licenses="${PACKAGE.license}"`);
    expect(runtime).toMatch(/^ARG VERSION=(\S+)$/m);
    expect(/^ARG VERSION=(\S+)$/m.exec(runtime)?.[1]).toBe(PACKAGE.version);
  });

  it('ships the license package.json names, and the build context holds what the build copies and no more', () => {
    expect(PACKAGE.license).toBe('Apache-2.0');
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignore[0]).toBe('*'); // everything out, then only what the build needs back in
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] ?? '').split(' '));
    expect(copied.length).toBeGreaterThan(0);
    for (const f of copied) {
      expect(allowed, `${f} is in the build context`).toContain(f);
      expect(existsSync(join(ROOT, f)), f).toBe(true);
    }
    expect(allowed.sort()).toEqual([...new Set(copied)].sort());
  });

  it('copies exactly what the agent needs to run, and that runs', () => {
    const copies = [...runtime.matchAll(/^COPY --from=build \/src\/(\S+) \.\/(\S+)$/gm)].map((m) => m[1]);
    expect(copies.sort()).toEqual(['dist', 'node_modules', 'package.json']);
    const app = mkdtempSync(join(tmpdir(), 'hda-image-'));
    try {
      cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
      cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
      // From npm's cache, which the project's own `npm ci` filled: the test needs no network.
      const install = spawnSync('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: app,
        encoding: 'utf8',
      });
      expect(install.status, install.stderr).toBe(0);
      cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
      const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1] ?? '[]') as string[];
      const flags = entrypoint.slice(1, -1);
      const version = spawnSync(process.execPath, [...flags, join(app, 'dist/main.js'), '--version'], { encoding: 'utf8' });
      expect(version.stdout.trim()).toBe(PACKAGE.version);
      const usage = spawnSync(process.execPath, [join(app, 'dist/main.js')], { encoding: 'utf8' });
      expect(usage.status).toBe(2);
      const du = spawnSync('du', ['-sk', app], { encoding: 'utf8' });
      process.stdout.write(`image application layer (dist + production node_modules): ${du.stdout.split('\t')[0] ?? '?'} KiB\n`);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  }, 120_000);
});

/** scripts/build-image with a stand-in engine that prints its arguments, one a line, and only `engines` on PATH. */
function buildImage(
  engines: readonly string[],
  env: Record<string, string> = {},
): { status: number | null; args: string[]; stderr: string } {
  const bash = spawnSync('bash', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
  const bin = mkdtempSync(join(tmpdir(), 'hda-engine-'));
  try {
    mkdirSync(bin, { recursive: true });
    for (const engine of engines) {
      // `docker version` answers: its daemon runs.
      writeFileSync(join(bin, engine), `#!${bash}\n[ "$1" = version ] && exit 0\nprintf '%s\\n' "$@"\n`);
      chmodSync(join(bin, engine), 0o755);
    }
    const r = spawnSync(bash, [join(ROOT, 'scripts/build-image'), '--platform', 'linux/arm64'], {
      cwd: tmpdir(), // the script finds the repository from its own path
      env: { PATH: bin, ...env },
      encoding: 'utf8',
    });
    return { status: r.status, args: r.stdout.split('\n').filter(Boolean), stderr: r.stderr };
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

describe('scripts/build-image', () => {
  const transformers = parseAllDocuments(readFileSync(join(ROOT, 'k8s/components/dns-agent/transformers/transformers.yaml'), 'utf8')).map(
    (d) => d.toJS() as { kind: string; imageTag?: { name: string; newName?: string; newTag?: string } },
  );
  const entry = transformers.find((t) => t.kind === 'ImageTagTransformer')?.imageTag;

  it("names the image as the component's image transformer does, its tag the package's version", () => {
    expect(entry?.newTag).toBe(PACKAGE.version);
    const r = buildImage(['docker']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.args.slice(0, 3)).toEqual(['build', '--tag', `${entry?.newName ?? entry?.name ?? ''}:${entry?.newTag ?? ''}`]);
    expect(r.args).toContain(`VERSION=${PACKAGE.version}`);
    expect(r.args.slice(-3)).toEqual(['--platform', 'linux/arm64', '.']); // its own flags pass through
  });

  it('passes the base images and the name it is given', () => {
    const r = buildImage(['docker'], {
      IMAGE: 'registry.example.com/team/haproxy-dns-agent:test',
      BUILD_IMAGE: 'mirror.example.com/library/node:24-slim',
      RUNTIME_IMAGE: 'mirror.example.com/nodejs24:nonroot',
    });
    expect(r.args.slice(0, 3)).toEqual(['build', '--tag', 'registry.example.com/team/haproxy-dns-agent:test']);
    expect(r.args.join(' ')).toContain('--build-arg BUILD_IMAGE=mirror.example.com/library/node:24-slim');
    expect(r.args.join(' ')).toContain('--build-arg RUNTIME_IMAGE=mirror.example.com/nodejs24:nonroot');
  });

  it('takes podman when there is no docker, and names the image as docker would', () => {
    const r = buildImage(['podman']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.args.slice(0, 3)).toEqual(['build', '--tag', `docker.io/library/haproxy-dns-agent:${PACKAGE.version}`]);
    // podman 4.3 sets neither platform argument: the target is the --platform given, the build stage this machine's.
    expect(r.args.join(' ')).toContain('--build-arg TARGETPLATFORM=linux/arm64');
    expect(r.args.join(' ')).toMatch(/--build-arg BUILDPLATFORM=linux\/\w+/);
  });

  it('says in one line that it needs docker or podman', () => {
    const r = buildImage([]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^scripts\/build-image: neither docker nor podman is on PATH/)]);
  });
});
