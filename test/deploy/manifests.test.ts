import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/cli/config.ts';

const K8S = new URL('../../k8s/', import.meta.url);
const read = (f: string): string => readFileSync(new URL(f, K8S), 'utf8');

type Obj = { apiVersion: string; kind: string; metadata: { name: string }; spec?: Record<string, unknown> } & Record<string, unknown>;
const objects: Obj[] = readdirSync(K8S)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(read(f)).map((d) => d.toJS() as Obj));

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
};

type Container = {
  name: string;
  image: string;
  args?: string[];
  securityContext?: Record<string, unknown>;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  resources?: { requests?: unknown; limits?: unknown };
};
const haproxyDeployment = (): {
  replicas: number;
  template: { spec: { containers: Container[]; securityContext: Record<string, unknown> } };
} => objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'haproxy')?.spec as never;

describe('k8s/', () => {
  it('holds only objects that pass the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const o of objects) {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has a schema`).toBeDefined();
      if (Model !== undefined)
        expect(() => {
          new Model(o as never).validate();
        }, `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('refers only to files that exist from its kustomization', () => {
    const k = parseAllDocuments(read('kustomization.yaml'))[0]?.toJS() as {
      resources: string[];
      configMapGenerator: { files: string[] }[];
    };
    for (const f of [...k.resources, ...k.configMapGenerator.flatMap((g) => g.files)]) expect(existsSync(new URL(f, K8S)), f).toBe(true);
  });

  it('runs HAProxy 1.8, two replicas, with the agent as a sidecar whose flags parse', () => {
    const d = haproxyDeployment();
    expect(d.replicas).toBe(2);
    const [haproxy, agent] = d.template.spec.containers;
    expect(haproxy?.image).toBe('haproxy:1.8');
    const config = parseConfig(agent?.args ?? [], {}).config;
    expect(config?.sockets).toEqual([{ kind: 'unix', path: '/var/run/haproxy/admin.sock' }]);
    expect(read('haproxy.cfg')).toContain('stats socket /var/run/haproxy/admin.sock mode 660 level admin');
    expect(config?.backends.map((b) => b.backend)).toEqual(['be_web']);
    expect(config?.allowNets.map((n) => n.text)).toEqual(['10.244.0.0/16']); // a placeholder the README tells users to set
    expect(config?.stateFile).toBe('/var/run/haproxy/agent.state'); // on the emptyDir beside the socket
    expect(read('haproxy.cfg')).toContain('backend be_web');
  });

  it('locks every container down and gives each probes and resources', () => {
    const d = haproxyDeployment();
    expect(d.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, fsGroup: 1000 });
    for (const c of d.template.spec.containers) {
      expect(c.securityContext, c.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(c.readinessProbe, c.name).toBeDefined();
      expect(c.livenessProbe, c.name).toBeDefined();
      expect(c.resources?.requests, c.name).toBeDefined();
      expect(c.resources?.limits, c.name).toBeDefined();
    }
  });

  it('exposes traffic on NodePort 30889 and the stats page on 30888', () => {
    const ports = objects
      .filter((o) => o.kind === 'Service')
      .flatMap((o) => ((o.spec?.['ports'] ?? []) as { nodePort?: number }[]).map((p) => p.nodePort));
    expect(ports).toEqual(expect.arrayContaining([30889, 30888]));
  });

  it('has an HAProxy configuration that haproxy -c accepts', () => {
    const r = spawnSync('haproxy', ['-c', '-f', new URL('haproxy.cfg', K8S).pathname], {
      env: { ...process.env, DYNAMIC_COOKIE_KEY: 'k', STATS_PASSWORD: 'p' },
      encoding: 'utf8',
    });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stderr + r.stdout).not.toContain('WARNING');
  });

  it('puts no Kubernetes API token in the pod, and a password on the stats page', () => {
    const spec = haproxyDeployment().template.spec as { automountServiceAccountToken?: boolean };
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(read('haproxy.cfg')).toMatch(/^\s+stats auth admin:"\$\{STATS_PASSWORD\}"$/m);
    expect(read('kustomization.yaml')).toContain('stats-password=');
  });
});
