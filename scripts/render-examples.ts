// Renders each example of k8s/examples/ into one install file, as scripts/release ships
// them: `node scripts/render-examples.ts <out-dir> <version>`. An example's Secrets are
// left out (their values are yours): the file's header says how to create them first.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const EXAMPLES = fileURLToPath(new URL('../k8s/examples/', import.meta.url));

export type RenderedExample = Readonly<{ name: string; text: string }>;

/** The examples' names: the folders of k8s/examples/. */
export const exampleNames = (): string[] =>
  readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

/** The keys of an env file (KEY=value lines; comments and blank lines skipped). */
const envKeys = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.slice(0, l.indexOf('=')));

/** One example rendered without its generated Secrets, with a header saying how to create them. */
export function renderExample(name: string, version: string): RenderedExample {
  const work = mkdtempSync(join(tmpdir(), 'hda-example-'));
  try {
    const dir = join(work, 'examples', name);
    cpSync(join(EXAMPLES, '..'), work, { recursive: true, filter: (src) => !src.endsWith('/secret.env') });
    const path = join(dir, 'kustomization.yaml');
    const doc = parseDocument(readFileSync(path, 'utf8'));
    const generators = (doc.get('secretGenerator') as { toJSON(): { name: string; envs?: string[] }[] } | undefined)?.toJSON() ?? [];
    doc.delete('secretGenerator');
    writeFileSync(path, doc.toString());
    const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) throw new Error(`kubectl kustomize k8s/examples/${name}: ${r.error?.message ?? r.stderr}`);
    const secrets = generators.map((g) => {
      const keys = (g.envs ?? []).flatMap((f) => {
        const example = join(EXAMPLES, name, `${f}.example`);
        return existsSync(example) ? envKeys(readFileSync(example, 'utf8')) : [];
      });
      return `#   kubectl create secret generic ${g.name} ${keys.map((k) => `--from-literal=${k}=...`).join(' ')}`;
    });
    const header = [
      `# haproxy-dns-agent ${version}: k8s/examples/${name}/, rendered into one file by scripts/release.`,
      ...(secrets.length > 0 ? ['# It names Secrets it does not hold: create them first, in the same namespace,', ...secrets] : []),
      `# then: kubectl apply -f haproxy-dns-agent-${version}-${name}.yaml`,
    ];
    return { name, text: `${header.join('\n')}\n${r.stdout}` };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const [out, version] = process.argv.slice(2);
  if (out === undefined || version === undefined) {
    process.stderr.write('usage: node scripts/render-examples.ts <out-dir> <version>\n');
    process.exit(2);
  }
  for (const name of exampleNames()) {
    const file = join(out, `haproxy-dns-agent-${version}-${name}.yaml`);
    writeFileSync(file, renderExample(name, version).text);
    process.stdout.write(`${file}\n`);
  }
}
