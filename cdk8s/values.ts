// The values of the Vigil deployment: one zod schema is the source of the chart's values.yaml
// (its defaults), values.schema.json (z.toJSONSchema) and the TypeScript type the constructs read.
// The cdk8s app is synthesized either with concrete values (cdk8s/dist/<profile>) or with Helm
// expressions in their place (charts/vigil); see context.ts.
import { z } from 'zod';
import { IMAGE_DEFAULTS } from './versions.js';
import { DURATION_PATTERN, parseDurationMs, SCRAPE_DURATION_PATTERN } from '../operator/validate/duration.js';
import { DEFAULT_SCRAPE_INTERVAL, EMAIL_PATTERN } from '../operator/api/schema.js';
import { GLOBAL_TIMING_BOUNDS, type GlobalTimingBound } from '../operator/render/global-timing.js';
import { closestName } from '../operator/validate/unknown-fields.js';
import { HOST_PORT_PATTERN } from '../operator/render/settings-schema.js';
import { BODY_SIZE_PATTERN, MAX_COUNT_LIMIT, SCRAPE_COUNT_LIMIT_FIELDS } from '../operator/api/scrape-limits.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS, type ScrapeLimitSettings } from '../operator/render/scrape-limits.js';
import { MAX_SHARDS } from '../operator/assemble/shards.js';

/** A Prometheus duration (operator/validate/duration.ts), not empty. */
const duration = () => z.string().min(1).regex(new RegExp(DURATION_PATTERN));
/** A duration in h, m, s and ms, as MonitoredService endpoints take their interval (the install checks compute it in Go templates). */
const scrapeDuration = () => z.string().min(1).regex(new RegExp(SCRAPE_DURATION_PATTERN));
const boundRule = (field: GlobalTimingBound['field']) => {
  const bound = GLOBAL_TIMING_BOUNDS.find((b) => b.field === field)!;
  return `Units h, m, s, ms; ${bound.rule}.`;
};

const quantity = z.union([z.string().regex(/^[0-9.]+[a-zA-Z]*$/), z.number()]);
const ResourcesSchema = z
  .strictObject({
    requests: z.record(z.string(), quantity).default({}),
    limits: z.record(z.string(), quantity).default({}),
  })
  .describe('Container resources (requests and limits), as in a Pod spec.');

const resources = (cpuReq: string, memReq: string, cpuLim: string, memLim: string) => ResourcesSchema.default({ requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } });

const ImageSchema = z.strictObject({
  registry: z
    .string()
    .regex(/^[^/\s]*(\/[^/\s]+)*$/)
    .default('')
    .describe('Registry (host[:port], optionally with a path) the image is pulled from; empty = global.imageRegistry (none: the repository as it is).'),
  repository: z.string().min(1).describe('Image repository (without the registry).'),
  // A refinement, not a lookahead: Helm checks values.schema.json patterns with Go's RE2.
  tag: z
    .string()
    .regex(/^[\w][\w.-]{0,127}$/)
    .refine((t) => t !== 'latest', { message: 'must be a pinned tag, not latest' })
    .describe('Pinned image tag (never latest).'),
  pullPolicy: z.enum(['IfNotPresent', 'Always', 'Never']).default('IfNotPresent'),
});
const image = (d: { registry: string; repository: string; tag: string }) => ImageSchema.default({ ...d, pullPolicy: 'IfNotPresent' });

/**
 * One Prometheus remote_write entry: the keys of Prometheus 3's remote_write configuration, each passed through as
 * given (Prometheus checks their values when it loads the config); any other key is refused by name here.
 */
const REMOTE_WRITE_KEYS = [
  'name',
  'remote_timeout',
  'headers',
  'write_relabel_configs',
  'protobuf_message',
  'send_exemplars',
  'send_native_histograms',
  'round_robin_dns',
  'basic_auth',
  'authorization',
  'oauth2',
  'sigv4',
  'azuread',
  'google_iam',
  'tls_config',
  'proxy_url',
  'no_proxy',
  'proxy_from_environment',
  'proxy_connect_header',
  'follow_redirects',
  'enable_http2',
  'http_headers',
  'queue_config',
  'metadata_config',
] as const;
const RemoteWriteSchema = z.strictObject({
  url: z
    .string()
    .regex(/^https?:\/\/\S+$/)
    .describe('Where samples are sent, e.g. https://metrics.example.com/api/v1/write.'),
  ...(Object.fromEntries(REMOTE_WRITE_KEYS.map((key) => [key, z.unknown().optional()])) as { [K in (typeof REMOTE_WRITE_KEYS)[number]]: z.ZodOptional<z.ZodUnknown> }),
});

