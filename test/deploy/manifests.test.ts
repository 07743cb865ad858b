import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/cli/config.ts';
import { encodeState, STATE_VERSION, type SavedState } from '../../src/core/saved-state.ts';
import { envOf, K8S, kustomize, objectsOf, ROOT, schemaErrors, type Obj } from './kustomize.ts';

const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

/** A Kubernetes quantity ("4Mi", "512Ki", "1G") in bytes. */
function bytes(quantity: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/.exec(quantity);
  if (m === null) throw new Error(`not a quantity this test reads: ${quantity}`);
  const unit = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, k: 1e3, M: 1e6, G: 1e9 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * unit;
}

/** A state file at 4096 endpoints of realistic Kubernetes targets, every server also draining: the largest one backend makes. */
function stateAt(endpoints: number): SavedState {
  const eps = Array.from({ length: endpoints }, (_, i) => {
    const address = `10.244.${String(100 + (i % 155))}.${String(100 + ((i * 7) % 155))}`;
    return {
      target: `${address.replaceAll('.', '-')}.web.default.svc.cluster.local`,
      address,
      port: 8080,
      weight: 10,
      priority: 0,
      ttl: 30,
    };
  });
  const drains = Object.fromEntries(eps.map((_, i) => [`srv${String(i + 1)}`, 1_765_000_000_000 + i]));
  return {
    version: STATE_VERSION,
    backends: { be_web: { record: '_http._tcp.web.default.svc.cluster.local', at: 1_765_000_000_000, endpoints: eps } },
    drains: { '/var/run/haproxy/admin.sock': { be_web: drains } },
  };
}

/** HAProxy 2.6's dump of be_web with `n` slots filled with pods (its widest layout), as --server-state-file writes it. */
function serverStateAt(n: number): string {
  const header =
    '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
  const rows = Array.from({ length: n }, (_, i) => {
    const address = `10.244.${String(100 + (i % 155))}.${String(100 + ((i * 7) % 155))}`;
    return `3 be_web ${String(i + 1)} srv${String(i + 1)} ${address} 2 4 256 1 86400 15 3 4 6 0 0 0 slot.invalid 8080 - 0 0 - - 0`;
  });
  return `1\n${header}\n${rows.join('\n')}\n\n`;
}

