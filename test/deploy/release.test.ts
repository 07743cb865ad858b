import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderExample } from '../../scripts/render-examples.ts';
import { objectsOf, ROOT, schemaErrors } from './kustomize.ts';

/** Every file that names the release's version, and what `scripts/release version` writes. */
const VERSIONED = [
  'package.json',
  'package-lock.json',
  'Dockerfile',
  'k8s/components/dns-agent/transformers/transformers.yaml',
  'helm/haproxytech-haproxy/values.yaml',
  'monitoring/alerts.rules.yml',
  'monitoring/alerts.test.yml',
  'k8s/components/monitoring/prometheus-rule.yaml',
  'README.md',
];

/** The version each place names, in a tree rooted at `root` (several where a file names it more than once). */
function versionsIn(root: string): Record<string, string[]> {
  const read = (f: string) => readFileSync(join(root, f), 'utf8');
  const all = (f: string, re: RegExp) => [...read(f).matchAll(re)].map((m) => m[1] ?? '');
  const lock = JSON.parse(read('package-lock.json')) as { version: string; packages: Record<string, { version?: string }> };
  const imageTag = parseAllDocuments(read(VERSIONED[3] ?? ''))
    .map((d) => d.toJS() as { kind: string; imageTag?: { newTag: string } })
    .find((t) => t.kind === 'ImageTagTransformer')?.imageTag?.newTag;
  return {
    'package.json': [(JSON.parse(read('package.json')) as { version: string }).version],
    'package-lock.json': [lock.version, lock.packages['']?.version ?? ''],
    'Dockerfile ARG VERSION': all('Dockerfile', /^ARG VERSION=(\S+)$/gm),
    'the component image tag': [imageTag ?? ''],
    'the Helm values image': all('helm/haproxytech-haproxy/values.yaml', /haproxy-dns-agent:(\d[^@\s]*)/g),
    'the runbook base of the rules': all('monitoring/alerts.rules.yml', /runbook_url: https:\/\/unpkg\.com\/haproxy-dns-agent@([^/]+)\//g),
    'the runbook base of their tests': all('monitoring/alerts.test.yml', /haproxy-dns-agent@([^/]+)\/docs\//g),
    'the runbook base of the PrometheusRule': all('k8s/components/monitoring/prometheus-rule.yaml', /haproxy-dns-agent@([^/]+)\/docs\//g),
    "the README's image": all('README.md', /haproxy-dns-agent:(\d\S*)/g),
  };
}

function expectOneVersion(root: string, version: string) {
  const found = versionsIn(root);
  for (const [where, versions] of Object.entries(found)) {
    expect(versions.length, where).toBeGreaterThan(0);
    expect(new Set(versions), where).toEqual(new Set([version]));
  }
}

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the release', () => {
  it(`names one version everywhere: the image tag, the component's tag, the runbooks and --version (${VERSION})`, () => {
    expect(VERSION).toBe('0.2.0');
    expectOneVersion(ROOT, VERSION);
    const r = spawnSync(process.execPath, [join(ROOT, 'dist/main.js'), '--version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(VERSION);
  });

  it('has a CHANGELOG section for the version, with its upgrade notes, under an Unreleased section', () => {
    const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
    const sections = [...changelog.matchAll(/^## (.+)$/gm)].map((m) => m[1] ?? '');
    expect(sections[0]).toBe('Unreleased');
    expect(sections).toContain(VERSION);
    const section = new RegExp(`^## ${VERSION.replaceAll('.', '\\.')}\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'm').exec(changelog)?.[1] ?? '';
    expect(section).toMatch(/^### Upgrading$/m);
  });

  it('writes a new version into every place that names it (scripts/release version)', () => {
    const work = mkdtempSync(join(tmpdir(), 'hda-release-'));
    try {
      for (const f of [...VERSIONED, 'scripts/release']) {
        mkdirSync(dirname(join(work, f)), { recursive: true });
        cpSync(join(ROOT, f), join(work, f));
      }
      const r = spawnSync(join(work, 'scripts/release'), ['version', '9.10.11'], { encoding: 'utf8', cwd: work });
      expect(r.status, r.stderr).toBe(0);
      expectOneVersion(work, '9.10.11');
      const bad = spawnSync(join(work, 'scripts/release'), ['version', 'v1'], { encoding: 'utf8', cwd: work });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('expected X.Y.Z');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('renders each example into one install file that names, and does not hold, the Secrets you create', () => {
    const { text } = renderExample('web', VERSION);
    const objects = objectsOf(text).filter((o) => (o as unknown) !== null);
    expect(schemaErrors(objects)).toEqual([]);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(text).toContain(
      'kubectl create secret generic haproxy-secrets --from-literal=dynamic-cookie-key=... --from-literal=stats-password=...',
    );
    expect(text).toMatch(/^ +name: haproxy-secrets$/m); // referenced by its own name
    expect(text).not.toContain('haproxy-secrets-'); // not a generated one's
    expect(text).toContain(`image: haproxy-dns-agent:${VERSION}`);
  });
});
