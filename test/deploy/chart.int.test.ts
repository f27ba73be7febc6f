// helm lint, and the drift check: `helm template` of charts/vigil with a values file equals the
// cdk8s app synthesized with the same values (normalised). Three value sets exercise every
// conditional of the chart: production defaults, kind, and everything switched the other way.
// Then what Helm itself renders goes to the operator's parts: RBAC against rbacObjects, the settings
// through the operator's settings parser and, with the demo MonitoredService, into promtool/amtool.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../cdk8s/kube.js';
import { synthesize } from '../../cdk8s/synth.js';
import { SETTINGS_CHECKSUM_ANNOTATION, SETTINGS_CONFIGMAP, SETTINGS_KEY } from '../../cdk8s/components/operator.js';
import { KIND } from '../../operator/api/schema.js';
import { settingsFromYaml } from '../../operator/cli/operator-command.js';
import { rbacObjects } from '../../operator/rbac-objects.js';
import { OBJECT_NAMES } from '../../operator/rbac.js';
import { renderConfig } from '../../operator/assemble/config.js';
import { WATCHDOG_RULE_FILE } from '../../operator/render/watchdog.js';
import { formatIssue, validateMonitoredService } from '../../operator/validate/index.js';
import { ALERTMANAGER_BOOTSTRAP_CONFIG, ALERTMANAGER_MIN_READY_SECONDS } from '../../cdk8s/components/alertmanager.js';
import { PROMETHEUS_BOOTSTRAP_CONFIG } from '../../cdk8s/components/prometheus.js';
import { DEFAULT_VALUES, INSTALL_CHECKS, KIND_VALUES, mergeValues, parseValues } from '../../cdk8s/values.js';
import { MAX_COUNT_LIMIT } from '../../operator/api/scrape-limits.js';
import { IMAGE_DEFAULTS, PACKAGE_VERSION } from '../../cdk8s/versions.js';
import { isPair, parseAllDocuments, stringify, visit } from 'yaml';
import { CHART, helmTemplate, normalise, objectKey, parseManifests, tool } from './helm.js';
import { OTHER_WAY, REAL_CLUSTER } from './value-sets.js';

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

  test.each(['0', '65'])('prometheus.shards=%s is refused by helm, naming the value and the bound (1 to 64, what the operator accepts)', async (shards) => {
    const r = await tool('helm', ['template', 'vigil', CHART, '--set', `prometheus.shards=${shards}`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/prometheus.*shards.*(1|64)/);
  });

  test.each([
    ['kind (charts/vigil/values-kind.yaml)', KIND_VALUES],
    ['a real cluster', REAL_CLUSTER],
    ['every switch the other way', OTHER_WAY],
  ])('no drift: helm template equals the cdk8s synthesis with %s', async (_name, overrides) => {
    const fromHelm = normalise(parseManifests(await helmTemplate(overrides)));
    const fromCdk8s = normalise(synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, overrides))).objects);
    expect(fromHelm.map(objectKey)).toEqual(fromCdk8s.map(objectKey));
    fromHelm.forEach((obj, i) => expect(obj).toEqual(fromCdk8s[i]));
  });

  test.each([
    ['a real cluster', REAL_CLUSTER],
    ['every switch the other way', OTHER_WAY],
  ])('helm template output is block YAML, no one-line JSON map or list (%s)', async (_name, overrides) => {
    // Parsed, not matched line by line: a quoted description that shows a flow map as an example is block YAML too.
    const flow: string[] = [];
    for (const doc of parseAllDocuments(await helmTemplate(overrides))) {
      visit(doc, {
        Collection(_key, node, path) {
          if (node.flow && node.items.length > 0)
            flow.push(
              `${path
                .filter(isPair)
                .map((p) => String(p.key))
                .join('.')}: ${String(node)}`,
            );
        },
      });
    }
    expect(flow).toEqual([]);
  });

  test('several Alertmanager replicas with the demo profile are refused by name; with production they install (issue #14)', async () => {
    await expect(helmTemplate({ profile: 'demo', alertmanager: { replicas: 3 } })).rejects.toThrow(
      /alertmanager\.replicas > 1 cannot be combined with profile=demo: .*peer timeout \(15s\).*Use profile=production/,
    );
    const objects = parseManifests(await helmTemplate(mergeValues(REAL_CLUSTER, { profile: 'production', alertmanager: { replicas: 3 } })));
    expect(objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager')?.spec).toMatchObject({ replicas: 3 });
    expect(parseManifests(await helmTemplate(mergeValues(REAL_CLUSTER, { profile: 'demo', alertmanager: { replicas: 1 } }))).length).toBeGreaterThan(0);
  });

  test('profile=demo alone installs one Alertmanager (the replicas follow the profile), unclustered, Prometheus notifying it alone; an explicit 2 with demo is refused', async () => {
    const demo = parseManifests(await helmTemplate(mergeValues(REAL_CLUSTER, { profile: 'demo' })));
    const sts = demo.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager');
    expect(sts?.spec).toMatchObject({ replicas: 1 });
    expect(JSON.stringify(sts)).toContain('"--cluster.listen-address="');
    expect(demo.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    const settingsData = demo.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP)?.data as Record<string, string> | undefined;
    expect(settingsFromYaml(settingsData?.[SETTINGS_KEY] ?? '', 'helm').alertmanagerTargets).toEqual(['vigil-alertmanager-0.vigil-alertmanager-headless.vigil-system.svc:9093']);
    // The same through the cdk8s synthesis (the drift reference).
    const fromHelm = normalise(demo);
    const fromCdk8s = normalise(synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, mergeValues(REAL_CLUSTER, { profile: 'demo' })))).objects);
    expect(fromHelm).toEqual(fromCdk8s);
    // The same from the command line, as a user types it.
    const fromCli = parseManifests(await helmTemplate(REAL_CLUSTER, 'vigil-system', ['--set', 'profile=demo']));
    expect(fromCli.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager')?.spec).toMatchObject({ replicas: 1 });
    await expect(helmTemplate(REAL_CLUSTER, 'vigil-system', ['--set', 'profile=demo', '--set', 'alertmanager.replicas=2'])).rejects.toThrow(
      /alertmanager\.replicas > 1 cannot be combined with profile=demo/,
    );
  });

  test('by default two Alertmanagers, replaced one at a time and evicted one at a time, both notified by Prometheus; the kind values keep one without a budget', async () => {
    const byDefault = parseManifests(await helmTemplate(REAL_CLUSTER));
    const sts = byDefault.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager');
    expect(sts?.spec).toMatchObject({ replicas: 2, updateStrategy: { type: 'RollingUpdate' }, minReadySeconds: ALERTMANAGER_MIN_READY_SECONDS });
    const pdb = byDefault.find((o) => o.kind === 'PodDisruptionBudget');
    expect(pdb).toMatchObject({ apiVersion: 'policy/v1', metadata: { name: 'vigil-alertmanager' }, spec: { maxUnavailable: 1 } });
    // The budget selects exactly the StatefulSet's pods.
    type Selecting = { selector: { matchLabels: Record<string, string> }; template?: { metadata: { labels: Record<string, string> } } };
    const stsSpec = sts?.spec as Selecting | undefined;
    const selected = (pdb?.spec as Selecting | undefined)?.selector.matchLabels;
    expect(selected).toEqual(stsSpec?.selector.matchLabels);
    expect(stsSpec?.template?.metadata.labels).toMatchObject(selected ?? { missing: 'selector' });
    const settingsData = byDefault.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP)?.data as Record<string, string> | undefined;
    expect(settingsFromYaml(settingsData?.[SETTINGS_KEY] ?? '', 'helm').alertmanagerTargets).toEqual([0, 1].map((i) => `vigil-alertmanager-${i}.vigil-alertmanager-headless.vigil-system.svc:9093`));

    const kind = parseManifests(await helmTemplate(KIND_VALUES));
    expect(kind.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager')?.spec).not.toHaveProperty('minReadySeconds');
    expect(kind.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager')?.spec).toMatchObject({ replicas: 1 });
    expect(kind.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
  });

  test.each(INSTALL_CHECKS.filter((c) => c.path !== 'alertmanager.replicas').map((c) => [c.path, c] as const))(
    'helm template refuses values without %s and says what to set; helm lint reports it',
    async (path, check) => {
      const without = mergeValues(
        REAL_CLUSTER,
        path === 'smtp.smarthost'
          ? { smtp: { smarthost: 'smtp.example.com' } }
          : path === 'smtp.defaultRecipients'
            ? { smtp: { defaultRecipients: [] } }
            : path.startsWith('scrapeLimits.')
              ? { scrapeLimits: { defaults: { [path.split('.')[2] as string]: MAX_COUNT_LIMIT }, ceilings: { [path.split('.')[2] as string]: 1 } } }
              : path === 'scrapeInterval'
                ? { scrapeInterval: '5m' }
                : path === 'evaluationInterval'
                  ? { evaluationInterval: '1m' }
                  : { [path.split('.')[0] as string]: { externalUrl: '' } },
      );
      await expect(helmTemplate(without)).rejects.toThrow(check.message);
      const dir = await mkdtemp(join(tmpdir(), 'vigil-lint-'));
      try {
        await writeFile(join(dir, 'values.yaml'), stringify(without));
        const lint = await tool('helm', ['lint', CHART, '-f', join(dir, 'values.yaml')]);
        expect(lint.stdout + lint.stderr).toContain(check.message);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  test('a misspelt or unknown value is refused by helm template and helm lint (values.schema.json) and by the cdk8s synthesis, naming the key', async () => {
    for (const [set, where, key] of [
      ['prometheus.retension=30d', '/prometheus', 'retension'],
      ['scrapeIntervall=1m', '', 'scrapeIntervall'],
      ['operator.resources.claims[0].name=gpu', '/operator/resources', 'claims'],
      ['smtp.defaultRecipient=a@example.com', '/smtp', 'defaultRecipient'],
      ['prometheus.remoteWrite[0].url=https://metrics.example.com/write,prometheus.remoteWrite[0].queue_confg.max_shards=1', '/prometheus/remoteWrite/0', 'queue_confg'],
    ] as const) {
      const r = await tool('helm', ['template', 'vigil', CHART, '--set', set]);
      expect({ set, code: r.code, err: r.stderr }).toEqual({ set, code: 1, err: expect.stringContaining(`at '${where}': additional properties '${key}' not allowed`) });
      const lint = await tool('helm', ['lint', CHART, '--set', set]);
      expect(lint.code).not.toBe(0);
      expect(lint.stdout + lint.stderr).toContain(`additional properties '${key}' not allowed`);
    }
    expect(() => parseValues(mergeValues(REAL_CLUSTER, { prometheus: { retension: '30d' } }))).toThrow(
      'invalid Vigil values: prometheus.retension: unknown value (did you mean retention?); accepted here: image, retention, externalUrl, persistence, service, resources, extraArgs, replicas, shards, remoteWrite',
    );
    expect(() => parseValues(mergeValues(REAL_CLUSTER, { prometheus: { remoteWrite: [{ url: 'https://metrics.example.com/write', queue_confg: {} }] } }))).toThrow(
      'prometheus.remoteWrite.0.queue_confg: unknown value (did you mean queue_config?)',
    );
    // Maps of the user's own keys stay open, and so does global (Helm gives a subchart its parent's globals).
    const open = mergeValues(REAL_CLUSTER, { nodeSelector: { zone: 'a' }, podAnnotations: { team: 'x' }, global: { storageClass: 'fast' }, affinity: { nodeAffinity: {} } });
    expect(parseManifests(await helmTemplate(open)).length).toBeGreaterThan(10);
    expect(() => parseValues(open)).not.toThrow();
  });

  test('a default recipient listed twice is refused by helm and by the cdk8s values', async () => {
    const twice = mergeValues(REAL_CLUSTER, { smtp: { defaultRecipients: ['oncall@example.com', 'oncall@example.com'] } });
    await expect(helmTemplate(twice)).rejects.toThrow("at '/smtp/defaultRecipients': items at 0 and 1 are equal");
    expect(() => parseValues(twice)).toThrow('smtp.defaultRecipients: must list each address once');
  });

  test('scrapeInterval and evaluationInterval: helm and the cdk8s values accept and refuse the same values (GLOBAL_TIMING_BOUNDS)', async () => {
    const cases: [string, string, boolean][] = [
      ['scrapeInterval', '1ms', true],
      ['scrapeInterval', '4m50s', true],
      ['scrapeInterval', '4m50s1ms', false],
      ['scrapeInterval', '0s', false],
      ['scrapeInterval', '1h', false],
      ['evaluationInterval', '30s', true],
      ['evaluationInterval', '29s999ms', true],
      ['evaluationInterval', '30s1ms', false],
      ['evaluationInterval', '0m0s', false],
    ];
    for (const [key, value, accepted] of cases) {
      const values = mergeValues(REAL_CLUSTER, { [key]: value });
      const helm = await helmTemplate(values).then(
        () => true,
        (err: Error) => {
          expect(err.message).toContain(`${key} must be above 0 and at most`);
          return false;
        },
      );
      const synth = (() => {
        try {
          parseValues(values);
          return true;
        } catch {
          return false;
        }
      })();
      expect({ key, value, helm, synth }).toEqual({ key, value, helm: accepted, synth: accepted });
    }
  });

  test('the refused values install once set: a smarthost with its port, or default recipients opted out explicitly', async () => {
    expect(parseManifests(await helmTemplate(REAL_CLUSTER)).length).toBeGreaterThan(10);
    const optedOut = parseManifests(await helmTemplate(mergeValues(REAL_CLUSTER, { smtp: { defaultRecipients: [], allowNoDefaultRecipients: true } })));
    const data = optedOut.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP)?.data as Record<string, string> | undefined;
    const settings = settingsFromYaml(data?.[SETTINGS_KEY] ?? '', 'helm');
    expect(settings.defaultRecipients).toEqual([]);
    const r = await tool('helm', ['template', 'vigil', CHART, '--set', 'prometheus.externalUrl=prometheus.example.com']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/prometheus\/externalUrl/);
  });

  test('helm template puts the registry value on every Vigil image and the route prefixes into every URL', async () => {
    const text = await helmTemplate(REAL_CLUSTER);
    const images = [...new Set([...text.matchAll(/image: "?([^"\s]+)"?/g)].map((m) => m[1]))].sort();
    expect(images).toEqual([
      `quay.io/prometheus/alertmanager:${IMAGE_DEFAULTS.alertmanager.tag}`,
      `quay.io/prometheus/prometheus:${IMAGE_DEFAULTS.prometheus.tag}`,
      `registry.example.com/vigil/operator:${PACKAGE_VERSION}`,
    ]);
    for (const url of [
      '--prometheus-url=http://vigil-prometheus:9090/prometheus"',
      '--alertmanager-url=http://vigil-alertmanager:9093/alertmanager"',
      '--reload-url=http://127.0.0.1:9090/prometheus/-/reload"',
      '--reload-url=http://127.0.0.1:9093/alertmanager/-/reload"',
      'path: "/prometheus/-/ready"',
      'path: "/alertmanager/-/healthy"',
      '- "http://vigil-prometheus:9090/prometheus/-/ready"',
      '--web.external-url=https://monitoring.example.com/alertmanager"',
    ])
      expect({ url, found: text.includes(url) }).toEqual({ url, found: true });
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

describe('what the chart renders is what the operator is built from', () => {
  const NS = 'monitoring';
  const settingsOf = (objects: KubeObject[]): string => (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP)?.data as Record<string, string>)[SETTINGS_KEY] ?? '';
  const checksumOf = (objects: KubeObject[]): string | undefined =>
    (objects.find((o) => o.kind === 'Deployment' && o.metadata.name === OBJECT_NAMES.operatorServiceAccount)?.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template
      .metadata.annotations?.[SETTINGS_CHECKSUM_ANNOTATION];

  test('RBAC: helm template installs exactly rbacObjects(<release namespace>), the objects test/rbac.int.test.ts proves', async () => {
    const RBAC_KINDS = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
    const fromHelm = normalise(parseManifests(await helmTemplate(REAL_CLUSTER, NS)).filter((o) => RBAC_KINDS.includes(o.kind))).map((o) => {
      delete o.metadata.labels?.['app.kubernetes.io/name']; // the chart's component grouping, on top of rbacObjects' labels
      return o;
    });
    const expected = normalise(rbacObjects(NS) as KubeObject[]);
    expect(fromHelm.map(objectKey)).toEqual(expected.map(objectKey));
    fromHelm.forEach((o, i) => expect(o).toEqual(expected[i]));
  });

  test.each([
    ['a real cluster', REAL_CLUSTER],
    ['kind', KIND_VALUES],
    ['every switch the other way', OTHER_WAY],
  ])("the settings helm renders (%s) pass the operator's settings parser and equal the cdk8s ones", async (_name, overrides) => {
    const fromHelm = settingsFromYaml(settingsOf(parseManifests(await helmTemplate(overrides, NS))), 'helm template');
    const fromCdk8s = settingsFromYaml(settingsOf(synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, overrides)), NS).objects), 'cdk8s');
    expect(fromHelm).toEqual(fromCdk8s);
    expect(fromHelm.alertmanagerTargets[0]).toBe(`vigil-alertmanager-0.vigil-alertmanager-headless.${NS}.svc:9093`);
    // Scrape limits: the chart's defaults where the values set none, theirs where they do.
    const limits = mergeValues(DEFAULT_VALUES.scrapeLimits, (overrides as { scrapeLimits?: unknown }).scrapeLimits);
    expect(fromHelm.scrapeLimits).toEqual(limits);
  });

  test('helm upgrade with new settings restarts the operator: the checksum follows the settings, nothing else', async () => {
    const checksum = async (values: unknown) => checksumOf(parseManifests(await helmTemplate(values, NS)));
    const base = await checksum(REAL_CLUSTER);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(await checksum(REAL_CLUSTER)).toBe(base);
    expect(await checksum(mergeValues(REAL_CLUSTER, { prometheus: { retention: '30d' } }))).toBe(base);
    expect(await checksum(mergeValues(REAL_CLUSTER, { smtp: { defaultRecipients: ['ops@example.com'] } }))).not.toBe(base);
    expect(await checksum(mergeValues(REAL_CLUSTER, { scrapeInterval: '30s' }))).not.toBe(base);
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

  test('with the kind values, the operator renders the demo MonitoredService into configs promtool and amtool accept', async () => {
    const objects = synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, KIND_VALUES))).objects;
    const settings = settingsFromYaml((objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP)?.data as Record<string, string>)[SETTINGS_KEY] ?? '', 'kind settings');
    const demo = validateMonitoredService(objects.find((o) => o.kind === KIND));
    if (!demo.ok) throw new Error(`the chart's demo MonitoredService is invalid: ${demo.issues.map((i) => formatIssue(demo.ref, i)).join('; ')}`);
    const rendered = renderConfig([demo.service], settings);
    const out = join(dir, 'rendered');
    await mkdir(out, { recursive: true });
    for (const [file, content] of Object.entries({ ...rendered.prometheus, ...rendered.alertmanager })) await writeFile(join(out, file), content);
    const ruleFiles = Object.keys(rendered.prometheus).filter((f) => f !== 'prometheus.yml');
    // The demo service's rule file and the always-present Watchdog rule file (issue #15).
    expect(ruleFiles).toContain(WATCHDOG_RULE_FILE);
    expect(ruleFiles.filter((f) => f !== WATCHDOG_RULE_FILE)).toHaveLength(1);
    for (const args of [
      ['promtool', 'check', 'config', '--syntax-only', join(out, 'prometheus.yml')],
      ['promtool', 'check', 'rules', ...ruleFiles.map((f) => join(out, f))],
      ['amtool', 'check-config', join(out, 'alertmanager.yml')],
    ]) {
      const r = await tool(args[0] as string, args.slice(1));
      expect({ args, code: r.code, out: r.stdout + r.stderr }).toEqual({ args, code: 0, out: expect.stringContaining('SUCCESS') });
    }
  });

  test('with every switch the other way (2 replicas, remoteWrite), the operator renders a prometheus.yml promtool accepts', async () => {
    const objects = synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, OTHER_WAY))).objects;
    const settings = settingsFromYaml(
      (objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === SETTINGS_CONFIGMAP)?.data as Record<string, string>)[SETTINGS_KEY] ?? '',
      'other-way settings',
    );
    const prometheusYml = renderConfig([], settings).prometheus['prometheus.yml'] ?? '';
    const doc = parseAllDocuments(prometheusYml)[0]!.toJS() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc.global.external_labels.prometheus_replica).toBe('${POD_NAME}');
    expect(doc.alerting.alert_relabel_configs).toEqual([{ action: 'labeldrop', regex: 'prometheus_replica' }]);
    expect(doc.remote_write).toEqual(OTHER_WAY.prometheus?.remoteWrite);
    const out = join(dir, 'other-way');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'prometheus.yml'), prometheusYml);
    const r = await tool('promtool', ['check', 'config', '--syntax-only', join(out, 'prometheus.yml')]);
    expect({ code: r.code, out: r.stdout + r.stderr }).toEqual({ code: 0, out: expect.stringContaining('SUCCESS') });
  });

  test('the configs inside the rendered chart are the ones checked here', async () => {
    const objs = parseManifests(await helmTemplate(KIND_VALUES));
    const data = (name: string) => objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name)?.data as Record<string, string>;
    expect(data('vigil-prometheus-bootstrap')['prometheus.yml']).toBe(PROMETHEUS_BOOTSTRAP_CONFIG);
    expect(data('vigil-alertmanager-bootstrap')['alertmanager.yml']).toBe(ALERTMANAGER_BOOTSTRAP_CONFIG);
  });
});
