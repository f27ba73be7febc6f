// The chart is generated from the cdk8s app and never edited by hand; every workload follows the
// restricted Pod Security profile. No external processes here (see *.int.test.ts for helm & co).
import type { KubeObject } from '../../cdk8s/kube.js';
import { synthesize } from '../../cdk8s/synth.js';
import { generateChart, readChart } from '../../cdk8s/chart/generate.js';
import { TemplateEmitter } from '../../cdk8s/chart/emit.js';
import { RenderContext } from '../../cdk8s/context.js';
import { ALERTMANAGER_REPLICAS_GO, alertmanagerReplicas, DEFAULT_VALUES, KIND_RESOLVED_VALUES, KIND_VALUES, mergeValues, parseValues, VigilValuesSchema } from '../../cdk8s/values.js';
import { IMAGE_DEFAULTS, PACKAGE_VERSION, VERSIONS } from '../../cdk8s/versions.js';
import { REAL_CLUSTER } from './value-sets.js';

type Json = Record<string, unknown>;

/** Pod specs of every workload (Pods themselves and the templates of controllers). */
function podSpecs(objects: KubeObject[]): { owner: string; spec: Json }[] {
  const out: { owner: string; spec: Json }[] = [];
  for (const o of objects) {
    const spec = o.spec as Json | undefined;
    if (o.kind === 'Pod') out.push({ owner: `Pod/${o.metadata.name}`, spec: spec as Json });
    const template = spec?.template as { spec?: Json } | undefined;
    if (template?.spec) out.push({ owner: `${o.kind}/${o.metadata.name}`, spec: template.spec });
  }
  return out;
}

const FULL_VALUES = parseValues(
  mergeValues(mergeValues(DEFAULT_VALUES, REAL_CLUSTER), {
    mailCatcher: { enabled: true, kind: 'mailhog' },
    demoTarget: { enabled: true },
    alertmanager: { replicas: 3 },
    prometheus: { persistence: { enabled: true, storageClassName: 'fast' } },
  }),
);

