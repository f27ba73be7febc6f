// Where each object's template lives in the chart (also needed by components that include another
// template, e.g. the operator's settings checksum).
import { TOKEN_PATTERN } from '../context.js';

/**
 * `<component>/<rest of the name>-<kind>.yaml`, the component being the object's
 * `app.kubernetes.io/name` without `vigil-`; a token in the name (the ClusterRoles'
 * `-{{ include "vigil.namespace" $ }}`) is left out.
 */
export function templateFileName(obj: { kind: string; metadata: { name: string; labels?: Record<string, string> } }): string {
  const name = obj.metadata.name.replace(new RegExp(`-?${TOKEN_PATTERN.source}`, 'g'), '');
  const component = obj.metadata.labels?.['app.kubernetes.io/name'] ?? name;
  const rest = name.startsWith(component) ? name.slice(component.length).replace(/^-/, '') : name.replace(/^vigil-/, '');
  return `${component.replace(/^vigil-/, '')}/${rest ? `${rest}-` : ''}${obj.kind.toLowerCase()}.yaml`;
}
