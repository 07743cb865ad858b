import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IVolume } from 'kubernetes-models/v1/Volume';
import type { IVolumeMount } from 'kubernetes-models/v1/VolumeMount';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/cli/config.ts';
import { envOf, objectsOf, ROOT, schemaErrors, templateOf } from './kustomize.ts';

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const VALUES_FILE = 'helm/haproxytech-haproxy/values.yaml';
const CHART_VERSION = '1.29.0';

type Values = {
  podSecurityContext: Record<string, unknown>;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  extraVolumes: IVolume[];
  extraVolumeMounts: IVolumeMount[];
  sidecarContainers: IContainer[];
  config: string;
};
const values = parse(readFileSync(join(ROOT, VALUES_FILE), 'utf8')) as Values;

describe(VALUES_FILE, () => {
  it(`names the chart version it was checked against, the one the rendered fixtures come from (${CHART_VERSION})`, () => {
    expect(readFileSync(join(ROOT, VALUES_FILE), 'utf8')).toContain(`chart version ${CHART_VERSION}`);
    expect(readFileSync(join(ROOT, 'docs/helm.md'), 'utf8')).toContain(CHART_VERSION);
  });

  it.each(['Deployment', 'DaemonSet'])('renders, through the chart (%s), a pod with the agent wired to HAProxy', (kind) => {
    const file = `test/fixtures/helm/haproxy-${CHART_VERSION}-agent${kind === 'DaemonSet' ? '-daemonset' : ''}.yaml`;
    const objects = objectsOf(readFileSync(join(ROOT, file), 'utf8'));
    expect(schemaErrors(objects)).toEqual([]);
    const workload = objects.find((o) => o.kind === kind);
    if (workload === undefined) throw new Error(`no ${kind} in ${file}`);
    const template: IPodTemplateSpec = templateOf(workload);
    const spec = template.spec;
    if (spec === undefined) throw new Error('no pod spec');
    const byName = Object.fromEntries(spec.containers.map((c) => [c.name, c]));
    const agent = byName['dns-agent'];
    const haproxy = byName['haproxy'];
    if (agent === undefined || haproxy === undefined) throw new Error(`containers: ${spec.containers.map((c) => c.name).join(', ')}`);

    // What the values say is what the chart rendered: the fixture is of this values file.
    expect(agent).toEqual(values.sidecarContainers[0]);
    expect(spec.volumes).toEqual(expect.arrayContaining(values.extraVolumes));
    expect(haproxy.volumeMounts).toEqual(expect.arrayContaining(values.extraVolumeMounts));
    expect(spec.securityContext).toEqual(values.podSecurityContext);
    expect(template.metadata?.labels).toMatchObject(values.podLabels);
    expect(template.metadata?.annotations).toMatchObject(values.podAnnotations);
    const cfg = ((objects.find((o) => o.kind === 'ConfigMap')?.['data'] ?? {}) as Record<string, string>)['haproxy.cfg'] ?? '';
    expect(cfg.trim()).toBe(values.config.trim());

    // The agent: its image is this release, its backend is in the configuration, its socket
    // is the configuration's, on a volume both containers mount there, in the pod's group.
    expect(agent.image).toBe(`haproxy-dns-agent:${PACKAGE.version}`);
    const config = parseConfig(agent.args ?? [], envOf(agent, objects)).config;
    if (config === null) throw new Error('the agent would only print its help');
    for (const b of config.backends) expect(cfg).toMatch(new RegExp(`^\\s*backend ${b.backend}$`, 'm'));
    const socket = config.sockets[0];
    if (socket?.kind !== 'unix') throw new Error('no UNIX socket');
    expect(cfg).toMatch(new RegExp(`^\\s+stats socket ${socket.path} mode 660 level admin$`, 'm'));
    const dir = posix.dirname(socket.path);
    const volumeAt = (c: IContainer) => c.volumeMounts?.find((m) => m.mountPath === dir)?.name;
    expect(volumeAt(agent)).toBeDefined();
    expect(volumeAt(haproxy)).toBe(volumeAt(agent));
    expect(spec.volumes?.find((v) => v.name === volumeAt(agent))?.emptyDir).toBeDefined();
    expect(spec.securityContext?.fsGroup).toEqual(expect.any(Number));
    expect(config.stateFile).toBe(posix.join(dir, 'agent.state'));
    // The chart puts sidecars first: the annotation sends kubectl to HAProxy.
    expect(spec.containers[0]?.name).toBe('dns-agent');
    expect(template.metadata?.annotations?.['kubectl.kubernetes.io/default-container']).toBe('haproxy');
  });

  it('has a configuration that HAProxy takes without a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hda-helm-'));
    try {
      writeFileSync(join(dir, 'haproxy.cfg'), values.config);
      const r = spawnSync('haproxy', ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stderr + r.stdout).not.toContain('WARNING');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