const ServiceExposureSchema = z.strictObject({
  type: z.enum(['ClusterIP', 'NodePort']).default('ClusterIP').describe('Service type; NodePort is what kind uses.'),
  nodePort: z.number().int().min(30000).max(32767).nullable().default(null).describe('Fixed node port when type is NodePort.'),
});
const exposure = () => ServiceExposureSchema.default({ type: 'ClusterIP', nodePort: null });

/** One value per scrape limit, defaulting to `d` (operator/render/scrape-limits.ts). */
const scrapeLimitValues = (d: ScrapeLimitSettings['defaults']) => {
  const count = (value: number, what: string) => z.number().int().min(0).max(MAX_COUNT_LIMIT).default(value).describe(what);
  return z
    .strictObject({
      sampleLimit: count(d.sampleLimit, 'Samples one scrape of one target may return (sample_limit).'),
      targetLimit: count(d.targetLimit, 'Targets one scrape job (one endpoint of a MonitoredService) may have (target_limit).'),
      labelLimit: count(d.labelLimit, 'Labels one series may carry (label_limit).'),
      labelNameLengthLimit: count(d.labelNameLengthLimit, 'Longest label name in bytes (label_name_length_limit).'),
      labelValueLengthLimit: count(d.labelValueLengthLimit, 'Longest label value in bytes (label_value_length_limit).'),
      bodySizeLimit: z
        .string()
        .regex(new RegExp(BODY_SIZE_PATTERN))
        .default(d.bodySizeLimit)
        .describe('Largest uncompressed scrape body, e.g. 10MB (body_size_limit; units B, KB, MB, GB, KiB, MiB, GiB, KB = KiB = 1024 bytes), or 0.'),
    })
    .prefault({});
};

/**
 * An http(s) URL, or empty (then the install checks say it is required). No query, fragment or user info: the email
 * template appends paths and fragments (/#/silences/new?...) to it, and every email would carry the credentials.
 */