describe('the generated chart', () => {
  test('charts/vigil is exactly what cdk8s/chart/generate.ts produces (run `make chart` after changing cdk8s/)', () => {
    const generated = generateChart();
    const onDisk = readChart();
    expect([...onDisk.keys()].sort()).toEqual([...generated.keys()].sort());
    for (const [path, content] of generated) expect({ path, content: onDisk.get(path) }).toEqual({ path, content });
  });

  test('templates hold Helm expressions, not literal values', () => {
    const chart = generateChart();
    const prometheus = chart.get('templates/prometheus/statefulset.yaml') ?? '';
    expect(prometheus).toContain('--storage.tsdb.retention.time={{ .Values.prometheus.retention }}');
    expect(prometheus).toContain('{{- if .Values.prometheus.persistence.enabled }}');
    expect(prometheus).toContain('namespace: {{ include "vigil.namespace" $ | quote }}');
    expect(chart.get('templates/mail-catcher/deployment.yaml')).toMatch(/^(# .*\n)?\{\{- if \.Values\.mailCatcher\.enabled \}\}\n/);
    expect(chart.get('templates/mail-catcher/tls-secret.yaml')).toContain('genSelfSignedCert');
    expect(chart.get('templates/demo-target/pod.yaml')).toContain('{{- if .Values.demoTarget.enabled }}');
    for (const [path, content] of chart) expect({ path, leftover: content.match(/VIGILHELM\w+/g) }).toEqual({ path, leftover: null });
  });

  test('templates are block YAML: no one-line JSON map or list, no if/else repeating a whole list', () => {
    for (const [path, content] of generateChart()) {
      if (!path.startsWith('templates/') || !path.endsWith('.yaml')) continue;
      // Template actions removed, what is left must not hold a flow map/list with content.
      const lines = content.split('\n').map((l) => l.replace(/\{\{.*?\}\}/g, 'X'));
      expect({ path, flow: lines.filter((l) => /(^|:\s|-\s)[[{]\s*[^\]}\s]/.test(l)) }).toEqual({ path, flow: [] });
      expect({ path, inlineElse: content.match(/\{\{ else \}\}[[{]/g) }).toEqual({ path, inlineElse: null });
    }
  });

  test('labels and names come from _helpers.tpl; extension points are in every workload', () => {
    const chart = generateChart();
    const helpers = chart.get('templates/_helpers.tpl') ?? '';
    for (const name of ['vigil.fullname', 'vigil.namespace', 'vigil.labels', 'vigil.selectorLabels']) expect(helpers).toContain(`define "${name}"`);
    const operator = chart.get('templates/operator/deployment.yaml') ?? '';
    expect(operator).toContain('{{- include "vigil.labels" (list $ "vigil-operator") | nindent 4 }}');
    expect(operator).toContain('{{- include "vigil.selectorLabels" (list $ "vigil-operator") | nindent 6 }}');
    for (const field of ['.Values.imagePullSecrets', '.Values.affinity', '.Values.priorityClassName', '.Values.podAnnotations', '.Values.operator.extraArgs'])
      expect({ field, present: operator.includes(`{{- with ${field} }}`) }).toEqual({ field, present: true });
    // One guarded line per optional arg, not two copies of the list.
    expect(operator).toMatch(/\{\{- if \.Values\.smtp\.credentialsSecret \}\}\n\s+- "--smtp-secret=\{\{ \.Values\.smtp\.credentialsSecret \}\}"\n\s+\{\{- end \}\}/);
    expect(operator.indexOf('- name: operator')).toBeLessThan(operator.indexOf('image:'));
  });

  test('values.yaml carries the descriptions of the values schema as comments', () => {
    const values = generateChart().get('values.yaml') ?? '';
    expect(values).toContain('# Replicas; one leader is elected through a Lease.\n  replicas: 2');
    expect(values).toContain('# Tolerations of every Vigil pod.\ntolerations: []');
  });

  test('values.yaml holds the schema defaults and values-kind.yaml the kind overrides', () => {
    const chart = generateChart();
    expect(chart.get('values.yaml')).toContain(`tag: ${PACKAGE_VERSION}`);
    expect(chart.get('values-kind.yaml')).toContain('nodePort: 30090');
    const schema = JSON.parse(chart.get('values.schema.json') ?? '{}') as { properties: Json };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['smtp', 'mailCatcher', 'prometheus', 'alertmanager', 'operator', 'nodeSelector', 'tolerations']));
    expect(JSON.stringify(schema)).not.toMatch(/\(\?[=!<]/); // Helm evaluates patterns with RE2: no lookarounds
  });
});

describe('values', () => {
  test('kind values parse, and the mail catcher is off by default (production)', () => {
    expect(DEFAULT_VALUES.mailCatcher.enabled).toBe(false);
    expect(KIND_RESOLVED_VALUES.mailCatcher.enabled).toBe(true);
    expect(VigilValuesSchema.safeParse(KIND_VALUES).success).toBe(true);
  });

  test('several Alertmanager replicas with the demo timings are refused, naming both values (issue #14)', () => {
    expect(() => parseValues(mergeValues(REAL_CLUSTER, { profile: 'demo', alertmanager: { replicas: 3 } }))).toThrow(
      /alertmanager\.replicas: alertmanager\.replicas > 1 cannot be combined with profile=demo/,
    );
    expect(parseValues(mergeValues(REAL_CLUSTER, { profile: 'production', alertmanager: { replicas: 3 } })).alertmanager.replicas).toBe(3);
  });

  test('prometheus.shards: 1 to 64 as the operator takes them (--prometheus-shards), each refusal naming the value and what is accepted; 1 (the default) renders no shard objects', () => {
    expect(DEFAULT_VALUES.prometheus.shards).toBe(1);
    for (const bad of [0, 65, 1.5]) expect(() => parseValues(mergeValues(REAL_CLUSTER, { prometheus: { shards: bad } }))).toThrow(/prometheus\.shards: .*(>=1|<=64|int)/);
    expect(parseValues(mergeValues(REAL_CLUSTER, { prometheus: { shards: 64 } })).prometheus.shards).toBe(64);
    const names = (shards: number) =>
      synthesize('concrete', parseValues(mergeValues(REAL_CLUSTER, { prometheus: { shards }, thanos: { enabled: true } })))
        .objects.filter((o) => /shard/.test(o.metadata.name))
        .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names(1)).toEqual([]);
    expect(names(3).sort()).toEqual(
      [
        'Service/vigil-prometheus-shard-0',
        'Service/vigil-prometheus-shard-1',
        'Service/vigil-prometheus-shard-2',
        'StatefulSet/vigil-prometheus-shard-1',
        'StatefulSet/vigil-prometheus-shard-2',
      ].sort(),
    );
  });

  test('left empty, the Alertmanager replicas follow the profile: 2 with production, 1 with demo (profile=demo alone installs); a number set is kept', () => {
    expect(DEFAULT_VALUES.alertmanager.replicas).toBeNull();
    const resolved = (overrides: Record<string, unknown>) => alertmanagerReplicas(parseValues(mergeValues(REAL_CLUSTER, overrides)));
    expect(resolved({})).toBe(2);
    expect(resolved({ profile: 'production' })).toBe(2);
    expect(resolved({ profile: 'demo' })).toBe(1);
    expect(resolved({ profile: 'demo', alertmanager: { replicas: 1 } })).toBe(1);
    expect(resolved({ profile: 'production', alertmanager: { replicas: 1 } })).toBe(1);
    expect(resolved({ alertmanager: { replicas: 4 } })).toBe(4);
    expect(() => parseValues(mergeValues(REAL_CLUSTER, { profile: 'demo', alertmanager: { replicas: 2 } }))).toThrow(/alertmanager\.replicas > 1 cannot be combined with profile=demo/);
  });

  test('the chart defaults are not an install: external URLs, the smarthost and the default recipients must be set, each refusal says what to set', () => {
    const issues = (v: unknown) => {
      const r = VigilValuesSchema.safeParse(v);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(issues({})).toEqual([
      expect.stringMatching(/^prometheus\.externalUrl: prometheus\.externalUrl is required: .*https:\/\/example\.com\/prometheus/),
      expect.stringMatching(/^alertmanager\.externalUrl: alertmanager\.externalUrl is required: /),
      expect.stringMatching(/^smtp\.smarthost: smtp\.smarthost must be host:port .*smtp\.example\.com:587/),
      expect.stringMatching(/^smtp\.defaultRecipients: smtp\.defaultRecipients is empty: .*smtp\.allowNoDefaultRecipients=true/),
    ]);
    expect(issues(REAL_CLUSTER)).toEqual([]);
    expect(issues(KIND_VALUES)).toEqual([]);
  });

  test.each([
    ['smtp.example.com', false],
    ['smtp.example.com:', false],
    [':587', false],
    ['', false],
    ['smtp.example.com:587', true],
    ['10.0.0.1:25', true],
    ['[2001:db8::1]:465', true],
    ['smtp.example.com:0', false],
    ['smtp.example.com:65535', true],
    ['smtp.example.com:65536', false],
    ['smtp.example.com:99999', false],
    ['2001:db8::1:25', false],
  ])('smarthost %j is accepted: %s (ignored with the mail catcher)', (smarthost, ok) => {
    expect(VigilValuesSchema.safeParse(mergeValues(REAL_CLUSTER, { smtp: { smarthost } })).success).toBe(ok);
    expect(VigilValuesSchema.safeParse(mergeValues(REAL_CLUSTER, { smtp: { smarthost }, mailCatcher: { enabled: true } })).success).toBe(true);
  });

  test('an empty defaultRecipients is an explicit opt-out', () => {
    const none = mergeValues(REAL_CLUSTER, { smtp: { defaultRecipients: [] } });
    expect(VigilValuesSchema.safeParse(none).success).toBe(false);
    expect(parseValues(mergeValues(none, { smtp: { allowNoDefaultRecipients: true } })).smtp.defaultRecipients).toEqual([]);
  });

  test('external URLs must be http(s) URLs without query, fragment or user info (the email appends paths and fragments; links would carry credentials)', () => {
    const ok = (externalUrl: string) => VigilValuesSchema.safeParse(mergeValues(REAL_CLUSTER, { prometheus: { externalUrl }, alertmanager: { externalUrl } })).success;
    for (const externalUrl of ['prometheus.example.com', 'ftp://x', 'https://', 'https://a b', 'https://m.example.com/p?x=1', 'https://m.example.com/p#x', 'https://u:p@m.example.com/']) {
      expect({ externalUrl, ok: ok(externalUrl) }).toEqual({ externalUrl, ok: false });
    }
    for (const externalUrl of ['https://m.example.com', 'https://m.example.com/', 'http://localhost:9090', 'https://m.example.com/monitoring/prometheus']) {
      expect({ externalUrl, ok: ok(externalUrl) }).toEqual({ externalUrl, ok: true });
    }
  });

  test('smtp.from and the default recipients must be plain addresses (no display name, comma or line break that could add a header or a recipient)', () => {
    const ok = (smtp: Record<string, unknown>) => VigilValuesSchema.safeParse(mergeValues(REAL_CLUSTER, { smtp })).success;
    for (const from of ['nobody', '', 'a@example.com\r\nBcc: x@example.com', 'Vigil <a@example.com>']) expect({ from, ok: ok({ from }) }).toEqual({ from, ok: false });
    for (const to of ['not-an-email', 'a@example.com,b@example.com', 'a@example.com\nBcc: x@example.com']) {
      expect({ to, ok: ok({ defaultRecipients: [to] }) }).toEqual({ to, ok: false });
    }
    expect(ok({ from: 'alerts@example.com', defaultRecipients: ['oncall@example.com', 'team+alerts@mail.example.org'] })).toBe(true);
  });

  test('images: the own registry, else global.imageRegistry; Vigil-built images have none of their own, upstream ones do', () => {
    const images = (v: unknown) => {
      const objects = synthesize('concrete', parseValues(mergeValues(DEFAULT_VALUES, mergeValues(REAL_CLUSTER, v)))).objects;
      return [...new Set(podSpecs(objects).flatMap(({ spec }) => [...((spec.initContainers as Json[] | undefined) ?? []), ...(spec.containers as Json[])].map((c) => String(c.image))))].sort();
    };
    const all = { mailCatcher: { enabled: true }, demoTarget: { enabled: true } };
    expect(images(all)).toEqual(
      [
        `registry.example.com/vigil/operator:${PACKAGE_VERSION}`,
        `registry.example.com/vigil/stunnel:${PACKAGE_VERSION}`,
        `registry.example.com/vigil/target-service:${PACKAGE_VERSION}`,
        `quay.io/prometheus/prometheus:${IMAGE_DEFAULTS.prometheus.tag}`,
        `quay.io/prometheus/alertmanager:${IMAGE_DEFAULTS.alertmanager.tag}`,
        `docker.io/axllent/mailpit:${IMAGE_DEFAULTS.mailpit.tag}`,
      ].sort(),
    );
    // No registry at all: the bare repository (what `make images` tags and kind loads).
    expect(images({ ...all, global: { imageRegistry: '' } })).toContain(`vigil/operator:${PACKAGE_VERSION}`);
    // An upstream image from a mirror: its own registry, or "" to take the global one.
    const mirrored = images({ prometheus: { image: { registry: 'mirror.example.com' } }, alertmanager: { image: { registry: '' } } });
    expect(mirrored).toContain(`mirror.example.com/prometheus/prometheus:${IMAGE_DEFAULTS.prometheus.tag}`);
    expect(mirrored).toContain(`registry.example.com/prometheus/alertmanager:${IMAGE_DEFAULTS.alertmanager.tag}`);
  });

  test('a latest tag is rejected, naming the field', () => {
    expect(() => parseValues({ prometheus: { image: { repository: 'x', tag: 'latest' } } })).toThrow(/prometheus\.image\.tag: must be a pinned tag/);
  });

  test('image tags come from hack/versions.env and package.json', () => {
    expect(IMAGE_DEFAULTS.prometheus.tag).toBe(`v${VERSIONS.PROMETHEUS_VERSION}`);
    expect(IMAGE_DEFAULTS.alertmanager.tag).toBe(`v${VERSIONS.ALERTMANAGER_VERSION}`);
    expect(IMAGE_DEFAULTS.mailpit.tag).toBe(VERSIONS.MAILPIT_VERSION);
    expect(IMAGE_DEFAULTS.operator.tag).toBe(PACKAGE_VERSION);
  });
});

describe.each([
  ['default', DEFAULT_VALUES],
  ['real cluster', parseValues(mergeValues(DEFAULT_VALUES, REAL_CLUSTER))],
  ['kind', KIND_RESOLVED_VALUES],
  ['full', FULL_VALUES],
])('concrete manifests (%s values)', (_name, values) => {
  const { objects } = synthesize('concrete', values);
  const specs = podSpecs(objects);

  test('every pod is restricted: non-root, seccomp, no escalation, no capabilities, read-only root, requests and limits', () => {
    expect(specs.length).toBeGreaterThan(2);
    for (const { owner, spec } of specs) {
      expect({ owner, pod: spec.securityContext }).toMatchObject({ owner, pod: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
      const containers = [...((spec.initContainers as Json[] | undefined) ?? []), ...(spec.containers as Json[])];
      for (const c of containers) {
        const where = `${owner}/${String(c.name)}`;
        expect({ where, sc: c.securityContext }).toEqual({
          where,
          sc: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
        });
        const r = c.resources as { requests: Json; limits: Json };
        expect({ where, cpu: r.requests.cpu !== undefined && r.limits.cpu !== undefined, mem: r.requests.memory !== undefined && r.limits.memory !== undefined }).toEqual({
          where,
          cpu: true,
          mem: true,
        });
        expect({ where, image: c.image }).toEqual({ where, image: expect.stringMatching(/^[\w./-]+:(?!latest$)[\w.-]+$/) });
      }
    }
  });

  test('Alertmanager clusters exactly when it has several replicas', () => {
    const am = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager') as KubeObject;
    const args = JSON.stringify(am);
    if (alertmanagerReplicas(values) > 1) expect(args).toContain('--cluster.peer=vigil-alertmanager-headless.vigil-system.svc:9094');
    else expect(args).toContain('"--cluster.listen-address="');
  });
});

describe('Alertmanager state (silences, notification log)', () => {
  type Sts = {
    spec: { volumeClaimTemplates?: { metadata: { name: string }; spec: Json }[]; template: { spec: { volumes: { name: string; emptyDir?: Json }[]; containers: { name: string; args: string[] }[] } } };
  };
  const alertmanagerOf = (overrides: Json) => {
    const objects = synthesize('concrete', parseValues(mergeValues(mergeValues(DEFAULT_VALUES, REAL_CLUSTER), overrides))).objects;
    return objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'vigil-alertmanager') as unknown as Sts;
  };
  const argsOf = (sts: Sts) => sts.spec.template.spec.containers.find((c) => c.name === 'alertmanager')?.args ?? [];

  test('written to disk every alertmanager.maintenanceInterval, 10s by default (Alertmanager alone: 15m)', () => {
    expect(argsOf(alertmanagerOf({}))).toContain('--data.maintenance-interval=10s');
    expect(argsOf(alertmanagerOf({ alertmanager: { maintenanceInterval: '30s' } }))).toContain('--data.maintenance-interval=30s');
    expect(argsOf(alertmanagerOf({})).filter((a) => a.startsWith('--data.maintenance-interval'))).toHaveLength(1);
  });

  test('persistence on: a PersistentVolumeClaim per replica named data, no emptyDir for it', () => {
    const sts = alertmanagerOf({ alertmanager: { replicas: 3, persistence: { enabled: true, size: '2Gi', storageClassName: 'fast' } } });
    expect(sts.spec.volumeClaimTemplates).toEqual([{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'fast' } }]);
    expect(sts.spec.template.spec.volumes.map((v) => v.name)).not.toContain('data');
    const noClass = alertmanagerOf({ alertmanager: { persistence: { enabled: true } } });
    expect(noClass.spec.volumeClaimTemplates?.[0]?.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  });

  test('persistence off (the default): data is an emptyDir, no claim', () => {
    const sts = alertmanagerOf({});
    expect(sts.spec.volumeClaimTemplates).toBeUndefined();
    expect(sts.spec.template.spec.volumes.find((v) => v.name === 'data')).toEqual({ name: 'data', emptyDir: {} });
  });

  test('several replicas prefer different nodes (a soft anti-affinity on the hostname), unless the values set an affinity; one replica has none', () => {
    const affinityOf = (overrides: Json) => (alertmanagerOf(overrides).spec.template.spec as { affinity?: Json }).affinity;
    const spread = {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'vigil-alertmanager' } }, topologyKey: 'kubernetes.io/hostname' } },
        ],
      },
    };
    expect(affinityOf({ alertmanager: { replicas: 2 } })).toEqual(spread);
    expect(affinityOf({ alertmanager: { replicas: 1 } })).toBeUndefined();
    // Replicas left to the profile: 2 with production (the default), 1 with demo.
    expect(affinityOf({})).toEqual(spread);
    expect(affinityOf({ profile: 'demo' })).toBeUndefined();
    const own = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['ops'] }] }] } } };
    expect(affinityOf({ alertmanager: { replicas: 2 }, affinity: own })).toEqual(own);
    // The chart says the same: the anti-affinity only when several replicas and no affinity of the values.
    const template = generateChart().get('templates/alertmanager/statefulset.yaml') ?? '';
    expect(template).toContain(`{{- if and (gt ${ALERTMANAGER_REPLICAS_GO} 1) (empty .Values.affinity) }}`);
  });

  test('the helm template guards the claim and the emptyDir by the same value', () => {
    const template = generateChart().get('templates/alertmanager/statefulset.yaml') ?? '';
    expect(template).toContain('--data.maintenance-interval={{ .Values.alertmanager.maintenanceInterval }}');
    expect(template.match(/\{\{- if \.Values\.alertmanager\.persistence\.enabled \}\}/g)).toHaveLength(1);
    expect(template.match(/\{\{- if not \(\.Values\.alertmanager\.persistence\.enabled\) \}\}/g)).toHaveLength(1);
  });
});

