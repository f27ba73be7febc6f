import { parse } from 'yaml';
import { describe, expect, it } from '@jest/globals';
import type { ServiceInfo } from './selection.js';
import { defaultSettings } from '../render/index.js';
import { renderConfig } from '../assemble/config.js';
import { formatIssue, validateMonitoredService } from '../validate/index.js';
import { createHash } from 'node:crypto';
import { encodeFileSet } from '../assemble/config-bundle.js';
import { alertmanagerConfigHashValue } from '../sync/confirm.js';
import { lastValidInForce, planReconcile, type RawMonitoredService, type ReconcileInput } from './plan.js';
import { scrapeJobNames } from '../sync/job-names.js';
import { recipientSetReceiver } from '../render/names.js';
import { recordWindow, scrapeConfigHash } from '../render/rules.js';
import { UnchangedStatuses } from './status-memo.js';
import { ServiceCache } from '../assemble/service-cache.js';
import { shardOfNamespace } from '../assemble/shards.js';

function service(namespace: string, name: string, expr = 'up == 0', generation = 1): RawMonitoredService {
  return {
    apiVersion: 'vigil.dev/v1alpha1',
    kind: 'MonitoredService',
    metadata: { namespace, name, generation, uid: `${namespace}-${name}`, resourceVersion: '10' },
    spec: {
      selector: { matchLabels: { app: name } },
      endpoints: [{ port: 'metrics' }],
      rules: [{ name: 'Custom', expr }],
    },
  };
}

const settings = defaultSettings();

function input(objects: RawMonitoredService[], over: Partial<ReconcileInput> = {}): ReconcileInput {
  return {
    objects,
    settings,
    validate: validateMonitoredService,
    formatIssue,
    render: renderConfig,
    prometheus: {},
    alertmanager: {},
    targetsFor: () => undefined,
    now: '2025-01-01T00:00:00Z',
    ...over,
  };
}

