import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { renderAlertmanagerConfig } from './alertmanager.js';
import { testEmailAlert, testTokenProblem } from './test-email.js';
import { MonitoredServiceSchema } from '../api/schema.js';
import { defaultSettings } from './index.js';
import { recipientSetReceiver } from './names.js';

const settings = { externalLabels: { cluster: 'kind' }, alertmanagerUrl: 'https://am.example.com/alertmanager/' };
const now = new Date('2026-12-07T12:00:00.000Z');

describe('testEmailAlert', () => {
  const alert = testEmailAlert({ namespace: 'shop', name: 'checkout', spec: { notify: { email: { to: ['checkout-team@example.com'] } } } }, '1765108800', settings, now);

  it("carries the service's routing labels, the external labels and the token, with alertname VigilTestEmail", () => {
    expect(alert.labels).toEqual({
      alertname: 'VigilTestEmail',
      cluster: 'kind',
      namespace: 'shop',
      severity: 'info',
      vigil_monitoredservice: 'checkout',
      vigil_namespace: 'shop',
      vigil_receiver: recipientSetReceiver({ to: ['checkout-team@example.com'], sendResolved: true }),
      vigil_test_token: '1765108800',
    });
  });

  it('names the receiver the rules name: sendResolved defaults to true, no recipients is the default receiver', () => {
    const receiverOf = (spec: unknown) => testEmailAlert({ namespace: 'shop', name: 'checkout', spec }, 't', settings, now).labels.vigil_receiver;
    expect(receiverOf({ notify: { email: { to: ['a@example.com'] } } })).toBe(receiverOf({ notify: { email: { to: ['a@example.com'], sendResolved: true } } }));
    expect(receiverOf({ notify: { email: { to: ['a@example.com'], sendResolved: false } } })).not.toBe(receiverOf({ notify: { email: { to: ['a@example.com'] } } }));
    expect(receiverOf({})).toBe('vigil-default');
    expect(receiverOf(undefined)).toBe('vigil-default');
  });

  it('fires from now for 5 minutes, so it resolves by itself', () => {
    expect(alert.startsAt).toBe('2026-12-07T12:00:00.000Z');
    expect(alert.endsAt).toBe('2026-12-07T12:05:00.000Z');
  });

  it('says it is a test, which object and annotation asked for it, and links to the alert in Alertmanager', () => {
    expect(alert.annotations.summary).toBe('TEST EMAIL for MonitoredService shop/checkout: nothing is wrong, no action needed');
    expect(alert.annotations.description).toContain('This is a test, not an outage.');
    expect(alert.annotations.description).toContain('vigil.dev/test-email="1765108800" on MonitoredService shop/checkout');
    expect(alert.generatorURL).toBe('https://am.example.com/alertmanager/#/alerts?filter=%7Bvigil_test_token%3D%221765108800%22%7D');
  });

  it('keeps the routing labels over an external label of the same name', () => {
    const a = testEmailAlert({ namespace: 'shop', name: 'checkout', spec: {} }, 't', { ...settings, externalLabels: { namespace: 'other', vigil_monitoredservice: 'x' } }, now);
    expect(a.labels.namespace).toBe('shop');
    expect(a.labels.vigil_monitoredservice).toBe('checkout');
  });
});

describe('testTokenProblem', () => {
  it('accepts up to 128 printable characters', () => {
    expect(testTokenProblem('1765108800')).toBeUndefined();
    expect(testTokenProblem('after credentials change, Jörg')).toBeUndefined();
    expect(testTokenProblem('x'.repeat(128))).toBeUndefined();
  });

  it('refuses longer tokens and control characters, naming the annotation and what is accepted', () => {
    expect(testTokenProblem('x'.repeat(129))).toBe('annotation vigil.dev/test-email: the token must be 1 to 128 characters without control characters (got 129 characters); e.g. $(date +%s)');
    expect(testTokenProblem('a\nb')).toContain('without control characters');
  });
});

describe('the test alert in the rendered Alertmanager config', () => {
  it('takes the same service route as the real alerts (no route or inhibit rule names VigilTestEmail or severity) and groups by the token', () => {
    const doc = parse(
      renderAlertmanagerConfig(
        [
          MonitoredServiceSchema.parse({
            apiVersion: 'vigil.dev/v1alpha1',
            kind: 'MonitoredService',
            metadata: { name: 'checkout', namespace: 'shop' },
            spec: { selector: { matchLabels: { app: 'checkout' } }, endpoints: [{ port: 'metrics' }], notify: { email: { to: ['shop@example.com'] } } },
          }),
        ],
        defaultSettings({ defaultRecipients: ['ops@example.com'] }),
      ),
    ) as {
      route: { group_by: string[]; routes: { matchers?: string[] }[] };
      inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[];
    };
    expect(doc.route.group_by).toEqual(['alertname', 'vigil_namespace', 'vigil_monitoredservice', 'vigil_test_token']);
    const matchers = [...doc.route.routes.flatMap((r) => r.matchers ?? []), ...doc.inhibit_rules.flatMap((r) => [...r.source_matchers, ...r.target_matchers])];
    expect(matchers.filter((m) => /VigilTestEmail|severity|vigil_test_token/.test(m))).toEqual([]);
    expect(doc.inhibit_rules.flatMap((r) => [...r.source_matchers, ...r.target_matchers])).toEqual(['alertname="ServiceDown"', 'alertname="ServiceTargetDown"']);
  });
});
