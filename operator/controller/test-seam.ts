// TEST ONLY. Vigil's validation refuses every piece Prometheus or Alertmanager would refuse, so
// nothing a user can write makes them refuse a reload; the run-time isolation (isolation.ts) still
// has to be proven against the real servers. In the operator's environment:
// - VIGIL_TEST_UNLOADABLE_ALERT=<alert name>: a service with a rule of that name gets one more rule
//   group in its rule file, whose expression Prometheus cannot parse;
// - VIGIL_TEST_DUPLICATE_RECEIVER_ALERT=<alert name>: a service with a rule of that name (and
//   recipients) gets its Alertmanager receiver twice, which Alertmanager refuses;
// - VIGIL_TEST_SKIP_HANDOVER=1: with Prometheus shards, a changed shard count moves namespaces at
//   once, without the handover (assemble/handover.ts), to show what the handover prevents.
// No chart or manifest sets them; the integration tests test/status/isolation.int.test.ts and
// test/status/reshard.int.test.ts do.
import { createHash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import type { HintRenderer } from '../assemble/service-cache.js';
import { withScrapeHints, type ServicePieces } from '../render/index.js';
import { routeReceiver } from '../render/alertmanager.js';

export const UNLOADABLE_ALERT_ENV = 'VIGIL_TEST_UNLOADABLE_ALERT';
export const DUPLICATE_RECEIVER_ALERT_ENV = 'VIGIL_TEST_DUPLICATE_RECEIVER_ALERT';
export const SKIP_HANDOVER_ENV = 'VIGIL_TEST_SKIP_HANDOVER';

/** Whether the test seam skips the shard handover (SKIP_HANDOVER_ENV is `1`). */
export function handoverSkipped(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[SKIP_HANDOVER_ENV] === '1';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The pieces with the unloadable group appended to the rule file when the service has a rule named `alert`. */
export function withUnloadableRule(pieces: ServicePieces, service: MonitoredService, alert: string): ServicePieces {
  if (!(service.spec.rules ?? []).some((r) => r.name === alert)) return pieces;
  const ruleFile = `${pieces.ruleFile}  - name: vigil-test-unloadable\n    rules:\n      - alert: ${alert}\n        expr: "up =="\n`;
  return { ...pieces, ruleFile, digests: { ...pieces.digests, ruleFile: sha256(ruleFile) } };
}

/** The pieces with the service's receiver (its recipient set's) listed twice when it has a rule named `alert` and a receiver. */
export function withDuplicateReceiver(pieces: ServicePieces, service: MonitoredService, alert: string): ServicePieces {
  if (!(service.spec.rules ?? []).some((r) => r.name === alert) || pieces.receiver === '') return pieces;
  const receiver = `${pieces.receiver}  - name: ${JSON.stringify(routeReceiver(service))}\n`;
  return { ...pieces, receiver, digests: { ...pieces.digests, routeAndReceiver: sha256(`${pieces.route.length}:${pieces.route}${receiver}`) } };
}

/**
 * The controller's HintRenderer (assemble/service-cache.ts): `base` (withScrapeHints) itself unless
 * a test variable is set, else `base` followed by the test's breakage. After the scrape hints,
 * which render the rule file anew when they carry a down reason (no matching Service, as in the test).
 */
export function testSeamHintRenderer(env: NodeJS.ProcessEnv = process.env, base: HintRenderer = withScrapeHints): HintRenderer {
  const unloadable = env[UNLOADABLE_ALERT_ENV];
  const duplicate = env[DUPLICATE_RECEIVER_ALERT_ENV];
  if (!unloadable && !duplicate) return base;
  return (pieces, service, settings, hints) => {
    let result = base(pieces, service, settings, hints);
    if (unloadable) result = withUnloadableRule(result, service, unloadable);
    if (duplicate) result = withDuplicateReceiver(result, service, duplicate);
    return result;
  };
}
