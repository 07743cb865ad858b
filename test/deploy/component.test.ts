import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/cli/config.ts';
import { envOf, kustomize, objectsOf, ROOT, schemaErrors, templateOf, writeOverlay, type Obj } from './kustomize.ts';

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** The recipe of docs/kubernetes.md, file by file, as a user copies it (each block starts with its path). */
function recipe(): Record<string, string> {
  const doc = readFileSync(join(ROOT, 'docs/kubernetes.md'), 'utf8');
  const section = /^## Adding the agent to your HAProxy$([\s\S]*?)^## /m.exec(doc)?.[1] ?? '';
  const files: Record<string, string> = {};
  for (const [, body] of section.matchAll(/```yaml\n([\s\S]*?)```/g)) {
    const path = /^# (\S+\.yaml)\n/.exec(body ?? '')?.[1];
    if (path !== undefined) files[path] = body ?? '';
  }
  expect(Object.keys(files).sort()).toEqual(['dns-agent/kustomization.yaml', 'dns-agent/settings.yaml', 'kustomization.yaml']);
  // The one line a user changes: where the component is.
  const component = /^ {2}- (\S+\/k8s\/components\/dns-agent)$/m.exec(files['dns-agent/kustomization.yaml'] ?? '')?.[1];
  expect(component, 'the recipe names the component by a path').toBeDefined();
  files['dns-agent/kustomization.yaml'] = (files['dns-agent/kustomization.yaml'] ?? '').replace(component ?? '', 'COMPONENTS/dns-agent');
  return files;
}

type Shape = Readonly<{
  kind?: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  container?: string;
  /** Extra pod spec YAML lines (indented 6), and extra container lines for HAProxy's (indented 10). */
  podSpec?: string;
  haproxyLines?: string;
  labelInFile?: boolean;
}>;

/** An HAProxy workload as users have them: a logger first, HAProxy second. */
function workload(s: Shape): string {
  const kind = s.kind ?? 'Deployment';
  return `apiVersion: apps/v1
kind: ${kind}
metadata:
  name: haproxy
  labels: { app: haproxy${s.labelInFile === true ? ', haproxy-dns-agent/sidecar: "true"' : ''} }
spec:
${kind === 'StatefulSet' ? '  serviceName: haproxy\n' : ''}  selector: { matchLabels: { app: haproxy } }
  template:
    metadata: { labels: { app: haproxy } }
    spec:
${s.podSpec ?? ''}      containers:
        - { name: logger, image: busybox:1.36 }
        - name: ${s.container ?? 'haproxy'}
          image: haproxy:3.2
          ports: [{ name: http, containerPort: 8080 }]
${s.haproxyLines ?? ''}`;
}

type Render = { ok: boolean; text: string; objects: Obj[] };

/** Renders the recipe around a workload, with edits to its files (path -> text -> text). */
function render(shape: Shape, edits: Readonly<Record<string, (text: string) => string>> = {}, extra: Record<string, string> = {}): Render {
  const files: Record<string, string> = { ...recipe(), 'haproxy.yaml': workload(shape), ...extra };
  for (const [path, edit] of Object.entries(edits)) files[path] = edit(files[path] ?? '');
  const overlay = writeOverlay(files);
  try {
    const r = kustomize(overlay.dir);
    return { ...r, objects: r.ok ? objectsOf(r.text) : [] };
  } finally {
    overlay.remove();
  }
}

const setting = (key: string, value: string) => (text: string) => text.replace(new RegExp(`^( {2}${key}: )\\S+`, 'm'), `$1${value}`);
const patchKind = (kind: string) => (text: string) => text.replaceAll('kind: Deployment', `kind: ${kind}`);

