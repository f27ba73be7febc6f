// Synthesizes the cdk8s app (app.ts) with concrete values (manifests) or Helm tokens (the chart).
import { RenderContext, type RenderMode } from './context.js';
import type { VigilValues } from './values.js';
import { buildApp } from './app.js';
import { crdObjects, type KubeObject } from './kube.js';

/** Namespace of the concrete renderings (and of `make kind-up`). */
export const DEFAULT_NAMESPACE = 'vigil-system';

export interface Synthesis {
  objects: KubeObject[];
  ctx: RenderContext;
}

/** All objects of one rendering. Concrete renderings include the CRDs; the chart ships them in crds/. */
export function synthesize(mode: RenderMode, values: VigilValues, namespace = DEFAULT_NAMESPACE): Synthesis {
  const ctx = new RenderContext(mode, values, namespace);
  const chart = buildApp(ctx);
  // Construction order (name, image first ...) instead of cdk8s' alphabetical keys; cdk8s reads this at toJson time.
  const before = process.env.CDK8S_DISABLE_SORT;
  process.env.CDK8S_DISABLE_SORT = '1';
  let objects: KubeObject[];
  try {
    objects = chart.toJson() as KubeObject[];
  } finally {
    if (before === undefined) delete process.env.CDK8S_DISABLE_SORT;
    else process.env.CDK8S_DISABLE_SORT = before;
  }
  return { objects: mode === 'concrete' ? [...crdObjects(), ...objects] : objects, ctx };
}
