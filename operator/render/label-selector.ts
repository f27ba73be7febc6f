// Kubernetes label selector -> the string form Prometheus's kubernetes_sd `selectors` expect
// (the same syntax as `kubectl get -l`): `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
import type { LabelSelector } from '../api/schema.js';
import { compareStrings } from './names.js';

export function labelSelectorString(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const key of Object.keys(selector.matchLabels ?? {}).sort(compareStrings)) {
    parts.push(`${key}=${selector.matchLabels![key]}`);
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const set = `(${[...values].sort(compareStrings).join(',')})`;
    switch (operator) {
      case 'In':
        parts.push(`${key} in ${set}`);
        break;
      case 'NotIn':
        parts.push(`${key} notin ${set}`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
    }
  }
  return parts.join(',');
}
