import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { parseAllDocuments } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const K8S = join(ROOT, 'k8s');

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> } } & Record<
  string,
  unknown
>;

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/DaemonSet': DaemonSet,
  'batch/v1/CronJob': CronJob,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/Pod': Pod,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
};

/** `kubectl kustomize <dir>`: the rendered text, or the failure with kustomize's own message. */
export function kustomize(dir: string): { ok: boolean; text: string } {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('kubectl is not on PATH: the deploy tests render k8s/ with `kubectl kustomize` (kubectl 1.27 or later, kustomize v5)');
  }
  return { ok: r.status === 0, text: r.status === 0 ? r.stdout : r.stderr };
}

export const objectsOf = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj);

/** Each object against the Kubernetes schema of its kind: the failures, as "<kind>/<name>: <error>". */
export function schemaErrors(objects: readonly Obj[]): string[] {
  return objects.flatMap((o) => {
    const Model = MODELS[`${o.apiVersion}/${o.kind}`];
    if (Model === undefined) return [`${o.kind}/${o.metadata.name}: no schema in this test for ${o.apiVersion} ${o.kind}`];
    try {
      new Model(o as never).validate();
      return [];
    } catch (e) {
      return [`${o.kind}/${o.metadata.name}: ${(e as Error).message}`];
    }
  });
}

/** The pod template of a Deployment, StatefulSet or DaemonSet. */
export const templateOf = (o: Obj): IPodTemplateSpec => {
  const t = (o['spec'] as { template?: IPodTemplateSpec } | undefined)?.template;
  if (t === undefined) throw new Error(`${o.kind}/${o.metadata.name} has no pod template`);
  return t;
};

/**
 * The environment a container starts with, as the kubelet builds it: its envFrom sources in
 * order (ConfigMaps and Secrets found among the objects; an optional one may be missing),
 * then its env, which wins. A Secret's value is decoded; a secretKeyRef stands as <key>.
 */
export function envOf(c: IContainer, objects: readonly Obj[]): Record<string, string> {
  const env: Record<string, string> = {};
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  for (const from of c.envFrom ?? []) {
    if (from.configMapRef !== undefined) {
      const cm = find('ConfigMap', from.configMapRef.name ?? '');
      if (cm === undefined && from.configMapRef.optional !== true) throw new Error(`no ConfigMap ${from.configMapRef.name ?? ''}`);
      Object.assign(env, (cm?.['data'] ?? {}) as Record<string, string>);
    }
    if (from.secretRef !== undefined) {
      const s = find('Secret', from.secretRef.name ?? '');
      if (s === undefined && from.secretRef.optional !== true) throw new Error(`no Secret ${from.secretRef.name ?? ''}`);
      for (const [k, v] of Object.entries((s?.['data'] ?? {}) as Record<string, string>)) env[k] = Buffer.from(v, 'base64').toString();
    }
  }
  for (const e of c.env ?? []) env[e.name] = e.value ?? `<${e.valueFrom?.secretKeyRef?.key ?? 'ref'}>`;
  return env;
}

/**
 * A user's overlay in a temporary folder, beside a copy of k8s/components: `files` maps a
 * path in the overlay to its text, where COMPONENTS stands for the relative path from that
 * file's folder to the copied k8s/components. Returns the overlay's path and a remover.
 */
export function writeOverlay(files: Readonly<Record<string, string>>): { dir: string; remove: () => void } {
  const work = mkdtempSync(join(tmpdir(), 'hda-overlay-'));
  cpSync(join(K8S, 'components'), join(work, 'components'), { recursive: true });
  const dir = join(work, 'overlay');
  for (const [path, text] of Object.entries(files)) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text.replaceAll('COMPONENTS', relative(dirname(file), join(work, 'components'))));
  }
  return {
    dir,
    remove: () => {
      rmSync(work, { recursive: true, force: true });
    },
  };
}
