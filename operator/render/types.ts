// Contracts between validation, the renderers and the I/O shell (operator, sync sidecar, CLI).
// Everything here is plain data: renderers are pure functions of (services, settings).
import type { MonitoredService } from '../api/schema.js';

/** How fast notifications go out: `demo` mirrors the original compose stack (group_wait 0s). */
export type NotificationProfile = 'demo' | 'production';

export interface SmtpSettings {
  /** host:port of the SMTP server. Without forceImplicitTls, Alertmanager uses implicit TLS exactly when the port is 465. */
  smarthost: string;
  from: string;
  /** Hostname announced in HELO/EHLO. */
  hello?: string;
  /** Require STARTTLS (Alertmanager's smtp_require_tls); irrelevant under implicit TLS. */
  requireTls: boolean;
  /**
   * Implicit TLS (SMTPS) on any port: Alertmanager >= 0.31's smtp_force_implicit_tls. Unset: port 465
   * means implicit TLS, any other port plain SMTP (+ STARTTLS per requireTls). Without it, a TLS-only
   * listener on another port makes Alertmanager wait for a greeting that never comes (docs/architecture.md).
   */
  forceImplicitTls?: boolean;
  /** Credentials are resolved by the I/O shell from a Secret; never logged, never in a ConfigMap. */
  authUsername?: string;
  authPassword?: string;
  /** Path (as seen by Alertmanager) of a file holding the password; wins over authPassword. */
  authPasswordFile?: string;
  /** TLS towards the smarthost: trust this CA file, or skip verification (demo profile only). */
  tlsCaFile?: string;
  tlsInsecureSkipVerify?: boolean;
  tlsServerName?: string;
}

export interface GlobalSettings {
  profile: NotificationProfile;
  /** Default scrape interval and the rule evaluation interval (E). */
  scrapeInterval: string;
  evaluationInterval: string;
  smtp: SmtpSettings;
  /** Cluster-wide default receiver: alerts of services without their own recipients go here. */
  defaultRecipients: string[];
  /** host:port of each Alertmanager Prometheus sends alerts to. */
  alertmanagerTargets: string[];
  /** Public URLs used in email links. */
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Directory (as seen by Prometheus) holding the rule files next to prometheus.yml. */
  rulesDir: string;
  /** Directory (as seen by Alertmanager) holding vigil-email.tmpl; default '.', i.e. next to alertmanager.yml. */
  alertmanagerTemplatesDir?: string;
  /** Extra scrape jobs for the system itself (Prometheus, operator); already-valid Prometheus scrape_config objects. */
  selfScrapeJobs: Record<string, unknown>[];
  /** Kubernetes SD connection for Prometheus when it runs outside the cluster (tests, local stack). */
  kubernetesSd?: { apiServer: string; kubeconfigFile?: string; bearerTokenFile?: string; caFile?: string; insecureSkipVerify?: boolean };
  /** Cluster-wide external labels, e.g. {cluster: "kind"}. */
  externalLabels: Record<string, string>;
}

/** One problem found in one object: what the CLI prints and what the Valid condition says. */
export interface ValidationIssue {
  /** Dotted path into the object, e.g. spec.rules[1].expr */
  field: string;
  /** What is wrong and what would be accepted. */
  message: string;
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

export type ValidationResult = { ok: true; service: MonitoredService } | { ok: false; ref: ObjectRef; issues: ValidationIssue[] };

/** The rendered configuration: file name → content. Names are valid ConfigMap/Secret keys. */
export interface RenderedConfig {
  /** prometheus.yml plus one rule file per MonitoredService. */
  prometheus: Record<string, string>;
  /** alertmanager.yml plus email templates. Goes in a Secret: it holds SMTP credentials. */
  alertmanager: Record<string, string>;
  /** sha256 over both file sets, deterministic; short form used in status and annotations. */
  prometheusHash: string;
  alertmanagerHash: string;
  /** The services included, sorted by namespace/name. */
  included: ObjectRef[];
}
