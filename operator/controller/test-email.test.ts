import { describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage } from 'node:http';
import type { TestEmailStatus } from '../api/schema.js';
import { defaultSettings } from '../render/index.js';
import { decideTestEmail, describeRecipients, postAlerts, TestEmailSender, type TestEmailObject } from './test-email.js';

const applied = { status: 'True' as const, reason: 'Applied', message: 'running' };
const annotated = (token: string) => ({ 'vigil.dev/test-email': token });
const recorded = (token: string, result: TestEmailStatus['result'], message = 'm'): TestEmailStatus => ({ token, result, message, time: '2026-12-07T12:00:00Z' });

describe('decideTestEmail', () => {
  it('does nothing without the annotation or with an empty token', () => {
    expect(decideTestEmail({ annotations: undefined, recorded: undefined, configApplied: applied })).toEqual({ action: 'none' });
    expect(decideTestEmail({ annotations: annotated(''), recorded: undefined, configApplied: applied })).toEqual({ action: 'none' });
  });

  it('sends for a token not handled yet, and for a new token after any result', () => {
    expect(decideTestEmail({ annotations: annotated('1'), recorded: undefined, configApplied: applied })).toEqual({ action: 'send', token: '1' });
    for (const result of ['Sent', 'Failed', 'Refused', 'Waiting'] as const) {
      expect(decideTestEmail({ annotations: annotated('2'), recorded: recorded('1', result), configApplied: applied })).toEqual({ action: 'send', token: '2' });
    }
  });

  it('never handles a token twice once it was Sent, Failed or Refused', () => {
    for (const result of ['Sent', 'Failed', 'Refused'] as const) {
      expect(decideTestEmail({ annotations: annotated('1'), recorded: recorded('1', result), configApplied: applied })).toEqual({ action: 'none' });
    }
  });

  it('sends a Waiting token once Alertmanager runs the route, and tries while Alertmanager does not answer (Unknown)', () => {
    expect(decideTestEmail({ annotations: annotated('1'), recorded: recorded('1', 'Waiting'), configApplied: applied })).toEqual({ action: 'send', token: '1' });
    const unknown = { status: 'Unknown' as const, reason: 'AlertmanagerUnreachable', message: 'down' };
    expect(decideTestEmail({ annotations: annotated('1'), recorded: undefined, configApplied: unknown })).toEqual({ action: 'send', token: '1' });
  });

  it("waits, saying why, while ConfigApplied is False (the alert would miss the service's route), and records that once", () => {
    const pending = { status: 'False' as const, reason: 'ApplyPending', message: 'Alertmanager does not run generation 2 yet' };
    const decision = decideTestEmail({ annotations: annotated('1'), recorded: undefined, configApplied: pending });
    const message =
      "not sent yet: Alertmanager does not run this service's route, ConfigApplied is False (ApplyPending: Alertmanager does not run generation 2 yet); it is sent once ConfigApplied is True";
    expect(decision).toEqual({ action: 'record', status: { token: '1', result: 'Waiting', message } });
    expect(decideTestEmail({ annotations: annotated('1'), recorded: recorded('1', 'Waiting', message), configApplied: pending })).toEqual({ action: 'none' });
    expect(decideTestEmail({ annotations: annotated('1'), recorded: undefined, configApplied: undefined })).toMatchObject({
      action: 'record',
      status: { result: 'Waiting', message: expect.stringContaining('the operator has not processed this object yet') },
    });
  });

  it('sends for a service only Prometheus refused (Alertmanager runs its route), not for one Alertmanager refused', () => {
    const byPrometheus = { status: 'False' as const, reason: 'RejectedByPrometheus', message: 'Prometheus refused generation 2' };
    expect(decideTestEmail({ annotations: annotated('1'), recorded: undefined, configApplied: byPrometheus })).toEqual({ action: 'send', token: '1' });
    const byAlertmanager = { ...byPrometheus, reason: 'RejectedByAlertmanager' };
    expect(decideTestEmail({ annotations: annotated('1'), recorded: undefined, configApplied: byAlertmanager })).toMatchObject({ action: 'record', status: { result: 'Waiting' } });
  });

  it('refuses a token that cannot be a label value, once', () => {
    const long = 'x'.repeat(200);
    const decision = decideTestEmail({ annotations: annotated(long), recorded: undefined, configApplied: applied });
    expect(decision).toMatchObject({ action: 'record', status: { token: long, result: 'Refused', message: expect.stringContaining('1 to 128 characters') } });
    expect(decideTestEmail({ annotations: annotated(long), recorded: recorded(long, 'Refused'), configApplied: applied })).toEqual({ action: 'none' });
  });
});

describe('describeRecipients', () => {
  it("names the service's recipients, else the defaults, else says nobody gets it", () => {
    expect(describeRecipients({ notify: { email: { to: ['a@example.com', 'b@example.com'] } } }, ['ops@example.com'])).toBe('spec.notify.email.to (a@example.com, b@example.com)');
    expect(describeRecipients({}, ['ops@example.com'])).toBe('the default recipients (ops@example.com)');
    expect(describeRecipients({}, [])).toContain('nobody');
  });
});

