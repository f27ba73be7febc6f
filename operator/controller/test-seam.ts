// TEST ONLY. Vigil's validation refuses every rule file Prometheus would refuse, so nothing a user
// can write makes Prometheus refuse a reload; the run-time isolation (isolation.ts) still has to be
// proven against a real Prometheus. With VIGIL_TEST_UNLOADABLE_ALERT=<alert name> in the operator's
// environment, a service that has a rule of that name gets one more rule group in its rule file,
// whose expression Prometheus cannot parse. No chart or manifest sets it; the integration test
// test/status/isolation.int.test.ts does.
import { createHash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import type { ServicePieces } from '../render/index.js';
import type { GlobalSettings } from '../render/types.js';

type RenderPieces = (service: MonitoredService, settings: GlobalSettings) => ServicePieces;

export const UNLOADABLE_ALERT_ENV = 'VIGIL_TEST_UNLOADABLE_ALERT';

/** The pieces with the unloadable group appended to the rule file when the service has a rule named `alert`. */
export function withUnloadableRule(pieces: ServicePieces, service: MonitoredService, alert: string): ServicePieces {
  if (!(service.spec.rules ?? []).some((r) => r.name === alert)) return pieces;
  const ruleFile = `${pieces.ruleFile}  - name: vigil-test-unloadable\n    rules:\n      - alert: ${alert}\n        expr: "up =="\n`;
  return { ...pieces, ruleFile, digests: { ...pieces.digests, ruleFile: createHash('sha256').update(ruleFile).digest('hex') } };
}

/** The renderer the controller uses: `render` itself unless the test variable is set. */
export function withTestSeam(render: RenderPieces, env: NodeJS.ProcessEnv = process.env): RenderPieces {
  const alert = env[UNLOADABLE_ALERT_ENV];
  if (!alert) return render;
  return (service, settings) => withUnloadableRule(render(service, settings), service, alert);
}