describe('planReconcile', () => {
  it("EmailDelivered follows the receiver of each service's route, as the Alertmanager poll reports it", () => {
    const mailed = service('a', 'mailed');
    (mailed.spec as Record<string, unknown>).notify = { email: { to: ['team@example.com'] } };
    const objects = [service('a', 'orphan'), mailed];
    const email = (p: ReturnType<typeof planReconcile>, name: string) =>
      (p.statusUpdates.find((u) => u.name === name)!.patch.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions.find(
        (c) => c.type === 'EmailDelivered',
      );
    const withDefault = { ...settings, defaultRecipients: ['oncall@example.com'] };
    // No --alertmanager-url: nothing known.
    expect(email(planReconcile(input(objects, { settings: withDefault })), 'mailed')).toMatchObject({ status: 'Unknown', reason: 'DeliveryUnknown' });
    // The receiver of mailed's recipient set (render/names.ts recipientSetReceiver).
    const team = recipientSetReceiver({ to: ['team@example.com'], sendResolved: true });
    const delivery = new Map([
      [team, { state: 'failing' as const, since: '2025-01-01T00:00:00Z' }],
      ['vigil-default', { state: 'delivered' as const, since: '2025-01-01T00:00:00Z' }],
    ]);
    const polled = planReconcile(input(objects, { settings: withDefault, alertmanagerRunning: { configHash: 1, lastReloadSuccessful: true, polledAt: 0, delivery } }));
    expect(email(polled, 'mailed')).toMatchObject({ status: 'False', reason: 'NotificationsFailing' });
    expect(email(polled, 'mailed')?.message).toContain(`receiver ${team}`);
    expect(email(polled, 'orphan')).toMatchObject({ status: 'True', reason: 'EmailDelivered' });
    expect(email(polled, 'orphan')?.message).toContain('receiver vigil-default');
    // Polled, but Alertmanager names no receivers in its metrics.
    const unnamed = planReconcile(input(objects, { settings: withDefault, alertmanagerRunning: { configHash: 1, lastReloadSuccessful: true, polledAt: 0 } }));
    expect(email(unnamed, 'mailed')).toMatchObject({ status: 'Unknown', reason: 'DeliveryUnknown' });
    expect(email(unnamed, 'mailed')?.message).toContain('receiver-name-in-metrics');
  });

  it('a service without recipients is unrouted only when the install has no default recipients', () => {
    const readyMessage = (p: ReturnType<typeof planReconcile>, name: string) =>
      (p.statusUpdates.find((u) => u.name === name)!.patch.status as { conditions: { type: string; message: string }[] }).conditions.find((c) => c.type === 'Ready')?.message;
    const withRecipients = service('a', 'mailed');
    (withRecipients.spec as Record<string, unknown>).notify = { email: { to: ['team@example.com'] } };
    const applied = (over: Partial<ReconcileInput>) => {
      const first = planReconcile(input([service('a', 'orphan'), withRecipients], over));
      const hashes = { prometheus: { appliedHash: first.rendered.prometheusHash }, alertmanager: { appliedHash: first.rendered.alertmanagerHash } };
      return planReconcile(input([service('a', 'orphan'), withRecipients], { ...over, ...hashes, targetsFor: () => ({ discovered: 1, healthy: 1 }) }));
    };
    const none = applied({ settings: { ...settings, defaultRecipients: [] } });
    expect(readyMessage(none, 'orphan')).toContain('emailed to nobody');
    expect(readyMessage(none, 'mailed')).not.toContain('nobody');
    const withDefault = applied({ settings: { ...settings, defaultRecipients: ['oncall@example.com'] } });
    expect(readyMessage(withDefault, 'orphan')).not.toContain('nobody');
    expect(readyMessage(withDefault, 'orphan')).toMatch(/^valid, running in Prometheus and Alertmanager/);
  });

  it('a service with no alert at all (downAlert disabled, no rules) is Ready, and Ready says nothing pages', () => {
    const silent = service('a', 'silent');
    (silent.spec as Record<string, unknown>).downAlert = { enabled: false };
    (silent.spec as Record<string, unknown>).rules = [];
    const objects = [silent, service('a', 'loud')];
    const first = planReconcile(input(objects));
    const hashes = { prometheus: { appliedHash: first.rendered.prometheusHash }, alertmanager: { appliedHash: first.rendered.alertmanagerHash } };
    const plan = planReconcile(input(objects, { ...hashes, targetsFor: () => ({ discovered: 1, healthy: 1 }) }));
    const ready = (name: string) =>
      (plan.statusUpdates.find((u) => u.name === name)!.patch.status as { conditions: { type: string; status: string; message: string }[] }).conditions.find((c) => c.type === 'Ready');
    expect(ready('silent')).toMatchObject({
      status: 'True',
      message:
        'valid, running in Prometheus and Alertmanager, 1 of 1 targets healthy; it has no alerts (spec.downAlert.enabled is false and spec.rules is empty): it is scraped only, and nothing pages anyone when it goes down',
    });
    expect(ready('loud')!.message).not.toContain('no alerts');
  });

  it('Services over the same pods: the job drops the headless twin; the other jobs and services are unchanged', () => {
    const services = (ns: string) =>
      ns === 'a'
        ? [
            { name: 'one', labels: { app: 'one' }, podSelector: { app: 'one' }, headless: false, ports: [{ name: 'metrics', port: 9 }] },
            { name: 'one-headless', labels: { app: 'one' }, podSelector: { app: 'one' }, headless: true, ports: [{ name: 'metrics', port: 9 }] },
            { name: 'two', labels: { app: 'two' }, podSelector: { app: 'two' }, headless: false, ports: [{ name: 'metrics', port: 9 }] },
          ]
        : [];
    const plain = planReconcile(input([service('a', 'one'), service('a', 'two')]));
    const plan = planReconcile(input([service('a', 'one'), service('a', 'two')], { servicesIn: services }));
    const yml = plan.rendered.prometheus['prometheus.yml']!;
    const jobs = yml.split('- job_name: ');
    const one = jobs.find((j) => j.startsWith('vigil/a/one/metrics'))!;
    expect(one).toMatch(/regex: one-headless\n\s+action: drop/);
    const two = jobs.find((j) => j.startsWith('vigil/a/two/metrics'))!;
    // Only #14's drop of not-ready/terminating endpoints; no Service is dropped from this job.
    expect(two.match(/action: drop/g)).toHaveLength(1);
    expect(two).not.toMatch(/- __meta_kubernetes_service_name\n\s+regex: [^\n]+\n\s+action: drop/);
    expect(two).toBe(plain.rendered.prometheus['prometheus.yml']!.split('- job_name: ').find((j) => j.startsWith('vigil/a/two/metrics')));
    const status = plan.statusUpdates.find((u) => u.name === 'one')!.patch.status as { conditions: { type: string; message: string }[] };
    expect(status.conditions.find((c) => c.type === 'TargetsHealthy')?.message).toContain('one, one-headless select the same pods');
  });

  it('a port the selected Services do not have: the ServiceDown description says so (the email), scrape jobs and other services unchanged', () => {
    const inA: ServiceInfo[] = [
      { name: 'one', labels: { app: 'one' }, podSelector: { app: 'one' }, headless: false, ports: [{ name: 'http', port: 9 }] },
      { name: 'two', labels: { app: 'two' }, podSelector: { app: 'two' }, headless: false, ports: [{ name: 'metrics', port: 9 }] },
    ];
    const plain = planReconcile(input([service('a', 'one'), service('a', 'two')]));
    const plan = planReconcile(input([service('a', 'one'), service('a', 'two')], { servicesIn: (ns) => (ns === 'a' ? inA : []) }));
    const downDescription = (p: ReturnType<typeof planReconcile>, name: string) =>
      (parse(p.rendered.prometheus[`a__${name}.rules.yaml`]!) as { groups: { rules: { alert?: string; annotations?: { description: string } }[] }[] }).groups[0]!.rules.find(
        (r) => r.alert === 'ServiceDown',
      )!.annotations!.description;
    const status = plan.statusUpdates.find((u) => u.name === 'one')!.patch.status as { conditions: { type: string; reason: string; message: string }[] };
    const targets = status.conditions.find((c) => c.type === 'TargetsHealthy')!;
    expect(targets.reason).toBe('PortNotFound');
    expect(downDescription(plan, 'one')).toContain(`The operator reports: PortNotFound: ${targets.message}. `);
    expect(downDescription(plan, 'one')).toMatch(/Reason in its status \(with Prometheus's own scrape error\): kubectl describe monitoredservice -n a one$/);
    expect(downDescription(plain, 'one')).not.toContain('The operator reports');
    expect(plan.rendered.prometheus['a__two.rules.yaml']).toBe(plain.rendered.prometheus['a__two.rules.yaml']);
    expect(plan.rendered.prometheus['prometheus.yml']).toBe(plain.rendered.prometheus['prometheus.yml']);
  });

  it('a Service whose label key equals the selector key after sanitising (a_b vs a.b): the job keeps the matched Services by name', () => {
    const inA: ServiceInfo[] = [
      { name: 'one', labels: { app: 'one' }, podSelector: { app: 'one' }, headless: false, ports: [{ name: 'metrics', port: 9 }] },
      { name: 'imposter', labels: { app: 'x', a_p_p: 'one' }, podSelector: { app: 'x' }, headless: false, ports: [{ name: 'metrics', port: 9 }] },
    ];
    const services = (ns: string) => (ns === 'a' ? inA : []);
    const colliding = service('a', 'one');
    (colliding.spec as { selector: unknown }).selector = { matchLabels: { 'a.p.p': 'one' } };
    const plan = planReconcile(input([colliding, service('a', 'two')], { servicesIn: services }));
    const jobs = plan.rendered.prometheus['prometheus.yml']!.split('- job_name: ');
    const one = jobs.find((j) => j.startsWith('vigil/a/one/metrics'))!;
    // No Service has the key a.p.p: the selector matches nothing, and the label rule would take imposter's a_p_p.
    expect(one).not.toContain('__meta_kubernetes_service_label_a_p_p');
    expect(one).toMatch(/- __meta_kubernetes_service_name\n\s+regex: \.\*\n\s+action: drop/);
    // The other service of the namespace keeps its label rules.
    expect(jobs.find((j) => j.startsWith('vigil/a/two/metrics'))).toContain('__meta_kubernetes_service_labelpresent_app');
  });

  it('renders only valid services, and the invalid one gets Valid=False naming the field', () => {
    const plan = planReconcile(input([service('a', 'good'), service('b', 'bad', 'sum(rate(x[5m])')]));
    expect(plan.valid).toBe(1);
    expect(plan.invalid).toEqual([{ namespace: 'b', name: 'bad' }]);
    expect(plan.rendered.included).toEqual([{ namespace: 'a', name: 'good' }]);
    expect(plan.rendered.prometheus['prometheus.yml']).toContain('vigil/a/good/metrics');
    expect(plan.rendered.prometheus['prometheus.yml']).not.toContain('vigil/b/bad');
    expect(plan.writeConfigMap).toBe(true);
    expect(plan.writeSecret).toBe(true);
    const bad = plan.statusUpdates.find((u) => u.name === 'bad');
    const valid = (bad?.patch.status.conditions as { type: string; status: string; message: string }[]).find((c) => c.type === 'Valid');
    expect(valid?.status).toBe('False');
    expect(valid?.message).toMatch(/^b\/bad: spec\.rules\[0\]\.expr: /);
    expect(bad?.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'InvalidSpec' })]);
  });

  it('keeps the last valid generation in force through an invalid edit, and says so in the status', () => {
    const v1 = service('a', 'svc', 'up == 0', 1);
    const first = planReconcile(input([v1]));
    const stored = first.statusUpdates[0]!.patch.status as RawMonitoredService['status'];
    expect(stored).toMatchObject({ lastValidGeneration: 1, lastValidSpec: JSON.stringify(v1.spec) });

    // Generation 2 breaks a rule: the config is still generation 1's, byte for byte.
    const v2 = { ...service('a', 'svc', 'rate(x[5m]', 2), status: stored };
    const second = planReconcile(input([v2]));
    expect(second.invalid).toEqual([{ namespace: 'a', name: 'svc' }]);
    expect(second.rendered.included).toEqual([{ namespace: 'a', name: 'svc' }]);
    expect(second.rendered.prometheusHash).toBe(first.rendered.prometheusHash);
    expect(second.rendered.alertmanagerHash).toBe(first.rendered.alertmanagerHash);
    const status = second.statusUpdates[0]!.patch.status;
    const byType = Object.fromEntries((status.conditions as { type: string; status: string; message: string }[]).map((c) => [c.type, c]));
    expect(byType.Valid).toMatchObject({ status: 'False' });
    expect(byType.Valid!.message).toMatch(/spec\.rules\[0\]\.expr: .*; the config keeps running generation 1, the last valid one$/);
    expect(byType.Ready!.status).toBe('False');
    expect(status).toMatchObject({ observedGeneration: 2, lastValidGeneration: 1, lastValidSpec: JSON.stringify(v1.spec) });

    // Without a stored valid generation (invalid from the start) nothing is in force.
    const never = planReconcile(input([service('a', 'svc', 'rate(x[5m]', 1)]));
    expect(never.rendered.included).toEqual([]);
    // A stored spec that no longer validates is not used either.
    const broken = planReconcile(input([{ ...service('a', 'svc', 'rate(x[5m]', 3), status: { lastValidGeneration: 2, lastValidSpec: '{"selector":{}}' } }]));
    expect(broken.rendered.included).toEqual([]);
  });

  describe('after an operator upgrade that refuses what an earlier version accepted', () => {
    // What an earlier version stored: this spec passed, at this generation (status.lastValid*).
    const upgraded = (spec: Record<string, unknown>, generation = 3, lastValidGeneration = generation, lastValidSpec = spec): RawMonitoredService => ({
      ...service('shop', 'orders', 'up == 0', generation),
      spec,
      status: {
        lastValidGeneration,
        lastValidSpec: JSON.stringify(lastValidSpec),
        conditions: [{ type: 'Valid', status: 'True', reason: 'SpecValid', message: 'spec passed validation', lastTransitionTime: '2024-01-01T00:00:00Z', observedGeneration: lastValidGeneration }],
      },
    });
    const conditionsOf = (plan: ReturnType<typeof planReconcile>) =>
      Object.fromEntries((plan.statusUpdates[0]!.patch.status.conditions as { type: string; status: string; reason: string; message: string }[]).map((c) => [c.type, c]));
    const base = {
      selector: { matchLabels: { app: 'orders' } },
      endpoints: [
        { port: 'metrics', interval: '1m' },
        { port: 'admin', path: '/metrics?format=prometheus' },
      ],
      rules: [
        { name: 'Backlog', expr: 'orders_backlog > 100' },
        { name: 'ErrorRate', expr: 'rate(http_requests_total{job="vigil/shop/orders/metrics"}[1m]) > 1', labels: { namespace: 'payments' } },
        { name: 'AdminErrors', expr: 'rate(http_requests_total{job="vigil/shop/orders/admin"}[5m]) > 1' },
      ],
    };

    it('keeps rendering what still validates: refused endpoints and rules are left out, the rest (ServiceDown, route) runs; Valid names each part', () => {
      const plan = planReconcile(input([upgraded(base), service('shop', 'other')]));
      // Nothing else is harmed: the other service is rendered as always.
      expect(plan.rendered.included).toEqual([
        { namespace: 'shop', name: 'orders' },
        { namespace: 'shop', name: 'other' },
      ]);
      const prom = plan.rendered.prometheus;
      expect(scrapeJobNames(prom['prometheus.yml']!)).toEqual(expect.arrayContaining(['vigil/shop/orders/metrics', 'vigil/shop/other/metrics']));
      expect(prom['prometheus.yml']).not.toContain('vigil/shop/orders/admin');
      const rules = prom['shop__orders.rules.yaml']!;
      expect(rules).toContain('alert: ServiceDown');
      expect(rules).toContain('alert: Backlog');
      expect(rules).not.toContain('ErrorRate');
      // Its job is left out with the endpoint: the rule reads nothing and is refused in the second round.
      expect(rules).not.toContain('AdminErrors');
      const c = conditionsOf(plan);
      expect(c.Valid).toMatchObject({ status: 'False', reason: 'NoLongerValid' });
      expect(c.Valid!.message).toContain('shop/orders: spec.endpoints[1].path: must not contain ?');
      expect(c.Valid!.message).toContain('shop/orders: spec.rules[1].expr: ');
      expect(c.Valid!.message).toContain('shop/orders: spec.rules[1].labels.namespace: ');
      expect(c.Valid!.message).toMatch(
        /; the config keeps running this generation \(valid for an earlier operator version\) without spec\.endpoints\[1\] \(port admin\), spec\.rules\[1\] \(ErrorRate\), spec\.rules\[2\] \(AdminErrors\), which this operator version refuses$/,
      );
      expect(c.Ready).toMatchObject({ status: 'False', reason: 'NoLongerValid' });
      expect(c.TargetsHealthy!.reason).not.toBe('NotScraped');
      // These settings name no default recipients: NoRecipients is the other Warning (conditions.test.ts).
      expect(plan.statusUpdates[0]!.events.filter((e) => e.reason !== 'NoRecipients')).toEqual([expect.objectContaining({ type: 'Warning', reason: 'NoLongerValid' })]);
      // The stored generation stays what it was: fixing the spec needs a new generation.
      expect(plan.statusUpdates[0]!.patch.status).toMatchObject({ lastValidGeneration: 3, lastValidSpec: JSON.stringify(base) });

      // Once applied, ConfigApplied says what runs.
      const applied = planReconcile(
        input([upgraded(base), service('shop', 'other')], {
          prometheus: { appliedHash: plan.rendered.prometheusHash },
          alertmanager: { appliedHash: plan.rendered.alertmanagerHash },
          targetsFor: () => ({ discovered: 1, healthy: 1 }),
        }),
      );
      expect(applied.statusUpdates.find((u) => u.name === 'orders')!.patch.status.conditions).toContainEqual(expect.objectContaining({ type: 'ConfigApplied', status: 'True' }));
      expect(conditionsOf(applied).ConfigApplied!.message).toMatch(
        /^this generation is in force without spec\.endpoints\[1\] \(port admin\), .*which this operator version refuses: Prometheus runs config/,
      );
    });

    it('a later invalid edit keeps the stored generation, reduced the same way', () => {
      const plan = planReconcile(input([upgraded({ ...base, rules: [{ name: 'Broken', expr: 'rate(x[5m]' }] }, 4, 3, base)]));
      expect(plan.rendered.included).toEqual([{ namespace: 'shop', name: 'orders' }]);
      const c = conditionsOf(plan);
      expect(c.Valid).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
      expect(c.Valid!.message).toMatch(/; the config keeps running generation 3, the last valid one, without spec\.endpoints\[1\] \(port admin\), /);
    });

    it('nothing can be kept when the refused part is not a rule or an endpoint: left out, and the status says why', () => {
      const spec = { ...base, endpoints: [{ port: 'admin', path: '/metrics?format=prometheus' }], rules: [] };
      const plan = planReconcile(input([upgraded(spec), service('shop', 'other')]));
      expect(plan.rendered.included).toEqual([{ namespace: 'shop', name: 'other' }]);
      const c = conditionsOf(plan);
      expect(c.Valid).toMatchObject({ status: 'False', reason: 'NoLongerValid' });
      expect(c.Valid!.message).toMatch(
        /; this operator version also refuses this generation, which an earlier one ran, and no part of it can be kept \(only rules and endpoints can be left out\): the service is not monitored until the spec is fixed$/,
      );
      expect(c.ConfigApplied).toMatchObject({ status: 'False', reason: 'NotIncluded' });
      expect(c.ConfigApplied!.message).toBe('left out of the generated config: this operator version refuses this generation, which an earlier one ran; fix what Valid names');
    });
    it('a for that a Prometheus restart outlasts runs with the shortest accepted one (it fires no sooner) and Valid says so', () => {
      const spec = {
        selector: { matchLabels: { app: 'orders' } },
        endpoints: [{ port: 'metrics', interval: '4m' }],
        downAlert: { for: '1m' },
        rules: [{ name: 'Backlog', expr: 'orders_backlog > 100' }],
      };
      const plan = planReconcile(input([upgraded(spec), service('shop', 'other')]));
      expect(plan.rendered.included).toEqual([
        { namespace: 'shop', name: 'orders' },
        { namespace: 'shop', name: 'other' },
      ]);
      // 4m + 10s + 30s without up at worst: with 15s evaluations, 19 of them (4m45s) outlast it.
      const rules = parse(plan.rendered.prometheus['shop__orders.rules.yaml']!) as { groups: { rules: { alert?: string; for?: string }[] }[] };
      expect(rules.groups[0]!.rules.filter((r) => r.alert === 'ServiceDown')).toEqual([expect.objectContaining({ for: '4m45s' })]);
      expect(rules.groups[0]!.rules.map((r) => r.alert)).toContain('Backlog');
      const c = conditionsOf(plan);
      expect(c.Valid).toMatchObject({ status: 'False', reason: 'NoLongerValid' });
      expect(c.Valid!.message).toContain('shop/orders: spec.downAlert.for: 1m is too short for spec.endpoints[0] (interval 4m, scrapeTimeout 10s, evaluationInterval 15s): after a Prometheus restart');
      expect(c.Valid!.message).toMatch(
        /; the config keeps running this generation \(valid for an earlier operator version\) without spec\.downAlert\.for 1m \(ServiceDown runs with for 4m45s\), which this operator version refuses$/,
      );
    });
  });

  it('records its install in the status and leaves objects another install holds alone (issue #14, two installs)', () => {
    const me = { namespace: 'vigil-b', selector: 'vigil.dev/install=b' };
    const labelled = (o: RawMonitoredService, install: string, status?: RawMonitoredService['status']): RawMonitoredService => ({
      ...o,
      metadata: { ...o.metadata, labels: { 'vigil.dev/install': install } },
      ...(status ? { status } : {}),
    });
    const mine = labelled(service('shop', 'mine'), 'b');
    // Held by vigil-a, whose recorded scope (all objects) still selects it: overlapping scopes.
    const held = labelled(service('shop', 'held'), 'b', { install: { namespace: 'vigil-a' } });
    // Held by vigil-a with a selector it no longer matches (relabelled a -> b): a stale claim.
    const moved = labelled(service('shop', 'moved'), 'b', { install: { namespace: 'vigil-a', selector: 'vigil.dev/install=a' } });
    const plan = planReconcile(input([mine, held, moved], { install: me }));
    expect(plan.rendered.included).toEqual([
      { namespace: 'shop', name: 'mine' },
      { namespace: 'shop', name: 'moved' },
    ]);
    expect(plan.rendered.prometheus['prometheus.yml']).not.toContain('vigil/shop/held/');
    expect(plan.otherInstall).toEqual([{ namespace: 'shop', name: 'held', install: { namespace: 'vigil-a' } }]);
    expect(plan.statusUpdates.map((u) => u.name)).toEqual(['mine', 'moved']);
    for (const u of plan.statusUpdates) expect(u.patch.status.install).toEqual(me);
    // The stale claim's selector is replaced; a scope part this install lacks is removed (merge patch null).
    const widened = planReconcile(input([labelled(service('shop', 'mine'), 'b', { install: { namespace: 'vigil-b', selector: 'x=y', watchNamespaces: ['shop'] } })], { install: me }));
    expect(widened.statusUpdates[0]!.patch.status.install).toEqual({ ...me, watchNamespaces: null });
    // Without an install (render CLI, tests) nothing is recorded.
    expect(planReconcile(input([mine])).statusUpdates[0]!.patch.status.install).toBeUndefined();
  });

  it('takes over the objects of an install that is gone, writes its own status on them, and names every claiming install (issue 22)', () => {
    const me = { namespace: 'vigil-b' };
    const claimedBy = (name: string, install: string): RawMonitoredService => ({
      ...service('shop', name),
      // What the claiming install last wrote: its config applied, its targets healthy, all green.
      status: {
        install: { namespace: install },
        appliedConfigHash: 'their-hash',
        discoveredTargets: 2,
        healthyTargets: 2,
        conditions: ['Valid', 'ConfigApplied', 'TargetsHealthy', 'Ready'].map((type) => ({
          type,
          status: 'True',
          reason: type,
          message: 'ok',
          observedGeneration: 1,
          lastTransitionTime: '2026-12-01T00:00:00Z',
        })),
      },
    });
    const objects = [claimedBy('orphan', 'vigil-gone'), claimedBy('held', 'vigil-alive'), claimedBy('mine', 'vigil-b')];
    const plan = planReconcile(input(objects, { install: me, installGone: (ns) => ns === 'vigil-gone' }));
    expect(plan.otherInstall).toEqual([{ namespace: 'shop', name: 'held', install: { namespace: 'vigil-alive' } }]);
    expect(plan.rendered.included).toEqual([
      { namespace: 'shop', name: 'mine' },
      { namespace: 'shop', name: 'orphan' },
    ]);
    const orphan = plan.statusUpdates.find((u) => u.name === 'orphan');
    expect(orphan?.patch.status.install).toEqual(me);
    // Its own conditions: this install's config is not applied yet, so nothing of the gone install's green stays.
    const conditions = new Map((orphan?.patch.status.conditions as { type: string; status: string; reason: string }[]).map((c) => [c.type, c]));
    expect(conditions.get('ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
    expect(conditions.get('Ready')?.status).toBe('False');
    expect(orphan?.patch.status.appliedConfigHash).toBeNull();
    // The install still running keeps its status as it wrote it; this install's own object builds on its own.
    expect(plan.statusUpdates.find((u) => u.name === 'held')).toBeUndefined();
    expect(plan.claimingInstalls).toEqual(['vigil-alive', 'vigil-gone']);
    // Without the verdict (never read) nobody is gone: both claims are respected.
    expect(planReconcile(input(objects, { install: me })).otherInstall.map((o) => o.name)).toEqual(['held', 'orphan']);
  });

  it('does not depend on the cache order and skips writes when hashes match', () => {
    const objs = [service('a', 'one'), service('b', 'two'), service('a', 'three')];
    const p1 = planReconcile(input(objs));
    const p2 = planReconcile(input([...objs].reverse()));
    expect(p2.rendered.prometheusHash).toBe(p1.rendered.prometheusHash);
    const p3 = planReconcile(input(objs, { prometheus: { configHash: p1.rendered.prometheusHash }, alertmanager: { configHash: p1.rendered.alertmanagerHash } }));
    expect(p3.writeConfigMap).toBe(false);
    expect(p3.writeSecret).toBe(false);
  });

  it('writes no status when nothing changed since the stored status', () => {
    const objs = [service('a', 'one')];
    const first = planReconcile(input(objs));
    expect(first.statusUpdates).toHaveLength(1);
    const stored = { ...objs[0], status: first.statusUpdates[0]!.patch.status } as RawMonitoredService;
    const second = planReconcile(input([stored], { now: '2025-01-01T00:05:00Z' }));
    expect(second.statusUpdates).toEqual([]);
  });

  it('leaves out objects being deleted', () => {
    const deleting = service('a', 'gone');
    deleting.metadata!.deletionTimestamp = '2025-01-01T00:00:00Z';
    const plan = planReconcile(input([deleting, service('a', 'kept')]));
    expect(plan.rendered.included).toEqual([{ namespace: 'a', name: 'kept' }]);
    expect(plan.statusUpdates.map((u) => u.name)).toEqual(['kept']);
  });

  it('stores a large config as one gzip bundle and a small one plain', () => {
    const small = planReconcile(input([service('a', 'one')]));
    expect(small.encoded.prometheus).toMatchObject({ ok: true, form: 'plain' });
    expect(small.undeliverable).toBeUndefined();
    const many = Array.from({ length: 150 }, (_, i) => service('a', `svc-${i}`));
    const large = planReconcile(input(many));
    expect(large.encoded.prometheus).toMatchObject({ ok: true, form: 'bundle' });
    // Not computed for an object that already holds the desired hash.
    const unchanged = planReconcile(input(many, { prometheus: { configHash: large.rendered.prometheusHash } }));
    expect(unchanged.encoded.prometheus).toBeUndefined();
  });

  it('marks pending services ConfigTooLarge (once, with an Event) when even the bundle does not fit, and keeps applied ones True', () => {
    const objs = [service('a', 'one'), service('a', 'two')];
    // `one` alone fits, and both servers run that config: it is True at its generation.
    const alone = planReconcile(input([objs[0]!]));
    const applied = { ...objs[0], status: alone.statusUpdates[0]!.patch.status } as RawMonitoredService;
    const appliedStatus = planReconcile(
      input([applied], {
        prometheus: { configHash: alone.rendered.prometheusHash, appliedHash: alone.rendered.prometheusHash },
        alertmanager: { configHash: alone.rendered.alertmanagerHash, appliedHash: alone.rendered.alertmanagerHash },
      }),
    ).statusUpdates[0]!.patch.status;
    const one = { ...objs[0], status: appliedStatus } as RawMonitoredService;
    expect((appliedStatus.conditions as { type: string; status: string }[]).find((c) => c.type === 'ConfigApplied')?.status).toBe('True');
    // Then `two` arrives and the config no longer fits.
    const sidecars = {
      prometheus: { configHash: alone.rendered.prometheusHash, appliedHash: alone.rendered.prometheusHash },
      alertmanager: { configHash: alone.rendered.alertmanagerHash, appliedHash: alone.rendered.alertmanagerHash },
    };
    const plan = planReconcile(input([one, objs[1]!], { ...sidecars, limits: { maxObjectBytes: 500, plainLimitBytes: 100 } }));
    expect(plan.encoded.prometheus).toMatchObject({ ok: false });
    expect(plan.undeliverable).toMatch(
      /^the config for 2 MonitoredServices cannot be written: the Prometheus config \(ConfigMap vigil-prometheus-config\) is \d+ bytes even gzip-compressed \(\d+ uncompressed\), over the 500-byte limit of one Kubernetes object; .*the last written config keeps running$/,
    );
    const two = plan.statusUpdates.find((u) => u.name === 'two')!;
    const cond = (two.patch.status.conditions as { type: string; status: string; reason: string; message: string }[]).find((c) => c.type === 'ConfigApplied');
    expect(cond).toMatchObject({ status: 'False', reason: 'ConfigTooLarge', message: plan.undeliverable });
    expect(two.events.filter((e) => e.reason !== 'NoRecipients')).toEqual([expect.objectContaining({ type: 'Warning', reason: 'ConfigTooLarge', message: plan.undeliverable })]);
    expect(plan.statusUpdates.find((u) => u.name === 'one')).toBeUndefined();

    // Still too large after another change: the condition follows, the Event is not repeated.
    const twoStored = { ...objs[1], status: two.patch.status } as RawMonitoredService;
    const again = planReconcile(input([one, twoStored, service('b', 'three')], { ...sidecars, limits: { maxObjectBytes: 500, plainLimitBytes: 100 } }));
    expect(again.statusUpdates.find((u) => u.name === 'two')?.events ?? []).toEqual([]);
  });

  it('Alertmanager dead or running another config: ConfigApplied and Ready say so; nothing while a newer config is pending', () => {
    const first = planReconcile(input([service('a', 'one')]));
    const appliedAt = '2025-01-01T00:00:00Z';
    const hashes = { prometheus: { appliedHash: first.rendered.prometheusHash }, alertmanager: { appliedHash: first.rendered.alertmanagerHash, appliedAt } };
    const running = { configHash: alertmanagerConfigHashValue(first.rendered.alertmanager['alertmanager.yml']!), lastReloadSuccessful: true, polledAt: Date.parse(appliedAt) + 5000 };
    const cond = (plan: ReturnType<typeof planReconcile>, type: string) =>
      (plan.statusUpdates[0]?.patch.status as { conditions: { type: string; status: string; reason: string; message: string }[] } | undefined)?.conditions.find((c) => c.type === type);

    const ok = planReconcile(input([service('a', 'one')], { ...hashes, alertmanagerRunning: running }));
    expect(cond(ok, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });

    const dead = planReconcile(input([service('a', 'one')], { ...hashes, alertmanagerUnreachable: 'Alertmanager at http://am:9093 does not answer since T (refused)' }));
    expect(cond(dead, 'ConfigApplied')).toMatchObject({ status: 'Unknown', reason: 'AlertmanagerUnreachable', message: 'Alertmanager at http://am:9093 does not answer since T (refused)' });
    expect(cond(dead, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'AlertmanagerUnreachable' });

    const other = planReconcile(input([service('a', 'one')], { ...hashes, alertmanagerRunning: { ...running, configHash: running.configHash + 1 } }));
    expect(cond(other, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'AlertmanagerConfigMismatch' });
    expect(cond(other, 'ConfigApplied')?.message).toContain(`config ${first.rendered.alertmanagerHash}, which its sidecar applied, hashes to ${running.configHash}`);
    expect(cond(other, 'Ready')).toMatchObject({ status: 'False', reason: 'AlertmanagerConfigMismatch' });

    // A poll sent before the sidecar's reload (2 s margin for the pods' clocks) shows the previous config:
    // a reload in progress, not a foreign config (issue #22); the service stays ConfigApplied.
    const inFlight = planReconcile(input([service('a', 'one')], { ...hashes, alertmanagerRunning: { ...running, configHash: running.configHash + 1, polledAt: Date.parse(appliedAt) + 1000 } }));
    expect(cond(inFlight, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
    expect(cond(inFlight, 'Ready')?.reason).not.toBe('AlertmanagerConfigMismatch');

    // The sidecar has not applied the desired config yet: Alertmanager rightly runs the older one.
    const pending = planReconcile(input([service('a', 'one')], { prometheus: hashes.prometheus, alertmanager: { appliedHash: 'older' }, alertmanagerRunning: { ...running, configHash: 7 } }));
    expect(cond(pending, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
  });

  it('Prometheus running other scrape jobs than the applied config: ConfigApplied and Ready False (PrometheusConfigMismatch); polls older than the apply say nothing', () => {
    const first = planReconcile(input([service('a', 'one')]));
    const appliedAt = '2025-01-01T00:00:00Z';
    const after = Date.parse(appliedAt) + 5000;
    const hashes = { prometheus: { appliedHash: first.rendered.prometheusHash, appliedAt }, alertmanager: { appliedHash: first.rendered.alertmanagerHash } };
    // What render gives here: the self-scrape job of the test settings and the service's job.
    const jobs = scrapeJobNames(first.rendered.prometheus['prometheus.yml']!);
    expect(jobs).toContain('vigil/a/one/metrics');
    const cond = (plan: ReturnType<typeof planReconcile>, type: string) =>
      (plan.statusUpdates[0]?.patch.status as { conditions: { type: string; status: string; reason: string; message: string }[] } | undefined)?.conditions.find((c) => c.type === type);

    const ok = planReconcile(input([service('a', 'one')], { ...hashes, prometheusRunning: { jobNames: jobs, scrapeFiles: [], polledAt: after } }));
    expect(cond(ok, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });

    const foreign = planReconcile(input([service('a', 'one')], { ...hashes, prometheusRunning: { jobNames: ['node', 'somebody-else'], scrapeFiles: [], polledAt: after } }));
    expect(cond(foreign, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'PrometheusConfigMismatch' });
    expect(cond(foreign, 'ConfigApplied')?.message).toBe(
      `Prometheus runs a config Vigil did not write (its scrape jobs are not those of config ${first.rendered.prometheusHash}, which its sidecar applied: ` +
        `missing ${jobs.length} of Vigil's ${jobs.length} scrape jobs (${jobs.join(', ')}); 2 scrape jobs Vigil did not write (node, somebody-else)): ` +
        'it was reloaded by something else, or restarted from other files',
    );
    expect(cond(foreign, 'Ready')).toMatchObject({ status: 'False', reason: 'PrometheusConfigMismatch' });

    // The same answer, but sent before the sidecar's reload (+ 2 s): the previous config, not a mismatch.
    const stale = planReconcile(input([service('a', 'one')], { ...hashes, prometheusRunning: { jobNames: ['node'], scrapeFiles: [], polledAt: Date.parse(appliedAt) + 1000 } }));
    expect(cond(stale, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });

    // A newer config not applied yet: ApplyPending, whatever Prometheus runs.
    const pending = planReconcile(
      input([service('a', 'one')], { prometheus: { appliedHash: 'older', appliedAt }, alertmanager: hashes.alertmanager, prometheusRunning: { jobNames: ['node'], scrapeFiles: [], polledAt: after } }),
    );
    expect(cond(pending, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
  });

  it('leaves the services that do not fit out (newest, then largest first) so that the others run, and names them', () => {
    // Random text does not compress: a service with 40 such rules is far larger than the others.
    const noise = (i: number) => createHash('sha256').update(`noise-${i}`).digest('hex').repeat(4);
    const big = (ns: string, name: string, generation = 1): RawMonitoredService => ({
      ...service(ns, name, 'up == 0', generation),
      spec: {
        selector: { matchLabels: { app: name } },
        endpoints: [{ port: 'metrics' }],
        rules: Array.from({ length: 40 }, (_, i) => ({ name: `R${i}`, expr: 'up == 0', description: noise(i) })),
      },
    });
    const small = [service('a', 'one'), service('a', 'two')];
    const limits = { plainLimitBytes: 100, maxObjectBytes: planReconcileBytes(small) + 400 };

    const plan = planReconcile(input([...small, big('b', 'huge')], { limits }));
    expect(plan.undeliverable).toBeUndefined();
    expect(plan.encoded.prometheus).toMatchObject({ ok: true });
    expect(plan.rendered.included).toEqual([
      { namespace: 'a', name: 'one' },
      { namespace: 'a', name: 'two' },
    ]);
    const cond = (name: string) =>
      (plan.statusUpdates.find((u) => u.name === name)!.patch.status.conditions as { type: string; status: string; reason: string; message: string }[]).find((c) => c.type === 'ConfigApplied');
    expect(cond('huge')).toMatchObject({ status: 'False', reason: 'ConfigTooLarge' });
    expect(cond('huge')?.message).toMatch(/^left out of the generated config: with every service it does not fit in one Kubernetes object \(\d+ bytes even gzip-compressed/);
    expect(cond('huge')?.message).toContain('Left out, newest and largest first: b/huge (1 of 3); the other 2 services run');
    expect(plan.statusUpdates.find((u) => u.name === 'huge')?.events).toEqual([expect.objectContaining({ type: 'Warning', reason: 'ConfigTooLarge' })]);
    // The others wait for their sidecars as usual: not held back by b/huge.
    expect(cond('one')).toMatchObject({ status: 'False', reason: 'ApplyPending' });

    // What runs keeps running: b/huge applied at its generation stays in, a newcomer that no longer fits is left out.
    const hugeRunning = {
      ...big('b', 'huge'),
      status: { observedGeneration: 1, conditions: [{ type: 'ConfigApplied', status: 'True', reason: 'ConfigApplied', message: 'm', lastTransitionTime: 'T', observedGeneration: 1 }] },
    } as RawMonitoredService;
    const roomy = { plainLimitBytes: 100, maxObjectBytes: planReconcileBytes([hugeRunning, small[0]!]) + 50 };
    const next = planReconcile(input([hugeRunning, small[0]!, big('c', 'newcomer')], { limits: roomy }));
    expect(next.rendered.included.map((r) => r.name)).toEqual(['one', 'huge']);
    const newcomer = (next.statusUpdates.find((u) => u.name === 'newcomer')!.patch.status.conditions as { type: string; reason: string; message: string }[]).find((c) => c.type === 'ConfigApplied');
    expect(newcomer).toMatchObject({ reason: 'ConfigTooLarge' });
    expect(newcomer?.message).toContain('c/newcomer (1 of 3)');

    // Left out, it has no scrape job, so Prometheus never records its clock: no grace (NotDiscoveredYet would last for ever).
    const noRecord = planReconcile(input([...small, big('b', 'huge')], { limits, targetsFor: () => ({ discovered: 0, healthy: 0 }), scrapeConfigLoaded: () => null }));
    const targetsOf = (name: string) => (noRecord.statusUpdates.find((u) => u.name === name)!.patch.status.conditions as { type: string; reason: string }[]).find((c) => c.type === 'TargetsHealthy');
    expect(targetsOf('huge')).toMatchObject({ reason: 'NoTargets' });
    // The included ones wait for Prometheus to load them (ApplyPending): within the grace.
    expect(targetsOf('one')).toMatchObject({ reason: 'NotDiscoveredYet' });
  });

  it('run-time isolation: each server gets the versions isolate chooses, and a rejected service says so once per generation (issue 22)', () => {
    const a1 = service('a', 'api', 'up == 0', 1);
    const a2 = service('a', 'api', 'up == 1', 2);
    const b2 = service('b', 'web', 'up == 2', 2);
    const validated = (raw: RawMonitoredService) => {
      const r = validateMonitoredService(raw);
      if (!r.ok) throw new Error('invalid fixture');
      return r.service;
    };
    const lastApplied = validated(a1);
    // Prometheus keeps a/api at generation 1, Alertmanager gets generation 2.
    const isolate = (valid: Parameters<NonNullable<ReconcileInput['isolate']>>[0]) => ({
      prometheus: valid.map((s) => (s.metadata.name === 'api' ? lastApplied : s)),
      alertmanager: valid,
    });
    const rejected = new Map([['a/api', { reason: 'RejectedByPrometheus', message: 'Prometheus refused config h because of generation 2 of this service' }]]);
    const plan = planReconcile(input([a2, b2], { isolate, rejected }));
    const expected = renderConfig([lastApplied, validated(b2)], settings);
    expect(plan.rendered.prometheusHash).toBe(expected.prometheusHash);
    expect(plan.rendered.alertmanagerHash).toBe(renderConfig([validated(a2), validated(b2)], settings).alertmanagerHash);
    expect(plan.rendered.included).toEqual([
      { namespace: 'a', name: 'api' },
      { namespace: 'b', name: 'web' },
    ]);
    const update = plan.statusUpdates.find((u) => u.name === 'api')!;
    const conditions = update.patch.status.conditions as { type: string; status: string; reason: string; message: string }[];
    expect(conditions.find((c) => c.type === 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'RejectedByPrometheus', message: rejected.get('a/api')!.message });
    expect(conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'RejectedByPrometheus' });
    expect(update.events).toContainEqual({ type: 'Warning', reason: 'RejectedByPrometheus', message: rejected.get('a/api')!.message });
    expect(plan.statusUpdates.find((u) => u.name === 'web')!.patch.status.conditions).not.toContainEqual(expect.objectContaining({ reason: 'RejectedByPrometheus' }));
    // The same rejection again: no second Event.
    const again = planReconcile(input([{ ...a2, status: update.patch.status as RawMonitoredService['status'] }], { isolate, rejected }));
    expect(again.statusUpdates.flatMap((u) => u.events)).toEqual([]);

    // With the generation that runs instead, the status records it as the one in force: a restarted
    // operator (or an invalid edit) renders exactly that generation again.
    const withInForce = new Map([['a/api', { ...rejected.get('a/api')!, inForce: lastApplied }]]);
    const recorded = planReconcile(input([a2, b2], { isolate, rejected: withInForce })).statusUpdates.find((u) => u.name === 'api')!.patch.status as RawMonitoredService['status'];
    expect(recorded).toMatchObject({ observedGeneration: 2, lastValidGeneration: 1 });
    const restored = lastValidInForce({ ...a2, status: recorded }, validateMonitoredService)?.service;
    expect(restored?.metadata.generation).toBe(1);
    expect(renderConfig([restored!], settings).prometheusHash).toBe(renderConfig([lastApplied], settings).prometheusHash);
    expect(renderConfig([restored!], settings).alertmanagerHash).toBe(renderConfig([lastApplied], settings).alertmanagerHash);
  });

  it('a TargetsHealthy limit message names the limit of the generation Prometheus runs, not of the newer one it refused', () => {
    const withLimit = (generation: number, sampleLimit: number) => {
      const raw = service('a', 'api', `up == ${generation}`, generation);
      (raw.spec as Record<string, unknown>).limits = { sampleLimit };
      return raw;
    };
    const running = validateMonitoredService(withLimit(1, 300));
    if (!running.ok) throw new Error('invalid fixture');
    const rejected = new Map([['a/api', { reason: 'RejectedByPrometheus', message: 'Prometheus refused config h because of generation 2 of this service', inForce: running.service }]]);
    const failing = { discovered: 1, healthy: 0, failures: [{ reason: 'LimitExceeded', error: 'sample limit exceeded', targets: 1, instance: '10.0.0.3:8080' }] };
    const plan = planReconcile(input([withLimit(2, 500)], { rejected, targetsFor: () => failing }));
    const conditions = plan.statusUpdates[0]!.patch.status.conditions as { type: string; reason: string; message: string }[];
    const targets = conditions.find((c) => c.type === 'TargetsHealthy')!;
    expect(targets.reason).toBe('LimitExceeded');
    expect(targets.message).toContain('spec.limits.sampleLimit 300');
    expect(targets.message).not.toContain('500');
    // Without a refusal the current generation runs, with its own limit.
    const current = planReconcile(input([withLimit(2, 500)], { targetsFor: () => failing })).statusUpdates[0]!.patch.status.conditions as { type: string; message: string }[];
    expect(current.find((c) => c.type === 'TargetsHealthy')!.message).toContain('spec.limits.sampleLimit 500');
  });

  describe('discovery grace of a service without targets (the clock of its ServiceDown alert, kept by Prometheus)', () => {
    const now = '2025-01-01T00:10:00Z';
    const nowMs = Date.parse(now);
    const hashOf = (raw: RawMonitoredService) => {
      const r = validateMonitoredService(raw);
      if (!r.ok) throw new Error('invalid fixture');
      return scrapeConfigHash(r.service, settings);
    };
    // Default scrape timing (15s interval, 10s timeout): 2 x 15 s + 30 s.
    const graceMs = 60_000;
    const targets = (raw: RawMonitoredService, loaded: (hash: string) => number | null | undefined, over: Partial<ReconcileInput> = {}) => {
      // Both servers run it: Ready then follows TargetsHealthy.
      const { rendered } = planReconcile(input([raw], over));
      const applied = { prometheus: { appliedHash: rendered.prometheusHash }, alertmanager: { appliedHash: rendered.alertmanagerHash } };
      const plan = planReconcile(
        input([raw], {
          now,
          ...applied,
          targetsFor: () => ({ discovered: 0, healthy: 0 }),
          scrapeConfigLoaded: (ns, name, hash) => (ns === 'a' && name === 'api' ? loaded(hash) : undefined),
          ...over,
        }),
      );
      const conditions = plan.statusUpdates[0]!.patch.status.conditions as { type: string; status: string; reason: string; message: string }[];
      return { plan, targets: conditions.find((c) => c.type === 'TargetsHealthy')!, ready: conditions.find((c) => c.type === 'Ready')! };
    };

    it('within the grace: Unknown NotDiscoveredYet, Ready not False for it, and the plan says when the grace ends', () => {
      const raw = service('a', 'api');
      const loadedAt = nowMs - 20_000;
      const within = targets(raw, (hash) => (hash === hashOf(raw) ? loadedAt : null));
      expect(within.targets).toMatchObject({ status: 'Unknown', reason: 'NotDiscoveredYet' });
      expect(within.targets.message).toBe(
        'no target discovered yet: Prometheus discovers and first scrapes the targets of new or changed scrape jobs within 1m of first evaluating their rules (then, without a target, NoTargets)',
      );
      expect(within.ready).toMatchObject({ status: 'Unknown', reason: 'NotDiscoveredYet' });
      expect(within.plan.discoveryGraceEndsAt).toBe(loadedAt + graceMs);
    });

    it('rules not evaluated yet with the current scrape jobs (no record of their hash): within the grace, its end not known yet', () => {
      const older = targets(service('a', 'api'), () => null);
      expect(older.targets).toMatchObject({ status: 'Unknown', reason: 'NotDiscoveredYet' });
      expect(older.plan.discoveryGraceEndsAt).toBeUndefined();
    });

    it('no grace when Prometheus will not run its jobs: its reload of the config failed, or the config cannot be written', () => {
      const raw = service('a', 'api');
      const { rendered } = planReconcile(input([raw]));
      const failed = targets(raw, () => null, { prometheus: { appliedHash: 'older', failedHash: rendered.prometheusHash, reloadError: 'parse error' } });
      expect(failed.targets).toMatchObject({ status: 'False', reason: 'NoTargets' });
      const unwritable = targets(raw, () => null, { limits: { maxObjectBytes: 10, plainLimitBytes: 1 } });
      expect(unwritable.targets).toMatchObject({ status: 'False', reason: 'NoTargets' });
      // The same while the sidecar has not applied it yet: within the grace.
      expect(targets(raw, () => null, { prometheus: { appliedHash: 'older' } }).targets).toMatchObject({ reason: 'NotDiscoveredYet' });
    });

    it("reads the record over its ServiceDown rule's window (recordWindow), not another", () => {
      const raw = service('a', 'api');
      const r = validateMonitoredService(raw);
      if (!r.ok) throw new Error('invalid fixture');
      const { windowMs } = recordWindow(r.service, settings);
      const asked: number[] = [];
      const within = targets(raw, () => null, {
        scrapeConfigLoaded: (_ns, _name, hash, window) => {
          asked.push(window);
          return hash === hashOf(raw) && window === windowMs ? nowMs - 20_000 : null;
        },
      });
      expect(asked).toEqual([windowMs]);
      expect(within.plan.discoveryGraceEndsAt).toBe(nowMs - 20_000 + graceMs);
    });

    it('after the grace, or loaded long ago: False NoTargets as before', () => {
      const raw = service('a', 'api');
      const after = targets(raw, () => nowMs - graceMs);
      expect(after.targets).toMatchObject({ status: 'False', reason: 'NoTargets' });
      expect(after.ready).toMatchObject({ status: 'False', reason: 'NoTargets' });
      expect(targets(raw, () => 0).targets).toMatchObject({ status: 'False', reason: 'NoTargets' });
      expect(targets(raw, () => 0).plan.discoveryGraceEndsAt).toBeUndefined();
    });

    it('no grace without the down alert (nothing records the clock), nor while the clock is unknown', () => {
      const quiet = service('a', 'api');
      (quiet.spec as Record<string, unknown>).downAlert = { enabled: false };
      expect(targets(quiet, () => null).targets).toMatchObject({ status: 'False', reason: 'NoTargets' });
      expect(targets(service('a', 'api'), () => undefined).targets).toMatchObject({ status: 'False', reason: 'NoTargets' });
      // A discovered target needs no grace.
      const discovered = targets(service('a', 'api'), () => null, { targetsFor: () => ({ discovered: 1, healthy: 1 }) });
      expect(discovered.targets).toMatchObject({ status: 'True' });
    });

    it('the grace ends with nothing else changing: the status memo does not skip the service then', () => {
      const raw = service('a', 'api');
      const memo = new UnchangedStatuses();
      const loadedAt = nowMs - 20_000;
      const { rendered } = planReconcile(input([raw]));
      // The controller's validation is cached per object (assemble/service-cache.ts): the memo compares results by identity.
      const validated = new Map<RawMonitoredService, ReturnType<typeof validateMonitoredService>>();
      const validate = (o: RawMonitoredService) => validated.get(o) ?? validated.set(o, validateMonitoredService(o)).get(o)!;
      const at = (time: string, object: RawMonitoredService) =>
        planReconcile(
          input([object], {
            validate,
            now: time,
            prometheus: { appliedHash: rendered.prometheusHash },
            alertmanager: { appliedHash: rendered.alertmanagerHash },
            targetsFor: () => ({ discovered: 0, healthy: 0 }),
            scrapeConfigLoaded: () => loadedAt,
            statusMemo: memo,
          }),
        );
      const first = at(now, raw);
      const stored = { ...raw, status: first.statusUpdates[0]!.patch.status as RawMonitoredService['status'] };
      // Later, still within the grace: nothing to write, and the memo remembers it.
      expect(at('2025-01-01T00:10:05Z', stored).statusUpdates).toEqual([]);
      expect(at('2025-01-01T00:10:06Z', stored).statusUpdates).toEqual([]);
      expect(memo.hits).toBe(1);
      const after = at('2025-01-01T00:10:41Z', stored);
      const conditions = after.statusUpdates[0]?.patch.status.conditions as { type: string; status: string; reason: string }[] | undefined;
      expect(conditions?.find((c) => c.type === 'TargetsHealthy')).toMatchObject({ status: 'False', reason: 'NoTargets' });
    });

    it('a misconfigured selector is not hidden by the grace', () => {
      const misconfigured = targets(service('a', 'api'), () => null, { servicesIn: () => [] });
      expect(misconfigured.targets).toMatchObject({ status: 'False', reason: 'NoMatchingService' });
    });
  });
});

/** Compressed bytes of the larger of the two generated objects for these objects (bundles). */
function planReconcileBytes(objects: RawMonitoredService[]): number {
  const { rendered } = planReconcile(input(objects));
  return Math.max(
    ...[rendered.prometheus, rendered.alertmanager].map((files) => {
      const e = encodeFileSet(files, { plainLimitBytes: 100 });
      if (!e.ok) throw new Error('does not fit');
      return e.bytes;
    }),
  );
}

describe('planReconcile with Prometheus shards', () => {
  const shardNamespaces = (() => {
    const names = Array.from({ length: 20 }, (_, i) => `team-${i}`);
    return [names.find((ns) => shardOfNamespace(ns, 2) === 0)!, names.find((ns) => shardOfNamespace(ns, 2) === 1)!];
  })();
  const conditionOf = (p: ReturnType<typeof planReconcile>, namespace: string, type: string) =>
    (p.statusUpdates.find((u) => u.namespace === namespace)!.patch.status as { conditions: { type: string; status: string; reason: string; message: string }[] }).conditions.find(
      (c) => c.type === type,
    )!;

  it("reads each service's ConfigApplied and target health from its own shard", () => {
    const cache = new ServiceCache(validateMonitoredService, undefined, undefined, true);
    cache.setShards(2);
    const stages = cache.forReconcile(settings);
    const objects = shardNamespaces.map((ns) => service(ns, 'api'));
    const shardInput = (over: Partial<ReconcileInput>) => input(objects, { validate: stages.validate, render: stages.render, ...over });
    const first = planReconcile(shardInput({}));
    const shards = first.rendered.prometheusPartitions!.shards!;
    expect(shards).toHaveLength(2);
    expect(shards.map((s) => includedRefsOf(s))).toEqual([[`${shardNamespaces[0]}/api`], [`${shardNamespaces[1]}/api`]]);
    const names = ['Prometheus shard 0 (ConfigMap vigil-prometheus-config)', 'Prometheus shard 1 (ConfigMap vigil-prometheus-config-shard-1)'];
    const plan = planReconcile(
      shardInput({
        alertmanager: { appliedHash: first.rendered.alertmanagerHash },
        // Shard 1's poller fails: it knows no counts (TargetsPoller drops them rather than freeze them).
        targetsFor: (ns) => (ns === shardNamespaces[0] ? { discovered: 1, healthy: 1 } : undefined),
        shards: {
          shardOf: (ns) => shardOfNamespace(ns, 2),
          of: [
            { name: names[0]!, prometheus: { configHash: shards[0]!.hash, appliedHash: shards[0]!.hash, appliedAt: '2025-01-01T00:00:00Z' } },
            {
              name: names[1]!,
              prometheus: { configHash: shards[1]!.hash },
              targetsUnavailable: { reason: 'PrometheusUnreachable', message: 'Prometheus shard 1 at http://p-1:9090 does not answer' },
            },
          ],
        },
      }),
    );
    expect(conditionOf(plan, shardNamespaces[0]!, 'ConfigApplied')).toMatchObject({ status: 'True', reason: 'ConfigApplied' });
    expect(conditionOf(plan, shardNamespaces[0]!, 'ConfigApplied').message).toContain(`${names[0]} runs config ${shards[0]!.hash}`);
    expect(conditionOf(plan, shardNamespaces[1]!, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'ApplyPending' });
    expect(conditionOf(plan, shardNamespaces[1]!, 'ConfigApplied').message).toContain(`waiting for ${names[1]} to load`);
    expect(conditionOf(plan, shardNamespaces[0]!, 'TargetsHealthy')).toMatchObject({ status: 'True' });
    expect(conditionOf(plan, shardNamespaces[1]!, 'TargetsHealthy')).toMatchObject({
      status: 'Unknown',
      reason: 'PrometheusUnreachable',
      message: 'Prometheus shard 1 at http://p-1:9090 does not answer',
    });
  });
});

function includedRefsOf(config: { partitions: { refs: { namespace: string; name: string }[] }[] }): string[] {
  return config.partitions.flatMap((p) => p.refs.map((r) => `${r.namespace}/${r.name}`));
}