/** An HTTP server on loopback that answers every request with `status` and keeps the bodies. */
async function alertmanagerStub(status: number, answer = '') {
  const bodies: { url: string; body: unknown }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      bodies.push({ url: req.url ?? '', body: JSON.parse(data) });
      res.writeHead(status, { 'content-type': 'application/json' }).end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, bodies, close: () => new Promise((r) => server.close(r)) };
}

describe('postAlerts', () => {
  it("posts to the route prefix's /api/v2/alerts and reports Alertmanager's refusal with its answer", async () => {
    const stub = await alertmanagerStub(400, '{"message":"bad alert"}');
    try {
      await expect(postAlerts(`${stub.url}/alertmanager`, [])).rejects.toThrow(`POST ${stub.url}/alertmanager/api/v2/alerts: HTTP 400: {"message":"bad alert"}`);
      expect(stub.bodies).toEqual([{ url: '/alertmanager/api/v2/alerts', body: [] }]);
    } finally {
      await stub.close();
    }
  });
});

describe('TestEmailSender', () => {
  const settings = defaultSettings({ defaultRecipients: ['ops@example.com'] });
  const object = (token: string, testEmail?: TestEmailStatus): TestEmailObject => ({
    namespace: 'shop',
    name: 'checkout',
    uid: 'u1',
    annotations: annotated(token),
    spec: { notify: { email: { to: ['shop@example.com'] } } },
    testEmail,
    configApplied: { type: 'ConfigApplied', lastTransitionTime: '2026-12-07T11:00:00Z', ...applied },
  });

  it('sends once per token even while its cache has not seen the status, records Sent and a Normal Event', async () => {
    const stub = await alertmanagerStub(200);
    const writes: TestEmailStatus[] = [];
    const events: string[] = [];
    const sender = new TestEmailSender({
      alertmanagerUrl: stub.url,
      writeStatus: async (_ns, _name, s) => void writes.push(s),
      recordEvent: async (_o, type, reason) => void events.push(`${type} ${reason}`),
      now: () => new Date('2026-12-07T12:00:00.000Z'),
    });
    try {
      await sender.handle([object('t1')], settings);
      await sender.handle([object('t1')], settings); // the cache still has no status.testEmail
      expect(stub.bodies).toHaveLength(1);
      expect((stub.bodies[0]!.body as { labels: Record<string, string> }[])[0]!.labels).toMatchObject({ alertname: 'VigilTestEmail', vigil_test_token: 't1' });
      expect(writes).toEqual([
        {
          token: 't1',
          result: 'Sent',
          time: '2026-12-07T12:00:00Z',
          message:
            "Alertmanager accepted the test alert VigilTestEmail at 2026-12-07T12:00:00Z; it routes it like this service's alerts, to spec.notify.email.to (shop@example.com) (a silence matching the service's alerts holds it back too); it resolves by itself at 2026-12-07T12:05:00Z",
        },
      ]);
      expect(events).toEqual(['Normal TestEmailSent']);
    } finally {
      await stub.close();
    }
  });

  it('records Failed with the error when Alertmanager does not answer, and writes again a status whose write failed without sending again', async () => {
    const stub = await alertmanagerStub(200);
    await stub.close(); // nothing listens on that port any more
    const writes: TestEmailStatus[] = [];
    let failWrites = true;
    const sender = new TestEmailSender({
      alertmanagerUrl: stub.url,
      writeStatus: async (_ns, _name, s) => {
        writes.push(s);
        if (failWrites) throw new Error('API server down');
      },
      recordEvent: async () => undefined,
    });
    await expect(sender.handle([object('t1')], settings)).rejects.toThrow('API server down');
    failWrites = false;
    await sender.handle([object('t1')], settings);
    expect(writes).toHaveLength(2);
    expect(writes[1]).toEqual(writes[0]);
    expect(writes[0]).toMatchObject({ token: 't1', result: 'Failed', message: expect.stringContaining(`Alertmanager did not take the test alert: POST ${stub.url}/api/v2/alerts: fetch failed`) });
    await sender.handle([object('t1', writes[0])], settings);
    expect(writes).toHaveLength(2);
  });

  it('fails saying so when the operator has no Alertmanager URL', async () => {
    const writes: TestEmailStatus[] = [];
    const sender = new TestEmailSender({ alertmanagerUrl: undefined, writeStatus: async (_ns, _name, s) => void writes.push(s), recordEvent: async () => undefined });
    await sender.handle([object('t1')], settings);
    expect(writes[0]).toMatchObject({ result: 'Failed', message: 'Alertmanager did not take the test alert: the operator runs without --alertmanager-url, so it cannot reach Alertmanager' });
  });
});
