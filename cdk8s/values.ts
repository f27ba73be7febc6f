// The values of the Vigil deployment: one zod schema is the source of the chart's values.yaml
// (its defaults), values.schema.json (z.toJSONSchema) and the TypeScript type the constructs read.
// The cdk8s app is synthesized either with concrete values (cdk8s/dist/<profile>) or with Helm
// expressions in their place (charts/vigil); see context.ts.
import { z } from 'zod';
import { IMAGE_DEFAULTS } from './versions.js';
import { DURATION_PATTERN } from '../operator/validate/duration.js';

/** A Prometheus duration (operator/validate/duration.ts), not empty. */
const duration = () => z.string().min(1).regex(new RegExp(DURATION_PATTERN));

const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/), z.number()]);
const ResourcesSchema = z
  .object({
    requests: z.record(z.string(), quantity).default({}),
    limits: z.record(z.string(), quantity).default({}),
  })
  .describe('Container resources (requests and limits), as in a Pod spec.');

const resources = (cpuReq: string, memReq: string, cpuLim: string, memLim: string) => ResourcesSchema.default({ requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } });

const ImageSchema = z.object({
  repository: z.string().min(1).describe('Image repository.'),
  // A refinement, not a lookahead: Helm checks values.schema.json patterns with Go's RE2.
  tag: z
    .string()
    .regex(/^[\w][\w.-]{0,127}$/)
    .refine((t) => t !== 'latest', { message: 'must be a pinned tag, not latest' })
    .describe('Pinned image tag (never latest).'),
  pullPolicy: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
});
const image = (d: { repository: string; tag: string }) => ImageSchema.default({ ...d, pullPolicy: 'IfNotPresent' });

const ServiceExposureSchema = z.object({
  type: z.enum(['ClusterIP', 'NodePort']).default('ClusterIP').describe('Service type; NodePort is what kind uses.'),
  nodePort: z.number().int().min(30000).max(32767).nullable().default(null).describe('Fixed node port when type is NodePort.'),
});
const exposure = () => ServiceExposureSchema.default({ type: 'ClusterIP', nodePort: null });

