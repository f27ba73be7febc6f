// The global settings (`--settings`, the chart's settings ConfigMap) as one zod schema: the
// GlobalSettings type the renderers take is inferred from it (issue #12), and the settings file is
// checked against a strict, partial form of it (settings.ts). The defaults are in defaultSettings().
import { z } from 'zod';
import { EMAIL_PATTERN } from '../api/schema.js';
import { type ScrapeLimitSettingsOverrides, ScrapeLimitSettingsOverridesSchema, ScrapeLimitSettingsSchema } from './scrape-limits.js';
import { DURATION_PATTERN } from '../validate/duration.js';

const durationString = z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 15s or 1m');
/**
 * host:port, the port 1-65535, the host a name, an IPv4 address or a bracketed IPv6 address ([2001:db8::1]:25), as Go's
 * net.SplitHostPort reads Alertmanager's smarthost. RE2-compatible: the chart's values check uses the same pattern.
 */
export const HOST_PORT_PATTERN = '^([^:\\s\\[\\]]+|\\[[0-9A-Fa-f:.]+\\]):([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';
const hostPort = z.string().regex(new RegExp(HOST_PORT_PATTERN), 'must be host:port with a port from 1 to 65535 (an IPv6 host in brackets)');
const emailAddress = z
  .string()
  .regex(
    new RegExp(EMAIL_PATTERN),
    "must be a plain email address such as alerts@example.com (no display name, spaces, commas, quotes or line breaks; dots only between characters before @, as Alertmanager's parser Go net/mail requires)",
  );

/** How fast notifications go out: `demo` mirrors the original compose stack (group_wait 0s). */
export const NotificationProfileSchema = z.enum(['demo', 'production'], { message: 'must be demo or production' });

export const SmtpSettingsSchema = z.object({
  /**
   * host:port of the SMTP server. Without forceImplicitTls, Alertmanager uses implicit TLS exactly when the port is 465.
   * Empty = not configured yet (the chart's production default until the user sets smtp.smarthost).
   */
  smarthost: z.union([z.literal(''), hostPort]),
  from: emailAddress,
  /** Hostname announced in HELO/EHLO. */
  hello: z.string().optional(),
  /** Require STARTTLS (Alertmanager's smtp_require_tls); irrelevant under implicit TLS. */
  requireTls: z.boolean(),
  /**
   * Implicit TLS (SMTPS) on any port: Alertmanager >= 0.31's smtp_force_implicit_tls. Unset: port 465
   * means implicit TLS, any other port plain SMTP (+ STARTTLS per requireTls). Without it, a TLS-only
   * listener on another port makes Alertmanager wait for a greeting that never comes (docs/architecture.md).
   */
  forceImplicitTls: z.boolean().optional(),
  /** Credentials are resolved by the I/O shell from a Secret; never logged, never in a ConfigMap or settings file. */
  authUsername: z.string().optional(),
  authPassword: z.string().optional(),
  /** Path (as seen by Alertmanager) of a file holding the password; wins over authPassword. */
  authPasswordFile: z.string().optional(),
  /** TLS towards the smarthost: trust this CA file, or skip verification (demo profile only). */
  tlsCaFile: z.string().optional(),
  tlsInsecureSkipVerify: z.boolean().optional(),
  tlsServerName: z.string().optional(),
});