describe('k8s/', () => {
  let work = '';
  let rendered = '';
  let objects: Obj[] = [];
  beforeAll(() => {
    // A copy with the secret.env a user creates (the example's values): k8s/ itself is left as it is.
    work = mkdtempSync(join(tmpdir(), 'hda-k8s-'));
    cpSync(K8S, work, { recursive: true, filter: (src) => !src.endsWith(`${posix.sep}secret.env`) });
    writeFileSync(join(work, 'examples/web/secret.env'), readFileSync(join(K8S, 'examples/web/secret.env.example')));
    const r = kustomize(join(work, 'examples/web'));
    expect(r.ok, r.text).toBe(true);
    rendered = r.text;
    objects = objectsOf(rendered);
  });
  afterAll(() => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
  });

  const find = (kind: string, name: string): Obj => {
    const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
    if (o === undefined) throw new Error(`no ${kind}/${name} in the rendered demo`);
    return o;
  };
  const deployment = (name: string): IDeployment => find('Deployment', name) as unknown as IDeployment;
  const podSpec = (name: string): IPodSpec => {
    const spec = deployment(name).spec?.template.spec;
    if (spec === undefined) throw new Error(`Deployment/${name} has no pod spec`);
    return spec;
  };
  const container = (deploymentName: string, name: string): IContainer => {
    const c = podSpec(deploymentName).containers.find((x) => x.name === name);
    if (c === undefined) throw new Error(`Deployment/${deploymentName} has no container ${name}`);
    return c;
  };
  /** The data of the ConfigMap a pod spec mounts as `volume` (its generated name resolved). */
  const configMapData = (spec: IPodSpec, volume: string): Record<string, string> => {
    const name = spec.volumes?.find((v) => v.name === volume)?.configMap?.name ?? '';
    return (find('ConfigMap', name)['data'] ?? {}) as Record<string, string>;
  };
  const haproxyCfg = (): string => configMapData(podSpec('haproxy'), 'config')['haproxy.cfg'] ?? '';
  const agentConfig = () => {
    const agent = container('haproxy', 'dns-agent');
    const config = parseConfig(agent.args ?? [], envOf(agent, objects)).config;
    if (config === null) throw new Error('the agent would only print its help or version');
    return config;
  };

  it('renders the demo (the component through it) into objects that pass the Kubernetes schemas', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`).sort()).toEqual([
      'ConfigMap/haproxy-config',
      'ConfigMap/haproxy-dns-agent',
      'ConfigMap/web-nginx',
      'Deployment/haproxy',
      'Deployment/web',
      'PodDisruptionBudget/haproxy',
      'Secret/haproxy-secrets',
      'Service/haproxy',
      'Service/haproxy-stats',
      'Service/web',
    ]);
    expect(schemaErrors(objects)).toEqual([]);
  });

  it('fails without the secret file, naming it', () => {
    const bare = mkdtempSync(join(tmpdir(), 'hda-k8s-bare-'));
    try {
      cpSync(K8S, bare, { recursive: true, filter: (src) => !src.endsWith(`${posix.sep}secret.env`) });
      const r = kustomize(join(bare, 'examples/web'));
      expect(r.ok).toBe(false);
      expect(r.text).toContain('secret.env');
      expect(r.text).toContain('no such file');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('ships nothing cluster-specific: no --allow-net, no pod network', () => {
    expect(rendered).not.toMatch(/allow-net|ALLOW_NET/i);
    expect(rendered).not.toMatch(/\b\d{1,3}(\.\d{1,3}){3}\/\d{1,2}\b/); // no IPv4 CIDR
    expect(rendered).not.toContain('10.244.');
    expect(agentConfig().allowNets).toEqual([]);
  });

  it('runs HAProxy 1.8, two replicas, with the agent as a sidecar whose flags parse', () => {
    expect(deployment('haproxy').spec?.replicas).toBe(2);
    expect(container('haproxy', 'haproxy').image).toBe('haproxy:1.8');
    expect(container('haproxy', 'dns-agent').image).toBe(`haproxy-dns-agent:${PACKAGE.version}`);
    const config = agentConfig();
    expect(config.backends.map((b) => [b.backend, b.record])).toEqual([['be_web', { kind: 'srv', name: '_http._tcp.web' }]]);
    for (const b of config.backends) expect(haproxyCfg()).toMatch(new RegExp(`^backend ${b.backend}$`, 'm'));
  });

  it("follows the SRV name of the web Service's named port", () => {
    const web = find('Service', 'web') as unknown as { spec: { clusterIP: string; ports: { name: string; protocol: string }[] } };
    expect(web.spec.clusterIP).toBe('None'); // headless: one SRV record per ready pod
    const [port] = web.spec.ports;
    expect(agentConfig().backends[0]?.record).toEqual({
      kind: 'srv',
      name: `_${port?.name ?? ''}._${(port?.protocol ?? '').toLowerCase()}.web`,
    });
  });

  it('shares the admin socket: the same path in haproxy.cfg and for the agent, on an emptyDir both mount there, in the pod group', () => {
    const config = agentConfig();
    expect(config.sockets).toHaveLength(1);
    const socket = config.sockets[0];
    if (socket?.kind !== 'unix') throw new Error('the agent is given no UNIX socket');
    expect(haproxyCfg()).toMatch(new RegExp(`^\\s+stats socket ${socket.path} mode 660 level admin$`, 'm'));
    const spec = podSpec('haproxy');
    const dir = posix.dirname(socket.path);
    const mountsOf = (name: string) => (container('haproxy', name).volumeMounts ?? []).filter((m) => m.mountPath === dir);
    const [haproxyMount] = mountsOf('haproxy');
    const [agentMount] = mountsOf('dns-agent');
    expect(haproxyMount?.name).toBeDefined();
    expect(agentMount?.name).toBe(haproxyMount?.name);
    const volume = spec.volumes?.find((v) => v.name === haproxyMount?.name);
    expect(volume?.emptyDir).toBeDefined();
    // mode 660: the socket's group can use it. The emptyDir belongs to the fsGroup (with the
    // set-group-ID bit), so the socket is created in it, and every container is in that group.
    expect(spec.securityContext?.fsGroup).toEqual(expect.any(Number));
    expect(config.stateFile).toBe(posix.join(dir, 'agent.state')); // beside the socket: it survives a restart of either container
  });

  it('sizes the emptyDir for the state file and the server-state-file at 4096 endpoints, twice each (the file and the copy renamed over it)', () => {
    const volume = podSpec('haproxy').volumes?.find((v) => v.emptyDir?.medium === 'Memory');
    const limit = bytes(String(volume?.emptyDir?.sizeLimit ?? '0'));
    const size = Buffer.byteLength(encodeState(stateAt(4096)));
    const dump = Buffer.byteLength(serverStateAt(4096));
    process.stdout.write(
      `at 4096 endpoints: state file ${String(size)} bytes (${(size / 4096).toFixed(0)} an endpoint, each also draining), server-state-file ${String(dump)} bytes (${(dump / 4096).toFixed(0)} a server); sizeLimit ${String(limit)}\n`,
    );
    expect(2 * (size + dump)).toBeLessThanOrEqual(limit);
  });

  it('locks every container down and gives each probes on ports it declares, and resources', () => {
    for (const name of ['haproxy', 'web']) {
      const spec = podSpec(name);
      for (const c of spec.containers) {
        const where = `${name}/${c.name}`;
        const runAsUser = c.securityContext?.runAsUser ?? spec.securityContext?.runAsUser;
        expect(runAsUser, where).toEqual(expect.any(Number));
        expect(runAsUser, where).not.toBe(0);
        expect(c.securityContext?.runAsNonRoot ?? spec.securityContext?.runAsNonRoot, where).toBe(true);
        expect(c.securityContext, where).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        for (const kind of ['cpu', 'memory']) {
          expect(c.resources?.requests?.[kind], `${where} requests ${kind}`).toBeDefined();
          expect(c.resources?.limits?.[kind], `${where} limits ${kind}`).toBeDefined();
        }
        const declared = (c.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
        for (const probe of [c.readinessProbe, c.livenessProbe]) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          expect(port, `${where} has both probes`).toBeDefined();
          expect(declared, `${where} declares the port its probe uses`).toContain(port);
        }
      }
    }
    const agent = container('haproxy', 'dns-agent');
    expect(agent.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(agent.livenessProbe?.httpGet?.path).toBe('/healthz');
    const agentPort = agent.ports?.find((p) => p.name === agent.readinessProbe?.httpGet?.port)?.containerPort;
    expect(agentConfig().listen?.port).toBe(agentPort);
    expect(agent.resources).toEqual({ requests: { cpu: '50m', memory: '80Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
  });

  it('keeps two HAProxy replicas up: a disruption budget, spread over nodes, a rollout that adds first, a preStop', () => {
    const d = deployment('haproxy');
    // The pods' own labels, which the Deployment selects by (the component adds one more to the template).
    const labels = d.spec?.selector.matchLabels ?? {};
    expect(d.spec?.template.metadata?.labels).toMatchObject(labels);
    const pdb = find('PodDisruptionBudget', 'haproxy') as unknown as {
      spec: { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } };
    };
    expect(Object.keys(pdb.spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(podSpec('web').containers).not.toContainEqual(expect.objectContaining({ name: 'haproxy' }));
    expect(deployment('web').spec?.template.metadata?.labels).not.toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable ?? (d.spec?.replicas ?? 0) - (pdb.spec.minAvailable ?? 0)).toBe(1);

    const spec = podSpec('haproxy');
    const [spread] = spec.topologySpreadConstraints ?? [];
    expect(spread).toMatchObject({
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: labels },
    });
    expect(d.spec?.strategy?.rollingUpdate).toMatchObject({ maxUnavailable: 0 });

    const command = container('haproxy', 'haproxy').lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toMatch(/sleep$/);
    const sleep = Number(command[1]);
    expect(sleep).toBeGreaterThanOrEqual(5);
    const hardStop = Number(/^\s+hard-stop-after (\d+)s$/m.exec(haproxyCfg())?.[1]);
    expect(spec.terminationGracePeriodSeconds ?? 30).toBeGreaterThan(sleep + hardStop);
  });

  it("keeps HAProxy's server-state-file: the agent writes where haproxy.cfg loads it from, beside the socket, for slots declared with a name", () => {
    const cfg = haproxyCfg();
    const path = /^\s+server-state-file (\S+)$/m.exec(cfg)?.[1];
    const config = agentConfig();
    expect(config.serverStateFile).toBe(path);
    const socket = config.sockets[0];
    expect(posix.dirname(path ?? '')).toBe(socket?.kind === 'unix' ? posix.dirname(socket.path) : null); // on the volume both mount
    expect(config.serverStateFile).not.toBe(config.stateFile);
    expect(/^defaults\n(?:\s+.*\n)*?\s+load-server-state-from-file global$/m.test(cfg)).toBe(true);
    // A name, never resolved, and the address to start from: the file gives a reloaded slot its pod's address.
    expect(cfg).toMatch(/^\s+server-template srv \d+ slot\.invalid:9 init-addr last,127\.0\.0\.1 /m);
    expect(cfg).not.toMatch(/^resolvers /m);
  });

  it('keeps sticky cookies across replicas, and secrets out of the repository', () => {
    const cfg = haproxyCfg();
    expect(cfg).toMatch(/^\s+cookie SRVID insert indirect nocache dynamic$/m);
    expect(cfg).toMatch(/^\s+stats auth admin:"\$\{STATS_PASSWORD\}"$/m);
    // Every variable haproxy.cfg reads comes from the Secret, through the HAProxy container's environment.
    const haproxy = container('haproxy', 'haproxy');
    const secret = objects.find((o) => o.kind === 'Secret');
    const variables = [...cfg.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1] ?? '');
    expect(variables.sort()).toEqual(['DYNAMIC_COOKIE_KEY', 'STATS_PASSWORD']);
    for (const name of variables) {
      const ref = haproxy.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
      expect(ref?.name, `${name} from a Secret`).toBe(secret?.metadata.name);
      expect(Object.keys(secret?.['data'] ?? {})).toContain(ref?.key);
    }
    const kustomization = readFileSync(join(K8S, 'examples/web/kustomization.yaml'), 'utf8');
    expect(/^secretGenerator:\n(?:(?: .*)?\n)*/m.exec(kustomization)?.[0]).not.toMatch(/literals:/);
    const gitignored = spawnSync('git', ['check-ignore', '-q', join(K8S, 'examples/web/secret.env')], { cwd: K8S });
    expect(gitignored.status, 'git ignores k8s/examples/web/secret.env').toBe(0);
  });

  it('has an HAProxy configuration that haproxy -c accepts without a warning, once the agent has written the server-state-file', () => {
    const cfg = join(work, 'rendered-haproxy.cfg');
    // At a pod's first start the file is not there yet: HAProxy warns that it cannot open it.
    // (Servers it brings back ready are logged as warnings too: "leaving forced maintenance".)
    const state = join(work, 'server-state');
    writeFileSync(state, serverStateAt(0));
    writeFileSync(cfg, haproxyCfg().replace(/^(\s+server-state-file )\S+$/m, `$1${state}`));
    const r = spawnSync('haproxy', ['-c', '-f', cfg], {
      env: { ...process.env, DYNAMIC_COOKIE_KEY: 'k', STATS_PASSWORD: 'p' },
      encoding: 'utf8',
    });
    expect(r.error).toBeUndefined();
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stderr + r.stdout).not.toContain('WARNING');
  });

  it('exposes traffic on NodePort 30889 and the stats page on 30888, both to HAProxy', () => {
    const nodePorts = objects
      .filter((o) => o.kind === 'Service')
      .flatMap((o) => {
        const spec = (o as unknown as { spec: { selector?: Record<string, string>; ports: { nodePort?: number; targetPort?: string }[] } })
          .spec;
        return spec.ports.map((p) => [p.nodePort, p.targetPort, spec.selector]);
      })
      .filter(([nodePort]) => nodePort !== undefined);
    const labels = deployment('haproxy').spec?.selector.matchLabels;
    expect(nodePorts).toEqual(
      expect.arrayContaining([
        [30889, 'http', labels],
        [30888, 'stats', labels],
      ]),
    );
  });

  it('puts no Kubernetes API token in the pods', () => {
    for (const name of ['haproxy', 'web']) expect(podSpec(name).automountServiceAccountToken, name).toBe(false);
  });
});