const EXTERNAL_URL = /^(https?:\/\/[^\s/?#@]+(\/[^\s?#]*)?)?$/;

/** The values' shape and defaults (values.yaml, values.schema.json); installable values also pass INSTALL_CHECKS. */
export const VigilValuesShape = z
  .strictObject({
    // Open: Helm copies a parent chart's global values into every subchart's, whatever their names.
    global: z
      .object({
        imageRegistry: z
          .string()
          .regex(/^[^/\s]*(\/[^/\s]+)*$/)
          .default('')
          .describe(
            'Registry of every image whose own image.registry is empty: the images Vigil builds (operator with its sync sidecars and helm test, stunnel, demo target), e.g. registry.example.com after `make push REGISTRY=registry.example.com`, pulled as <registry>/vigil/<name>:<version>. The upstream images (Prometheus, Alertmanager, Mailpit) name their registry; set it to your mirror, or to "" to use this one.',
          ),
      })
      .prefault({}),
    profile: z.enum(['production', 'demo']).default('production').describe('Notification timing: production batches alerts; demo sends at once (group_wait 0s) like the original compose stack.'),
    clusterName: z.string().max(63).default('kubernetes').describe('Value of the cluster external label on every alert.'),
    scrapeInterval: scrapeDuration()
      .default(DEFAULT_SCRAPE_INTERVAL)
      .describe(
        `Prometheus's global scrape interval: that of its own and the operator's jobs. MonitoredService endpoints do not take it (without interval they are scraped every ${DEFAULT_SCRAPE_INTERVAL}, the same default). ${boundRule('scrapeInterval')}`,
      ),
    evaluationInterval: scrapeDuration()
      .default('15s')
      .describe(`Rule evaluation interval of every MonitoredService's rules and the Watchdog. ${boundRule('evaluationInterval')}`),
    smtp: z
      .strictObject({
        smarthost: z
          .string()
          .default('')
          .describe(
            'Required: host:port of the SMTP server, e.g. smtp.example.com:587. Port 465 means implicit TLS (SMTPS), other ports STARTTLS unless forceImplicitTls. Ignored when mailCatcher.enabled.',
          ),
        from: z.string().regex(new RegExp(EMAIL_PATTERN)).default('vigil@example.com').describe('From address of alert emails: a plain address such as alerts@example.com.'),
        hello: z.string().default('').describe("Hostname announced in EHLO; empty means Alertmanager's default."),
        requireTls: z.boolean().default(true).describe('Require STARTTLS (ports other than 465, without forceImplicitTls).'),
        forceImplicitTls: z.boolean().default(false).describe("Implicit TLS (SMTPS) whatever the port, e.g. a provider's SMTPS on 2465 (Alertmanager smtp_force_implicit_tls)."),
        insecureSkipVerify: z.boolean().default(false).describe('Skip verification of the SMTP server certificate (never in production).'),
        credentialsSecret: z.string().default('').describe('Name of an existing Secret in the release namespace with keys username and password; empty = no SMTP auth.'),
        defaultRecipients: z
          .array(z.string().regex(new RegExp(EMAIL_PATTERN)))
          // Alertmanager sends one RCPT TO per listed address, duplicates included.
          .refine((to) => new Set(to).size === to.length, { message: 'must list each address once (Alertmanager would send every email to a repeated one twice)' })
          .meta({ uniqueItems: true })
          .default([])
          .describe('Receive alerts of MonitoredServices that name no recipients. Required unless allowNoDefaultRecipients: without them those alerts are emailed to nobody.'),
        allowNoDefaultRecipients: z
          .boolean()
          .default(false)
          .describe(
            'Accept an empty defaultRecipients: alerts of MonitoredServices that name no recipients are then emailed to nobody, and their EmailDelivered and Ready conditions are False (NoRecipients).',
          ),
      })
      .prefault({}),
    watchdog: z
      .strictObject({
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
    scrapeLimits: z
      .strictObject({
        defaults: scrapeLimitValues(DEFAULT_SCRAPE_LIMIT_SETTINGS.defaults).describe('Limits of a MonitoredService that leaves them out (spec.limits); 0 = unlimited.'),
        ceilings: scrapeLimitValues(DEFAULT_SCRAPE_LIMIT_SETTINGS.ceilings).describe(
          'The most a MonitoredService may ask for each limit: above it the object is refused (Valid=False naming field, value and ceiling). 0 = no ceiling (a service may then also ask 0, unlimited). Each default must be within its ceiling (the operator refuses to start otherwise). Raise the sample ceiling together with prometheus.resources.',
        ),
      })
      .prefault({})
      .describe(
        "Scrape limits of every MonitoredService's jobs (Prometheus's sample_limit, target_limit, label_limit, label_name_length_limit, label_value_length_limit, body_size_limit): a scrape over one fails as a whole, so one team's cardinality burst cannot fill the shared Prometheus (docs/monitoredservice.md, \"Scrape limits\").",
      ),
    operator: z
      .strictObject({
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
        // operator/wasm (Prometheus's parser, 30 MiB of WebAssembly) adds about 135 MiB of RSS outside the V8 heap.
        resources: resources('50m', '256Mi', '500m', '512Mi'),
      })
      .prefault({}),
    sync: z
      // Requests at least what the real node measured (issue #9: 70-74 MiB at rest).
      .strictObject({ resources: resources('10m', '96Mi', '200m', '128Mi') })
      .prefault({})
      .describe('The config sync sidecar in the Prometheus and Alertmanager pods (operator image).'),
    prometheus: z
      .strictObject({
        image: image(IMAGE_DEFAULTS.prometheus),
        retention: duration().default('15d').describe('How long samples are kept.'),
        externalUrl: z
          .string()
          .regex(EXTERNAL_URL)
          .default('')
          .describe(
            'Required: the URL users open Prometheus at, e.g. https://prometheus.example.com or https://example.com/prometheus; the Graph link of every alert email. A path is also the route prefix Prometheus serves under (probes, reloads and polls follow it).',
          ),
        persistence: z
          .strictObject({
            enabled: z.boolean().default(false).describe('PersistentVolumeClaim instead of emptyDir.'),
            size: z.string().default('10Gi'),
            storageClassName: z.string().default('').describe('Empty = the cluster default StorageClass.'),
          })
          .prefault({}),
        service: exposure(),
        resources: resources('100m', '256Mi', '1', '1Gi'),
        extraArgs: z.array(z.string()).default([]).describe('Extra command-line flags of Prometheus, appended after the generated ones.'),
        replicas: z
          .number()
          .int()
          .min(1)
          .max(10)
          .default(1)
          .describe(
            'Prometheus replicas (HA): each scrapes and evaluates everything on its own, tells itself apart by the external label prometheus_replica (its pod name), and sends its alerts without that label, so Alertmanager deduplicates them into one email. thanos.enabled gives one deduplicated query view over them.',
          ),
        shards: z
          .number()
          .int()
          .min(1)
          .max(MAX_SHARDS)
          .default(1)
          .describe(
            `Prometheus shards, 1 to ${MAX_SHARDS} (vigil operator --prometheus-shards): the MonitoredServices are spread over them by whole namespaces, each shard a StatefulSet of prometheus.replicas pods loading only its namespaces' config (docs/deployment.md, "Shards"). Shard 0 is vigil-prometheus (the install without shards), shard i vigil-prometheus-shard-<i>. thanos.enabled gives one query view over all of them. Changing it on a running install moves namespaces between shards.`,
          ),
        remoteWrite: z.array(RemoteWriteSchema).default([]).describe('Prometheus remote_write entries (Prometheus configuration keys), for a metrics store of your own; unknown keys are refused.'),
      })
      .prefault({}),
    thanos: z
      .strictObject({
        enabled: z
          .boolean()
          .default(false)
          .describe(
            'A Thanos sidecar in every Prometheus pod and a Thanos Query Deployment (with its UI) answering PromQL over all of them, deduplicated on prometheus_replica. Rules and alerts stay in Prometheus.',
          ),
        image: image(IMAGE_DEFAULTS.thanos),
        sidecarResources: resources('10m', '64Mi', '200m', '256Mi'),
        query: z
          .strictObject({
            replicas: z.number().int().min(1).max(5).default(1).describe('Thanos Query replicas (stateless).'),
            service: exposure(),
            resources: resources('20m', '64Mi', '500m', '512Mi'),
            extraArgs: z.array(z.string()).default([]).describe('Extra command-line flags of thanos query, appended after the generated ones.'),
          })
          .prefault({}),
      })
      .prefault({}),
    alertmanager: z
      .strictObject({
        image: image(IMAGE_DEFAULTS.alertmanager),
        // Two with production: the only way a `helm upgrade` keeps the notification log and silences without a StorageClass.
        // Empty by default so that the profile decides (alertmanagerReplicas): profile=demo alone installs one.
        replicas: z
          .number()
          .int()
          .min(1)
          .max(5)
          .nullable()
          .default(null)
          .describe(
            'Replicas; empty (null, the default) = 2 with profile=production, 1 with profile=demo. Replicas > 1 form a gossip cluster through a headless Service and Prometheus notifies each; a replaced replica copies the silences and the notification log from the others before it notifies, and they are replaced one at a time (a PodDisruptionBudget allows one eviction at a time), so a `helm upgrade` re-sends nothing. 1 (the only number profile=demo accepts): a new pod on emptyDir starts empty and emails every firing alert again; set persistence.enabled then.',
          ),
        maintenanceInterval: duration()
          .default('10s')
          .describe(
            'How often Alertmanager writes its silences and notification log to its data volume (--data.maintenance-interval; Alertmanager defaults to 15m and writes them at no other time but a clean shutdown): a crash loses the silences made and the notifications sent since the last write, and re-sends those alerts. Each write rewrites both files whole (about 230 bytes per silence: 1,000 silences are a 230 kB write every 10 s).',
          ),
        persistence: z
          .strictObject({
            enabled: z
              .boolean()
              .default(false)
              .describe(
                'A PersistentVolumeClaim per replica for silences and the notification log instead of emptyDir (needs a StorageClass). Without it they survive a container restart but not a new pod (helm upgrade, eviction): replicas > 1 (the production default) copy them from their peers; a lone replica forgets its silences and emails every firing alert again.',
              ),
            size: z.string().default('1Gi'),
            storageClassName: z.string().default('').describe('Empty = the cluster default StorageClass.'),
          })
          .prefault({}),
        externalUrl: z
          .string()
          .regex(EXTERNAL_URL)
          .default('')
          .describe(
            'Required: the URL users open Alertmanager at, e.g. https://alertmanager.example.com or https://example.com/alertmanager; the silence and all-alerts links of every alert email. A path is also the route prefix Alertmanager serves under.',
          ),
        service: exposure(),
        resources: resources('20m', '64Mi', '200m', '256Mi'),
        extraArgs: z.array(z.string()).default([]).describe('Extra command-line flags of Alertmanager, appended after the generated ones.'),
      })
      .prefault({}),
    mailCatcher: z
      .strictObject({
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
      .strictObject({
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
      .array(z.strictObject({ name: z.string().min(1) }))
      .default([])
      .describe('Secrets for pulling the images of every Vigil pod, e.g. [{name: regcred}].'),
    podAnnotations: z.record(z.string(), z.string()).default({}).describe('Extra annotations on the operator, Prometheus, Alertmanager and mail catcher pods.'),
  })
  .describe('Values of the Vigil chart.');

type Shape = z.output<typeof VigilValuesShape>;

/**
 * A combination of values the chart refuses at install time, stated twice from one place: as a
 * TypeScript test (parseValues) and as a Go template condition (templates/vigil-values-check.yaml,
 * which `helm install`, `helm template` and `helm lint` evaluate). values.schema.json cannot say
 * "required unless ..." or give a message of its own.
 */
export interface InstallCheck {
  /** The value to change, as shown in the message. */
  path: string;
  refuses: (v: Shape) => boolean;
  goCondition: string;
  /** A variable assignment the condition reads, emitted before it (e.g. `$x := ...`). */
  goSetup?: string;
  message: string;
}

/** host:port as the operator's settings take it (a bracketed IPv6 address allowed); the template uses the same pattern. */
export const SMARTHOST_PATTERN = HOST_PORT_PATTERN;

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

/**
 * The number of Alertmanager replicas: alertmanager.replicas, or when it is empty (null, the
 * default) the profile's: 2 with production (an upgrade re-sends nothing), 1 with demo (more are
 * refused, HA_DEMO_REFUSAL).
 */
export function alertmanagerReplicas(v: { profile: 'production' | 'demo'; alertmanager: { replicas: number | null } }): number {
  return v.alertmanager.replicas ?? (v.profile === 'demo' ? 1 : 2);
}

/** alertmanagerReplicas as a Go template expression (an int); `default` is safe as 0 is not a valid value. */
export const ALERTMANAGER_REPLICAS_GO = '(int (.Values.alertmanager.replicas | default (ternary 1 2 (eq .Values.profile "demo"))))';

/**
 * A Go template expression for the milliseconds of a duration value in h, m, s and ms
 * (SCRAPE_DURATION_PATTERN, which values.schema.json has already checked): each unit's number
 * through regexReplaceAll, times its length.
 */
export function goDurationMs(value: string): string {
  const pattern = JSON.stringify('^(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$');
  const part = (group: number, factor: number) => `(mul (atoi (regexReplaceAll ${pattern} ${value} "\${${group}}")) ${factor})`;
  return `(add ${part(1, 3_600_000)} ${part(2, 60_000)} ${part(3, 1000)} ${part(4, 1)})`;
}

/** The global timing bounds (operator/render/global-timing.ts) as install checks. */
const TIMING_CHECKS: InstallCheck[] = GLOBAL_TIMING_BOUNDS.map((bound) => ({
  path: bound.field,
  refuses: (v) => {
    const ms = parseDurationMs(v[bound.field]);
    return ms === undefined || ms <= 0 || ms > bound.maxMs;
  },
  goSetup: `$${bound.field}Ms := ${goDurationMs(`.Values.${bound.field}`)}`,
  goCondition: `or (le $${bound.field}Ms 0) (gt $${bound.field}Ms ${bound.maxMs})`,
  message: `${bound.field} ${bound.rule}.`,
}));

export const INSTALL_CHECKS: readonly InstallCheck[] = [
  ...TIMING_CHECKS,
  {
    path: 'alertmanager.replicas',
    // Only an explicit number: left empty, demo gets one replica (alertmanagerReplicas).
    refuses: (v) => v.profile === 'demo' && alertmanagerReplicas(v) > 1,
    goCondition: `and (eq .Values.profile "demo") (gt ${ALERTMANAGER_REPLICAS_GO} 1)`,
    message: HA_DEMO_REFUSAL,
  },
  {
    path: 'prometheus.externalUrl',
    refuses: (v) => v.prometheus.externalUrl === '',
    goCondition: 'not .Values.prometheus.externalUrl',
    message:
      'prometheus.externalUrl is required: the URL your users open Prometheus at, e.g. https://prometheus.example.com or https://example.com/prometheus (behind an ingress). ' +
      'Every alert email links to it; http://localhost:9090 is right only on a laptop cluster (values-kind.yaml).',
  },
  {
    path: 'alertmanager.externalUrl',
    refuses: (v) => v.alertmanager.externalUrl === '',
    goCondition: 'not .Values.alertmanager.externalUrl',
    message:
      'alertmanager.externalUrl is required: the URL your users open Alertmanager at, e.g. https://alertmanager.example.com or https://example.com/alertmanager (behind an ingress). ' +
      'Every alert email links to it for silences; http://localhost:9093 is right only on a laptop cluster (values-kind.yaml).',
  },
  {
    path: 'smtp.smarthost',
    refuses: (v) => !v.mailCatcher.enabled && !new RegExp(SMARTHOST_PATTERN).test(v.smtp.smarthost),
    goCondition: `and (not .Values.mailCatcher.enabled) (not (regexMatch ${JSON.stringify(SMARTHOST_PATTERN)} .Values.smtp.smarthost))`,
    message:
      'smtp.smarthost must be host:port of your SMTP server, e.g. smtp.example.com:587 (STARTTLS) or smtp.example.com:465 (implicit TLS), the port from 1 to 65535: ' +
      'Alertmanager needs the port and has no default for it.',
  },
  {
    path: 'smtp.defaultRecipients',
    refuses: (v) => v.smtp.defaultRecipients.length === 0 && !v.smtp.allowNoDefaultRecipients,
    goCondition: 'and (empty .Values.smtp.defaultRecipients) (not .Values.smtp.allowNoDefaultRecipients)',
    message:
      'smtp.defaultRecipients is empty: alerts of MonitoredServices that name no recipients would be emailed to nobody. ' +
      'Set smtp.defaultRecipients (e.g. [oncall@example.com]), or smtp.allowNoDefaultRecipients=true to accept that (those services are then not Ready: EmailDelivered False, NoRecipients).',
  },
  // Each scrape limit default within its ceiling (0 = no ceiling), as the operator checks at start;
  // bodySizeLimit, a size with units, is left to the operator.
  ...SCRAPE_COUNT_LIMIT_FIELDS.map(
    (field): InstallCheck => ({
      path: `scrapeLimits.defaults.${field}`,
      refuses: (v) => {
        const d = v.scrapeLimits.defaults[field];
        const c = v.scrapeLimits.ceilings[field];
        return c !== 0 && (d === 0 || d > c);
      },
      goCondition: `and (ne (int .Values.scrapeLimits.ceilings.${field}) 0) (or (eq (int .Values.scrapeLimits.defaults.${field}) 0) (gt (int .Values.scrapeLimits.defaults.${field}) (int .Values.scrapeLimits.ceilings.${field})))`,
      message: `scrapeLimits.defaults.${field} must be within scrapeLimits.ceilings.${field} (0, unlimited, only where the ceiling is 0 too): MonitoredServices that set no ${field} get the default, and the operator refuses to start with a default above its ceiling.`,
    }),
  ),
];

/** The shape plus INSTALL_CHECKS: what an installable set of values is. */
export const VigilValuesSchema = VigilValuesShape.superRefine((v, ctx) => {
  for (const check of INSTALL_CHECKS) if (check.refuses(v)) ctx.addIssue({ code: 'custom', path: check.path.split('.'), message: check.message });
});

export type VigilValues = z.output<typeof VigilValuesShape>;
export type VigilValuesInput = z.input<typeof VigilValuesShape>;

/** The values a kind cluster uses (charts/vigil/values-kind.yaml): mail catcher, demo target, NodePorts, fast timings. */
export const KIND_VALUES: VigilValuesInput = {
  profile: 'demo',
  clusterName: 'kind',
  scrapeInterval: '5s',
  evaluationInterval: '5s',
  smtp: { from: 'vigil@kind.local', defaultRecipients: ['oncall@example.com'] },
  operator: { replicas: 1, image: { ...IMAGE_DEFAULTS.operator, pullPolicy: 'Never' } },
  // Right on a laptop: kind-config.yaml maps these node ports to the same localhost ports.
  prometheus: { retention: '2d', externalUrl: 'http://localhost:9090', service: { type: 'NodePort', nodePort: 30090 } },
  // One replica (demo's own default, stated for the reader): profile=demo refuses more (HA_DEMO_REFUSAL); an upgrade then re-sends.
  alertmanager: { replicas: 1, externalUrl: 'http://localhost:9093', service: { type: 'NodePort', nodePort: 30093 } },
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
  if (!r.success) throw new Error(`invalid Vigil values: ${r.error.issues.flatMap(describeValuesIssue).join('; ')}`);
  return r.data;
}

interface ValuesJsonSchema {
  properties?: Record<string, ValuesJsonSchema>;
  items?: ValuesJsonSchema;
}

/**
 * One message per problem; an unknown key (a typo such as prometheus.retension, which Helm would
 * otherwise ignore) is named with the closest accepted key and the accepted ones.
 */
function describeValuesIssue(issue: z.core.$ZodIssue): string[] {
  const path = issue.path.map(String);
  if (issue.code !== 'unrecognized_keys') return [`${path.join('.')}: ${issue.message}`];
  let node = z.toJSONSchema(VigilValuesShape, { io: 'input', unrepresentable: 'any' }) as ValuesJsonSchema;
  // A list's entries (prometheus.remoteWrite.0) are described by its items schema.
  for (const key of path) node = (/^\d+$/.test(key) ? node.items : node.properties?.[key]) ?? {};
  const accepted = Object.keys(node.properties ?? {});
  return issue.keys.map((key) => {
    const close = closestName(key, accepted);
    return `${[...path, key].join('.')}: unknown value${close ? ` (did you mean ${close}?)` : ''}; accepted here: ${accepted.join(', ')}`;
  });
}

/**
 * The values a real cluster must set (docs/deployment.md): the image registry the images were pushed
 * to, both external URLs, the SMTP server and the default recipients.
 */
export const REAL_CLUSTER_VALUES: VigilValuesInput = {
  global: { imageRegistry: 'registry.example.com' },
  smtp: { smarthost: 'smtp.example.com:587', from: 'vigil@example.com', credentialsSecret: 'vigil-smtp', defaultRecipients: ['oncall@example.com'] },
  prometheus: { externalUrl: 'https://monitoring.example.com/prometheus' },
  alertmanager: { externalUrl: 'https://monitoring.example.com/alertmanager' },
};

/** The chart's defaults (values.yaml): not installable on their own (INSTALL_CHECKS), the base every values file merges over. */
export const DEFAULT_VALUES: VigilValues = VigilValuesShape.parse({});
export const KIND_RESOLVED_VALUES: VigilValues = parseValues(mergeValues(DEFAULT_VALUES, KIND_VALUES));