export const GlobalSettingsSchema = z.object({
  profile: NotificationProfileSchema,
  /** Prometheus's global scrape interval (the install's own jobs; MonitoredService endpoints have their own default) and the rule evaluation interval (E). */
  scrapeInterval: durationString,
  evaluationInterval: durationString,
  smtp: SmtpSettingsSchema,
  /** Cluster-wide default receiver: alerts of services without their own recipients go here. */
  defaultRecipients: z.array(emailAddress),
  /** host:port of each Alertmanager Prometheus sends alerts to. */
  alertmanagerTargets: z.array(hostPort),
  /** Route prefix of those Alertmanagers (the path of their --web.external-url, e.g. /alertmanager); '' or unset = the root. */
  alertmanagerPathPrefix: z.union([z.literal(''), z.string().regex(/^\/\S*$/, 'must be a path starting with /, such as /alertmanager, or empty')]).optional(),
  /** Public URLs used in email links. */
  prometheusUrl: z.string().url(),
  alertmanagerUrl: z.string().url(),
  /** Directory (as seen by Prometheus) holding the rule files next to prometheus.yml. */
  rulesDir: z.string(),
  /**
   * Directory (as seen by Prometheus) of the scrape credential files (render/scrape-auth.ts), which
   * the sync sidecar writes from the operator's credentials Secret; default /etc/prometheus/scrape-credentials.
   */
  scrapeCredentialsDir: z.string().optional(),
  /** Directory (as seen by Alertmanager) holding vigil-email.tmpl; default '.', i.e. next to alertmanager.yml. */
  alertmanagerTemplatesDir: z.string().optional(),
  /** Extra scrape jobs for the system itself (Prometheus, operator); already-valid Prometheus scrape_config objects. */
  selfScrapeJobs: z.array(z.record(z.string(), z.unknown())),
  /** Kubernetes SD connection for Prometheus when it runs outside the cluster (tests, local stack). */
  kubernetesSd: z
    .object({
      apiServer: z.string(),
      kubeconfigFile: z.string().optional(),
      bearerTokenFile: z.string().optional(),
      caFile: z.string().optional(),
      insecureSkipVerify: z.boolean().optional(),
    })
    .strict()
    .optional(),
  /**
   * The always-firing Watchdog alert's receiver (render/watchdog.ts): a webhook an outside
   * heartbeat monitor listens on ('' or unset = none), and how often it is notified (default 1m).
   */
  watchdog: z
    .object({
      webhookUrl: z.union([z.literal(''), z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL such as https://heartbeat.example.com/ping, or empty')]).optional(),
      interval: durationString.optional(),
    })
    .strict()
    .optional(),
  /** Cluster-wide external labels, e.g. {cluster: "kind"}. */
  externalLabels: z.record(z.string(), z.string()),
  /**
   * The external label that tells replicas of one Prometheus apart (prometheus.replicas in the chart; Thanos Query
   * deduplicates on it, --query.replica-label): `value` may name an environment variable as `${POD_NAME}`, which
   * Prometheus 3 expands in external labels. Every alert leaves without it (alert_relabel_configs labeldrop), so
   * the replicas send identical alerts and Alertmanager deduplicates them. Kept apart from externalLabels, which
   * also become rule labels (rules.ts installLabels). Unset = no replica label.
   */
  replicaExternalLabel: z
    .object({
      name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name such as prometheus_replica'),
      value: z.string().min(1),
    })
    .strict()
    .optional(),
  /**
   * Prometheus remote_write entries, passed through as they are (the chart's prometheus.remoteWrite has checked
   * their keys): for users who send the samples on to a metrics store of their own. Unset or [] = none.
   */
  remoteWrite: z.array(z.record(z.string(), z.unknown())).optional(),
  /** Scrape limits of every MonitoredService's jobs: the default of each limit a service leaves out, and its ceiling (render/scrape-limits.ts). */
  scrapeLimits: ScrapeLimitSettingsSchema,
});

export type NotificationProfile = z.infer<typeof NotificationProfileSchema>;
export type SmtpSettings = z.infer<typeof SmtpSettingsSchema>;
export type GlobalSettings = z.infer<typeof GlobalSettingsSchema>;

/** SMTP keys a settings file must not carry: credentials come from the Secret named by --smtp-secret. */
export const SMTP_CREDENTIAL_KEYS = ['authUsername', 'authPassword'] as const;

/**
 * What a settings file may say: any subset of the settings, smtp and scrapeLimits field by field, without the SMTP
 * credentials; unknown keys are errors (strict), so a typo never silently falls back to a default.
 */
export const SettingsOverridesSchema = GlobalSettingsSchema.extend({
  smtp: SmtpSettingsSchema.omit({ authUsername: true, authPassword: true }).partial().strict(),
  scrapeLimits: ScrapeLimitSettingsOverridesSchema,
})
  .partial()
  .strict();

/** What defaultSettings() merges over the defaults: any subset, smtp and scrapeLimits field by field. */
export type SettingsOverrides = Partial<Omit<GlobalSettings, 'smtp' | 'scrapeLimits'>> & { smtp?: Partial<SmtpSettings>; scrapeLimits?: ScrapeLimitSettingsOverrides };