describe('helm tokens', () => {
  test('whole scalars print as actions, maps and lists as toYaml blocks, optional items behind one guard', () => {
    const ctx = new RenderContext('helm', DEFAULT_VALUES, 'ignored');
    const obj = {
      retention: ctx.value<string>('prometheus.retention'),
      replicas: ctx.value<number>('operator.replicas'),
      arg: `--r=${ctx.value<string>('prometheus.retention')}`,
      resources: ctx.value('prometheus.resources'),
      list: ['a', ...ctx.optionalItems(ctx.flag('mailCatcher.enabled'), ['b'])],
      chosen: ctx.choose(ctx.flag('mailCatcher.enabled'), { a: 1 }, { b: 2 }),
    };
    expect(new TemplateEmitter(ctx.tokens).mapping(obj, 0).join('\n')).toBe(
      [
        'retention: {{ .Values.prometheus.retention | quote }}',
        'replicas: {{ .Values.operator.replicas }}',
        'arg: "--r={{ .Values.prometheus.retention }}"',
        'resources:',
        '  {{- toYaml .Values.prometheus.resources | nindent 2 }}',
        'list:',
        '  - a',
        '  {{- if .Values.mailCatcher.enabled }}',
        '  - b',
        '  {{- end }}',
        'chosen:',
        '{{- if .Values.mailCatcher.enabled }}',
        '  a: 1',
        '{{- else }}',
        '  b: 2',
        '{{- end }}',
      ].join('\n'),
    );
  });

  test('concrete mode has no tokens at all', () => {
    const ctx = new RenderContext('concrete', DEFAULT_VALUES, 'ns');
    expect(ctx.value('prometheus.retention')).toBe('15d');
    expect(ctx.namespace).toBe('ns');
    expect(ctx.tokens.size).toBe(0);
  });
});
