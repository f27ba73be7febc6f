// The operator container bounds its V8 heap (issue #13): the chart passes OPERATOR_NODE_OPTIONS in
// NODE_OPTIONS, and the pinned Node (the image's, hack/versions.env) accepts those flags there and
// sizes the heap from them. A Node that did not know a flag would refuse to start the pod.
import { spawnSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { OPERATOR_NODE_OPTIONS } from '../../cdk8s/components/operator.js';
import { synthesize } from '../../cdk8s/synth.js';
import { DEFAULT_VALUES } from '../../cdk8s/values.js';

type Container = { name: string; env?: Array<{ name: string; value?: string }> };

describe('operator heap bounds', () => {
  test('the operator container, and only it, gets OPERATOR_NODE_OPTIONS in NODE_OPTIONS', () => {
    const { objects } = synthesize('concrete', DEFAULT_VALUES);
    const withNodeOptions: string[] = [];
    for (const o of objects) {
      const template = (o.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template;
      for (const c of template?.spec?.containers ?? []) {
        const value = c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
        if (value !== undefined) withNodeOptions.push(`${o.kind}/${o.metadata.name}/${c.name}: ${value}`);
      }
    }
    expect(withNodeOptions).toEqual([`Deployment/vigil-operator/operator: ${OPERATOR_NODE_OPTIONS}`]);
  });

  test('the pinned Node accepts the flags in NODE_OPTIONS: old space half the available memory, a 24 MiB young generation', () => {
    const probe = "const v8 = require('node:v8'); console.log(JSON.stringify({ limit: v8.getHeapStatistics().heap_size_limit, constrained: process.constrainedMemory() }))";
    const run = spawnSync(process.execPath, ['-e', probe], { env: { ...process.env, NODE_OPTIONS: OPERATOR_NODE_OPTIONS }, encoding: 'utf8' });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const { limit, constrained } = JSON.parse(run.stdout) as { limit: number; constrained: number };
    // Node's rule for the percentage: the cgroup limit when there is one below the machine's memory, else the machine's.
    const available = constrained > 0 && constrained < totalmem() ? constrained : totalmem();
    const MiB = 1024 * 1024;
    const expectedMiB = Math.floor(Math.floor(available / MiB) * 0.5) + 3 * 8;
    expect(Math.abs(limit / MiB - expectedMiB)).toBeLessThanOrEqual(2);
  });
});
