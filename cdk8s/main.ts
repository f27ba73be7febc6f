// `make manifests` / `make chart`: synthesizes the cdk8s app.
//   tsx cdk8s/main.ts manifests  -> cdk8s/dist/<profile>/*.yaml (concrete, one file per component)
//   tsx cdk8s/main.ts chart      -> charts/vigil
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT, type KubeObject } from './kube.js';
import { synthesize } from './synth.js';
import { writeChart, CHART_DIR } from './chart/generate.js';
import { DEFAULT_VALUES, KIND_RESOLVED_VALUES } from './values.js';

const PROFILES = { kind: KIND_RESOLVED_VALUES, default: DEFAULT_VALUES };

function componentOf(obj: KubeObject): string {
  if (obj.kind === 'CustomResourceDefinition') return 'crds';
  return (obj.metadata.labels?.['app.kubernetes.io/name'] ?? 'misc').replace(/^vigil-/, '');
}

function writeManifests(): void {
  for (const [profile, values] of Object.entries(PROFILES)) {
    const dir = join(REPO_ROOT, 'cdk8s', 'dist', profile);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const byComponent = new Map<string, KubeObject[]>();
    for (const obj of synthesize('concrete', values).objects) {
      const c = componentOf(obj);
      byComponent.set(c, [...(byComponent.get(c) ?? []), obj]);
    }
    for (const [component, objs] of byComponent) {
      writeFileSync(join(dir, `${component}.yaml`), objs.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'));
    }
    console.log(`wrote ${[...byComponent.keys()].length} files to ${relative(process.cwd(), dir)}`);
  }
}

const command = process.argv[2];
if (command === 'manifests') writeManifests();
else if (command === 'chart') console.log(`wrote ${writeChart().length} files to ${relative(process.cwd(), CHART_DIR)}`);
else {
  console.error('usage: tsx cdk8s/main.ts manifests|chart');
  process.exit(2);
}
