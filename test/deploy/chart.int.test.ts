// helm lint, and the drift check: `helm template` of charts/vigil with a values file equals the
// cdk8s app synthesized with the same values (normalised). Three value sets exercise every
// conditional of the chart: production defaults, kind, and everything switched the other way.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../../cdk8s/app.js';
import { ALERTMANAGER_BOOTSTRAP_CONFIG } from '../../cdk8s/components/alertmanager.js';
import { PROMETHEUS_BOOTSTRAP_CONFIG } from '../../cdk8s/components/prometheus.js';
import { DEFAULT_VALUES, KIND_VALUES, mergeValues, parseValues, type VigilValuesInput } from '../../cdk8s/values.js';
import { CHART, helmTemplate, normalise, objectKey, parseManifests, tool } from './helm.js';

const OTHER_WAY: VigilValuesInput = {
  profile: 'demo',
  smtp: { smarthost: 'smtp.example.com:587', credentialsSecret: 'smtp-credentials', defaultRecipients: ['a@example.com', 'b@example.com'], insecureSkipVerify: true },
  operator: { replicas: 3, watchNamespaces: ['team-a', 'team-b'], logLevel: 'debug' },
  prometheus: { persistence: { enabled: true, size: '50Gi', storageClassName: 'fast-ssd' }, service: { type: 'NodePort', nodePort: null } },
  alertmanager: { replicas: 3 },
  mailCatcher: { enabled: true, kind: 'mailhog' },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'monitoring', operator: 'Exists', effect: 'NoSchedule' }],
};

describe('helm chart', () => {
  test.each([
    ['default values', []],
    ['kind values', ['-f', join(CHART, 'values-kind.yaml')]],
  ])('helm lint --strict passes with %s', async (_name, args) => {
    const r = await tool('helm', ['lint', '--strict', CHART, ...args]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining('0 chart(s) failed') });
  });

  test('values that break values.schema.json are refused by helm, naming the field', async () => {
    const r = await tool('helm', ['template', 'vigil', CHART, '--set', 'alertmanager.replicas=0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/alertmanager.*replicas/);
  });

  test.each([
    ['kind (charts/vigil/values-kind.yaml)', KIND_VALUES],
    ['production defaults', {}],
    ['every switch the other way', OTHER_WAY],
  ])('no drift: helm template equals the cdk8s synthesis with %s', async (_name, overrides) => {
    const fromHelm = normalise(parseManifests(await helmTemplate(overrides)));
    const fromCdk8s = normalise(synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, overrides))).objects);
    expect(fromHelm.map(objectKey)).toEqual(fromCdk8s.map(objectKey));
    fromHelm.forEach((obj, i) => expect(obj).toEqual(fromCdk8s[i]));
  });

  test('the kind values file on disk is the one the drift test uses', async () => {
    const fromFile = normalise(parseManifests((await tool('helm', ['template', 'vigil', CHART, '-n', 'vigil-system', '--include-crds', '-f', join(CHART, 'values-kind.yaml')])).stdout));
    expect(fromFile).toEqual(normalise(parseManifests(await helmTemplate(KIND_VALUES))));
  });

  test('the mail catcher TLS pair is generated at install time and differs between renderings', async () => {
    const secret = (text: string) => parseManifests(text).find((o) => o.kind === 'Secret')?.data as Record<string, string>;
    const [a, b] = [secret(await helmTemplate(KIND_VALUES)), secret(await helmTemplate(KIND_VALUES))];
    expect(Buffer.from(a?.['tls.crt'] ?? '', 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(a?.['tls.key']).not.toEqual(b?.['tls.key']);
  });
});

describe('embedded configs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-bootstrap-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the Prometheus bootstrap config passes promtool', async () => {
    await writeFile(join(dir, 'prometheus.yml'), PROMETHEUS_BOOTSTRAP_CONFIG);
    const r = await tool('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
  });

  test('the Alertmanager bootstrap config passes amtool', async () => {
    await writeFile(join(dir, 'alertmanager.yml'), ALERTMANAGER_BOOTSTRAP_CONFIG);
    const r = await tool('amtool', ['check-config', join(dir, 'alertmanager.yml')]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
  });

  test('the configs inside the rendered chart are the ones checked here', async () => {
    const objs = parseManifests(await helmTemplate(KIND_VALUES));
    const data = (name: string) => objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)?.data as Record<string, string>;
    expect(data('vigil-prometheus-bootstrap')['prometheus.yml']).toBe(PROMETHEUS_BOOTSTRAP_CONFIG);
    expect(data('vigil-alertmanager-bootstrap')['alertmanager.yml']).toBe(ALERTMANAGER_BOOTSTRAP_CONFIG);
  });
});
