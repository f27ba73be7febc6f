// Validation alone (validateMonitoredService: schema, PromQL, namespace enforcement, ranges, templates)
// of N MonitoredServices whose rules and templates all differ, so no answer is remembered between
// services: the worst case for the parser and template calls. Prints wall and CPU time per service.
//   BENCH_VALIDATE_SERVICES=10000 node --import tsx bench/validate-scale.ts
import { performance } from 'node:perf_hooks';
import { validateMonitoredService } from '../operator/validate/index.js';

const count = Number(process.env.BENCH_VALIDATE_SERVICES ?? '10000');

function service(i: number): object {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace: `team-${i % 20}`, name: `svc-${i}` },
    spec: {
      selector: { matchLabels: { app: `svc-${i}` } },
      endpoints: [{ port: 'metrics' }],
      rules: [
        {
          name: 'HighErrorRate',
          expr: `sum by (instance) (rate(http_requests_total{code=~"5..", route="/r${i}"}[5m])) / sum by (instance) (rate(http_requests_total{route="/r${i}"}[5m])) > 0.0${i}`,
          for: '2m',
          summary: `{{ $labels.instance }} fails {{ $value | humanizePercentage }} of requests on /r${i}`,
          description: `Route /r${i} of {{ $labels.vigil_monitoredservice }}: {{ if gt $value 0.5 }}most{{ else }}some{{ end }} requests fail.`,
        },
      ],
      notify: { email: { to: [`svc-${i}@example.com`] } },
    },
  };
}

const objects = Array.from({ length: count }, (_, i) => service(i));
const cpu = process.cpuUsage();
const started = performance.now();
let invalid = 0;
for (const o of objects) if (!validateMonitoredService(o).ok) invalid++;
const wallMs = performance.now() - started;
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1000;
console.log(`${count} services (${invalid} invalid): ${(wallMs / 1000).toFixed(2)} s wall, ${(cpuMs / 1000).toFixed(2)} s CPU, ${((wallMs * 1000) / count).toFixed(0)} µs per service`);