export const VigilValuesSchema = z
  .object({
    profile: z.enum(['production', 'demo']).default('production').describe('Notification timing: production batches alerts; demo sends at once (group_wait 0s) like the original compose stack.'),
    clusterName: z.string().max(63).default('kubernetes').describe('Value of the cluster external label on every alert.'),
    scrapeInterval: duration().default('15s').describe('Default scrape interval.'),
    evaluationInterval: duration().default('15s').describe('Rule evaluation interval.'),
    smtp: z
      .object({
        smarthost: z
          .string()
          .default('')
          .describe('host:port of the SMTP server. Port 465 means implicit TLS (SMTPS), other ports STARTTLS unless forceImplicitTls. Ignored when mailCatcher.enabled.'),
        from: z.string().default('vigil@example.com').describe('From address of alert emails.'),
        hello: z.string().default('').describe("Hostname announced in EHLO; empty means Alertmanager's default."),
        requireTls: z.boolean().default(true).describe('Require STARTTLS (ports other than 465, without forceImplicitTls).'),
        forceImplicitTls: z.boolean().default(false).describe("Implicit TLS (SMTPS) whatever the port, e.g. a provider's SMTPS on 2465 (Alertmanager smtp_force_implicit_tls)."),
        insecureSkipVerify: z.boolean().default(false).describe('Skip verification of the SMTP server certificate (never in production).'),
        credentialsSecret: z.string().default('').describe('Name of an existing Secret in the release namespace with keys username and password; empty = no SMTP auth.'),
        defaultRecipients: z.array(z.string()).default([]).describe('Receive alerts of MonitoredServices that name no recipients.'),
      })
      .default({ smarthost: '', from: 'vigil@example.com', hello: '', requireTls: true, forceImplicitTls: false, insecureSkipVerify: false, credentialsSecret: '', defaultRecipients: [] }),
    watchdog: z
      .object({
        webhookUrl: z
          .string()
          .regex(/^(https?:\/\/\S+)?$/)
          .default('')
          .describe(
            "Webhook of an outside heartbeat monitor (dead man's switch): Alertmanager posts the always-firing Watchdog alert there every interval while Prometheus evaluates rules and reaches Alertmanager; page when the posts stop. Empty = no webhook (the alert is still visible in Alertmanager).",
          ),
        interval: duration().default('1m').describe('How often the Watchdog heartbeat is posted (group_interval and repeat_interval of its route; posts come 1 to 2 intervals apart).'),
      })
      .prefault({}),
    operator: z
      .object({
        image: image(IMAGE_DEFAULTS.operator),
        replicas: z.number().int().min(1).max(5).default(2).describe('Replicas; one leader is elected through a Lease.'),
        watchNamespaces: z.array(z.string()).default([]).describe('Namespaces whose MonitoredServices are watched; empty = all.'),
        selector: z
          .string()
          .regex(/^[^"\\\n]*$/)
          .default('')
          .describe(
            'Label selector on MonitoredServices (kubectl -l syntax, e.g. vigil.dev/install=team-a); empty = all. With watchNamespaces it is the scope of this install: when the chart is installed more than once in a cluster, give each install a scope of its own (docs/deployment.md, "Several installs").',
          ),
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Log level of the operator and the sync sidecars.'),
        extraArgs: z.array(z.string()).default([]).describe('Extra command-line flags of the operator, appended after the generated ones.'),
        // Requests at least what the real node measured (issue #9: operator 101 MiB at rest).
        resources: resources('50m', '128Mi', '500m', '256Mi'),
      })
      .prefault({}),
    sync: z
      // Requests at least what the real node measured (issue #9: 70-74 MiB at rest).
      .object({ resources: resources('10m', '96Mi', '200m', '128Mi') })
      .prefault({})
      .describe('The config sync sidecar in the Prometheus and Alertmanager pods (operator image).'),
    prometheus: z
      .object({
        image: image(IMAGE_DEFAULTS.prometheus),
        retention: duration().default('15d').describe('How long samples are kept.'),
        externalUrl: z.string().default('http://localhost:9090').describe('URL users reach Prometheus at (links in emails).'),
        persistence: z
          .object({
            enabled: z.boolean().default(false).describe('PersistentVolumeClaim instead of emptyDir.'),
            size: z.string().default('10Gi'),
            storageClassName: z.string().default('').describe('Empty = the cluster default StorageClass.'),
          })
          .prefault({}),
        service: exposure(),
        resources: resources('100m', '256Mi', '1', '1Gi'),
        extraArgs: z.array(z.string()).default([]).describe('Extra command-line flags of Prometheus, appended after the generated ones.'),
      })
      .prefault({}),
    alertmanager: z
      .object({
        image: image(IMAGE_DEFAULTS.alertmanager),
        replicas: z.number().int().min(1).max(5).default(1).describe('Replicas > 1 form a gossip cluster through a headless Service.'),
        externalUrl: z.string().default('http://localhost:9093'),
        service: exposure(),
        resources: resources('20m', '64Mi', '200m', '256Mi'),
        extraArgs: z.array(z.string()).default([]).describe('Extra command-line flags of Alertmanager, appended after the generated ones.'),
      })
      .prefault({}),
    mailCatcher: z
      .object({
        enabled: z.boolean().default(false).describe('Deploy a test mail catcher behind stunnel (port 465) and send every alert there. Off in production.'),
        kind: z.enum(['mailpit', 'mailhog']).default('mailpit').describe('mailpit (tested) or mailhog (as in the original stack; unmaintained).'),
        mailpitImage: image(IMAGE_DEFAULTS.mailpit),
        mailhogImage: image(IMAGE_DEFAULTS.mailhog),
        stunnelImage: image(IMAGE_DEFAULTS.stunnel),
        service: exposure(),
        resources: resources('10m', '32Mi', '200m', '128Mi'),
      })
      .prefault({}),
    demoTarget: z
      .object({
        enabled: z.boolean().default(false).describe('Deploy the demo target Pod, its Service and MonitoredService.'),
        image: image(IMAGE_DEFAULTS.targetService),
        resources: resources('10m', '48Mi', '200m', '128Mi'),
      })
      .prefault({}),
    nodeSelector: z.record(z.string(), z.string()).default({}).describe('nodeSelector of every Vigil pod.'),
    tolerations: z.array(z.record(z.string(), z.unknown())).default([]).describe('Tolerations of every Vigil pod.'),
    affinity: z.record(z.string(), z.unknown()).default({}).describe('Affinity of every Vigil pod.'),
    priorityClassName: z.string().default('').describe('PriorityClass of every Vigil pod; empty = the cluster default.'),
    imagePullSecrets: z
      .array(z.object({ name: z.string().min(1) }))
      .default([])
      .describe('Secrets for pulling the images of every Vigil pod, e.g. [{name: regcred}].'),
    podAnnotations: z.record(z.string(), z.string()).default({}).describe('Extra annotations on the operator, Prometheus, Alertmanager and mail catcher pods.'),
  })
  .describe('Values of the Vigil chart.')
  .superRefine((v, ctx) => {
    if (v.profile === 'demo' && v.alertmanager.replicas > 1) ctx.addIssue({ code: 'custom', path: ['alertmanager', 'replicas'], message: HA_DEMO_REFUSAL });
  });

/**
 * Why the chart refuses alertmanager.replicas > 1 with profile=demo (issue #14, measured on a
 * real cluster: 4 emails per outage instead of 2). A clustered Alertmanager at position p in the
 * peer list waits p x peer_timeout (15 s) before it notifies and relies on the gossiped
 * notification log to skip what a peer already sent. With demo's group_interval of 1 s a replica's
 * flush taken while the alert still fired runs after the first replica has already sent the
 * RESOLVED: its firing set is not in the log any more, so it sends a stale FIRING (and later
 * another RESOLVED). The production profile's group_interval (5m) is far above 2 x 15 s.
 */
export const HA_DEMO_REFUSAL =
  'alertmanager.replicas > 1 cannot be combined with profile=demo: the demo timings (group_interval 1s) are shorter than the ' +
  "Alertmanager cluster's peer timeout (15s), so the replicas send a stale FIRING after the RESOLVED (4 emails per outage instead of 2). " +
  'Use profile=production with several replicas, or alertmanager.replicas=1 with profile=demo.';

export type VigilValues = z.output<typeof VigilValuesSchema>;
export type VigilValuesInput = z.input<typeof VigilValuesSchema>;

/** The values a kind cluster uses (charts/vigil/values-kind.yaml): mail catcher, demo target, NodePorts, fast timings. */
export const KIND_VALUES: VigilValuesInput = {
  profile: 'demo',
  clusterName: 'kind',
  scrapeInterval: '5s',
  evaluationInterval: '5s',
  smtp: { from: 'vigil@kind.local', defaultRecipients: ['oncall@example.com'] },
  operator: { replicas: 1, image: { ...IMAGE_DEFAULTS.operator, pullPolicy: 'Never' } },
  prometheus: { retention: '2d', service: { type: 'NodePort', nodePort: 30090 } },
  alertmanager: { service: { type: 'NodePort', nodePort: 30093 } },
  mailCatcher: {
    enabled: true,
    service: { type: 'NodePort', nodePort: 30025 },
    stunnelImage: { ...IMAGE_DEFAULTS.stunnel, pullPolicy: 'Never' },
  },
  demoTarget: { enabled: true, image: { ...IMAGE_DEFAULTS.targetService, pullPolicy: 'Never' } },
};

/** Helm's merge of a values file over the chart defaults: maps merge deeply, everything else replaces. */
export function mergeValues(base: unknown, override: unknown): unknown {
  if (isPlainObject(base) && isPlainObject(override)) {
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override)) out[k] = k in base ? mergeValues(base[k], v) : v;
    return out;
  }
  return override === undefined ? base : override;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses values (defaults applied) and says which field is wrong when they are not valid. */
export function parseValues(input: unknown): VigilValues {
  const r = VigilValuesSchema.safeParse(input ?? {});
  if (!r.success) {
    throw new Error(`invalid Vigil values: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return r.data;
}

export const DEFAULT_VALUES: VigilValues = parseValues({});
export const KIND_RESOLVED_VALUES: VigilValues = parseValues(mergeValues(DEFAULT_VALUES, KIND_VALUES));