function haproxyWorkload(r: Render): { o: Obj; spec: IPodSpec; containers: Record<string, IContainer> } {
  expect(r.ok, r.text).toBe(true);
  expect(schemaErrors(r.objects)).toEqual([]);
  const o = r.objects.find((x) => x.metadata.name.endsWith('haproxy') && ['Deployment', 'StatefulSet', 'DaemonSet'].includes(x.kind));
  if (o === undefined) throw new Error(`no HAProxy workload in:\n${r.text}`);
  const spec = templateOf(o).spec;
  if (spec === undefined) throw new Error('no pod spec');
  return { o, spec, containers: Object.fromEntries(spec.containers.map((c) => [c.name, c])) };
}

/** What every served shape has: the agent last, its flags parsed, the socket's folder shared. */
function expectWired(r: Render, o: { container: string; dir: string; volume: string; socket?: string }) {
  const { o: w, spec, containers } = haproxyWorkload(r);
  const names = spec.containers.map((c) => c.name);
  expect(names).toEqual(['logger', o.container, 'dns-agent']);
  const agent = containers['dns-agent'];
  const haproxy = containers[o.container];
  if (agent === undefined || haproxy === undefined) throw new Error('containers missing');
  expect(agent.image).toBe(`haproxy-dns-agent:${PACKAGE.version}`);
  const env = envOf(agent, r.objects);
  const config = parseConfig(agent.args ?? [], env).config;
  expect(config?.backends.map((b) => b.backend)).toEqual(['be_app', 'be_api']);
  const socket = o.socket ?? `${o.dir}/admin.sock`;
  expect(config?.sockets).toEqual([{ kind: 'unix', path: socket }]);
  expect(config?.stateFile).toBe(`${o.dir}/agent.state`);
  const mount = (c: IContainer) => c.volumeMounts?.find((m) => m.mountPath === o.dir)?.name;
  expect(mount(haproxy)).toBe(o.volume);
  expect(mount(agent)).toBe(o.volume);
  expect(spec.volumes?.filter((v) => v.name === o.volume)).toHaveLength(1);
  expect(containers['logger']?.volumeMounts).toBeUndefined();
  const template = templateOf(w);
  expect(template.metadata?.annotations?.['kubectl.kubernetes.io/default-container']).toBe(o.container);
  expect(template.metadata?.labels).toEqual({ app: 'haproxy', 'haproxy-dns-agent/sidecar': 'true' });
  return { w, spec, agent, haproxy };
}

