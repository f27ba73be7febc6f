import { MonitoredServiceSchema } from '../api/schema.js';
import { renderabilityProblem, validateMonitoredService } from './index.js';

const service = (expr: string) =>
  MonitoredServiceSchema.parse({
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { name: 'web', namespace: 'team-a' },
    spec: { selector: { matchLabels: { app: 'web' } }, endpoints: [{ port: 'metrics' }], rules: [{ name: 'Errors', expr }] },
  });

describe('renderability check', () => {
  it('passes a service the renderer handles', () => {
    expect(renderabilityProblem(service('rate(errors_total[5m]) > 1'))).toBeUndefined();
  });

  it('turns a renderer failure into an issue on spec instead of an exception', () => {
    // A selector on another namespace makes the renderer throw (deep checks refuse it earlier too).
    const problem = renderabilityProblem(service('up{namespace="team-b"} == 0'));
    expect(problem?.field).toBe('spec');
    expect(problem?.message).toMatch(/^cannot be turned into Prometheus\/Alertmanager configuration: .*namespace/);
  });

  it('is part of validation: a valid result always renders alone', () => {
    const result = validateMonitoredService(JSON.parse(JSON.stringify(service('sum(up) == 0'))));
    expect(result.ok).toBe(true);
  });
});