describe('k8s/components/dns-agent, through the recipe of docs/kubernetes.md', () => {
  it('adds the agent to the labelled Deployment as written: after its containers, the socket shared, HAProxy the default container', () => {
    const r = render({});
    const { spec, agent } = expectWired(r, { container: 'haproxy', dir: '/var/run/haproxy', volume: 'haproxy-run' });
    // No volume of that name in the pod: one with no source, which the API server makes an emptyDir.
    expect(spec.volumes).toEqual([{ name: 'haproxy-run' }]);
    expect(spec.securityContext?.fsGroup).toBeUndefined();
    expect(agent.securityContext?.runAsGroup).toBe(1000);
    // The settings are not deployed; the agent's ConfigMap is, under a name with its hash.
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort()).toEqual([
      'ConfigMap/haproxy-dns-agent-<hash>',
      'Deployment/haproxy',
    ]);
    expect(agent.envFrom).toEqual([
      { configMapRef: { name: expect.stringMatching(/^haproxy-dns-agent-[a-z0-9]{10}$/) as string } },
      { secretRef: { name: 'haproxy-dns-agent', optional: true } },
    ]);
  });

  it.each([
    [
      'in the file',
      { labelInFile: true },
      { 'kustomization.yaml': (t: string) => t.replace(/^patches:\n[\s\S]*?(?=^configMapGenerator:)/m, '') },
    ],
    [
      "by the kustomization's labels:",
      {},
      {
        'kustomization.yaml': (t: string) =>
          t.replace(/^patches:\n[\s\S]*?(?=^configMapGenerator:)/m, 'labels:\n  - pairs: { haproxy-dns-agent/sidecar: "true" }\n'),
      },
    ],
    ['by a patch of the same kustomization (as the recipe does)', {}, {}],
  ] as const)('serves a label set %s', (_, shape, edits) => {
    expectWired(render(shape, edits), { container: 'haproxy', dir: '/var/run/haproxy', volume: 'haproxy-run' });
  });

  it.each(['StatefulSet', 'DaemonSet'] as const)('adds the agent to a %s', (kind) => {
    const r = render({ kind }, { 'kustomization.yaml': patchKind(kind) });
    const { w } = expectWired(r, { container: 'haproxy', dir: '/var/run/haproxy', volume: 'haproxy-run' });
    expect(w.kind).toBe(kind);
  });

  it('serves an HAProxy container of another name when the settings name it, and stops, saying what to set, when they do not', () => {
    expectWired(render({ container: 'proxy' }, { 'dns-agent/settings.yaml': setting('container', 'proxy') }), {
      container: 'proxy',
      dir: '/var/run/haproxy',
      volume: 'haproxy-run',
    });
    const r = render({ container: 'haproxy-ingress' });
    expect(r.ok).toBe(false);
    expect(r.text).toContain('[name=^haproxy$|no container has this name: set container in the dns-agent settings]');
    // Matched whole: a container whose name only contains the setting's is not HAProxy's.
    expect(render({ container: 'haproxy-ingress' }, { 'dns-agent/settings.yaml': setting('container', 'ingress') }).ok).toBe(false);
  });

  it("works under the kustomization's namespace and name prefix: the settings found, the agent's ConfigMap named as renamed", () => {
    const r = render({}, { 'kustomization.yaml': (t) => `namespace: edge\nnamePrefix: team-\n${t}` });
    const { w, agent } = expectWired(r, { container: 'haproxy', dir: '/var/run/haproxy', volume: 'haproxy-run' });
    expect(w.metadata.name).toBe('team-haproxy');
    expect(agent.envFrom?.[0]?.configMapRef?.name).toMatch(/^team-haproxy-dns-agent-[a-z0-9]{10}$/);
  });

  it("keeps the pod's fsGroup", () => {
    const { spec } = expectWired(render({ podSpec: '      securityContext: { fsGroup: 2000 }\n' }), {
      container: 'haproxy',
      dir: '/var/run/haproxy',
      volume: 'haproxy-run',
    });
    expect(spec.securityContext).toEqual({ fsGroup: 2000 });
  });

  it('uses the socket volume the pod has, where HAProxy mounts it, and adds none', () => {
    const r = render(
      {
        podSpec: '      volumes: [{ name: run, emptyDir: { medium: Memory, sizeLimit: 1Mi } }]\n',
        haproxyLines: '          volumeMounts: [{ name: run, mountPath: /run/haproxy }]\n',
      },
      {
        'dns-agent/settings.yaml': (t) =>
          setting('volume', 'run')(setting('socket-dir', '/run/haproxy')(setting('socket', '/run/haproxy/stats.sock')(t))),
      },
    );
    const { spec, haproxy } = expectWired(r, {
      container: 'haproxy',
      dir: '/run/haproxy',
      volume: 'run',
      socket: '/run/haproxy/stats.sock',
    });
    expect(spec.volumes).toEqual([{ name: 'run', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }]);
    expect(haproxy.volumeMounts).toEqual([{ name: 'run', mountPath: '/run/haproxy' }]);
  });

  it("stops, rather than move it, when a mount of HAProxy's container has a name that contains the volume's", () => {
    const r = render({
      podSpec: '      volumes: [{ name: haproxy-run-cache, emptyDir: {} }]\n',
      haproxyLines: '          volumeMounts: [{ name: haproxy-run-cache, mountPath: /cache }]\n',
    });
    expect(r.ok).toBe(false);
    expect(r.text).toContain("another mount's name contains the volume's: set volume in the dns-agent settings");
  });

  it('sets the group, the image name and a digest from the settings', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const r = render(
      {},
      {
        'dns-agent/settings.yaml': (t) =>
          setting('group', '"99"')(setting('image', 'registry.example.com/haproxy-dns-agent')(setting('digest', `"${digest}"`)(t))),
      },
    );
    const { containers } = haproxyWorkload(r);
    expect(containers['dns-agent']?.image).toBe(`registry.example.com/haproxy-dns-agent:${PACKAGE.version}@${digest}`);
    expect(containers['dns-agent']?.securityContext?.runAsGroup).toBe(99);
  });

  it('leaves the workloads without the label alone, and unlabelled copies of HAProxy too', () => {
    const other = workload({}).replaceAll('haproxy', 'other').replace('image: other:3.2', 'image: haproxy:3.2');
    const r = render(
      {},
      { 'kustomization.yaml': (t) => t.replace('  - haproxy.yaml', '  - haproxy.yaml\n  - other.yaml') },
      { 'other.yaml': other },
    );
    expect(r.ok, r.text).toBe(true);
    const o = r.objects.find((x) => x.metadata.name === 'other');
    expect(o).toEqual(parse(other));
  });

  it.each([
    [
      'Pod',
      'apiVersion: v1\nkind: Pod\nmetadata: { name: debug, labels: { haproxy-dns-agent/sidecar: "true" } }\nspec: { containers: [{ name: haproxy, image: haproxy:3.2 }] }\n',
    ],
    [
      'CronJob',
      'apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: reload, labels: { haproxy-dns-agent/sidecar: "true" } }\nspec: { schedule: "@daily", jobTemplate: { spec: { template: { spec: { restartPolicy: Never, containers: [{ name: haproxy, image: haproxy:3.2 }] } } } } }\n',
    ],
  ])('stops when a %s carries the label, saying the component serves Deployments, StatefulSets and DaemonSets', (_, text) => {
    const r = render(
      {},
      { 'kustomization.yaml': (t) => t.replace('  - haproxy.yaml', '  - haproxy.yaml\n  - extra.yaml') },
      { 'extra.yaml': text },
    );
    expect(r.ok).toBe(false);
    expect(r.text).toContain('haproxy-dns-agent/sidecar is for a Deployment, StatefulSet or DaemonSet only: take it off this object');
  });

  it("adds the agent to the haproxytech chart's rendered Deployment, the chart's defaults as they are", () => {
    const chart = readFileSync(join(ROOT, 'test/fixtures/helm/haproxy-1.29.0-default.yaml'), 'utf8');
    const r = render({}, { 'haproxy.yaml': () => chart });
    expect(r.ok, r.text).toBe(true);
    expect(schemaErrors(r.objects)).toEqual([]);
    const d = r.objects.find((o) => o.kind === 'Deployment');
    if (d === undefined) throw new Error('no Deployment');
    const spec = templateOf(d).spec;
    expect(spec?.containers.map((c) => c.name)).toEqual(['haproxy', 'dns-agent']);
    const [haproxy, agent] = spec?.containers ?? [];
    const mount = (c: IContainer | undefined) => c?.volumeMounts?.find((m) => m.mountPath === '/var/run/haproxy')?.name;
    expect(mount(haproxy)).toBe('haproxy-run');
    expect(mount(agent)).toBe('haproxy-run');
    // The chart's own volume and mount stay as they were.
    expect(spec?.volumes?.map((v) => v.name).sort()).toEqual(['haproxy-config', 'haproxy-run']);
    expect(haproxy?.volumeMounts?.map((m) => m.name)).toEqual(['haproxy-config', 'haproxy-run']);
    expect(templateOf(d).metadata?.annotations?.['kubectl.kubernetes.io/default-container']).toBe('haproxy');
  });

  it('stops, naming the key, when a setting is missing', () => {
    const r = render({}, { 'dns-agent/settings.yaml': (t) => t.replace(/^ {2}group: .*\n/m, '') });
    expect(r.ok).toBe(false);
    expect(r.text).toContain('`data.group` is missing');
  });

  it('stops when listed under components:, as the component was before', () => {
    const r = render({}, { 'kustomization.yaml': (t) => t.replace('transformers:\n  - dns-agent', 'components:\n  - dns-agent') });
    expect(r.ok).toBe(false);
    expect(r.text).toMatch(/expected kind 'Component'/);
  });
});
