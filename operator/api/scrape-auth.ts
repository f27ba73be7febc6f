// TLS and authorization of a scrape endpoint, read from Secrets and ConfigMaps in the
// MonitoredService's own namespace: the shapes of prometheus-operator's SafeTLSConfig,
// SafeAuthorization and BasicAuth, without any namespace field, so a reference can only name an
// object next to the MonitoredService. The operator delivers the referenced values to Prometheus as
// files (render/scrape-auth.ts); they never appear in the generated ConfigMap.
import { z } from 'zod';

/** A Kubernetes object name (DNS subdomain), as Secrets and ConfigMaps have. */
export const OBJECT_NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** A Secret or ConfigMap data key, as the API server checks it (IsConfigMapKey). */
export const DATA_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/** An HTTP authentication scheme (RFC 9110 token without the rarer symbols). */
export const AUTHORIZATION_TYPE_PATTERN = '^[A-Za-z][-A-Za-z0-9_.]*$';

/** Prometheus refuses authorization type basic (any case). */
export const SCRAPE_AUTH_MESSAGES_BASIC = 'must not be Basic (Prometheus refuses it in authorization): use basicAuth with username and password instead';

const keySelector = (kind: 'Secret' | 'ConfigMap', what: string) =>
  z
    .object({
      name: z
        .string()
        .min(1, { abort: true })
        .max(253, { abort: true })
        .regex(new RegExp(OBJECT_NAME_PATTERN), { message: `must be a ${kind} name: lowercase letters, digits, - and ., starting and ending with a letter or digit` })
        .describe(`Name of the ${kind}, in the MonitoredService's namespace (there is no namespace field: another namespace's ${kind} cannot be named).`),
      key: z
        .string()
        .min(1, { abort: true })
        .max(253, { abort: true })
        .regex(new RegExp(DATA_KEY_PATTERN), { message: `must be a ${kind} data key: letters, digits, -, _ and .` })
        .describe(`Key in the ${kind}'s data.`),
    })
    .describe(`${what}: a key of a ${kind} in the MonitoredService's namespace.`);

export const SecretKeySelectorSchema = keySelector('Secret', 'A value from a Secret');
export const ConfigMapKeySelectorSchema = keySelector('ConfigMap', 'A value from a ConfigMap');

/** A certificate (PEM) from a Secret or a ConfigMap: exactly one of the two. */
const secretOrConfigMap = (what: string) =>
  z
    .object({
      secret: SecretKeySelectorSchema.optional(),
      configMap: ConfigMapKeySelectorSchema.optional(),
    })
    .describe(`${what} (PEM), from exactly one of secret or configMap.`);

export const ScrapeTLSConfigSchema = z
  .object({
    ca: secretOrConfigMap('CA certificate(s) that verify the target').optional(),
    cert: secretOrConfigMap('Client certificate presented to the target; needs keySecret').optional(),
    keySecret: SecretKeySelectorSchema.optional().describe('Client private key (PEM) from a Secret; needs cert.'),
    serverName: z
      .string()
      .min(1, { abort: true })
      .max(253, { abort: true })
      .regex(/^[A-Za-z0-9*]([-A-Za-z0-9.*]*[A-Za-z0-9])?$/, { message: 'must be a DNS name such as orders.shop.svc' })
      .optional()
      .describe(
        "Name the target's certificate must carry (and the TLS server name sent). Targets are scraped at their pod IP: set this to the Service DNS name the certificate was issued for, e.g. orders.shop.svc.",
      ),
    insecureSkipVerify: z.boolean().optional().describe("Skip verifying the target's certificate (and ca). Prefer ca and serverName."),
  })
  .describe(
    'TLS towards the target (scheme https only). Certificates and key are delivered to Prometheus as files, never in its ConfigMap, and follow changes of the Secret/ConfigMap within seconds.',
  );

export const ScrapeAuthorizationSchema = z
  .object({
    type: z
      .string()
      .min(1, { abort: true })
      .max(64, { abort: true })
      .regex(new RegExp(AUTHORIZATION_TYPE_PATTERN), { message: 'must be an HTTP authentication scheme such as Bearer' })
      .refine((t) => t.toLowerCase() !== 'basic', { message: SCRAPE_AUTH_MESSAGES_BASIC })
      .default('Bearer')
      .describe('Authentication scheme of the Authorization header (not Basic: use basicAuth). Default Bearer.'),
    credentials: SecretKeySelectorSchema.describe('The credentials (e.g. the bearer token), from a Secret.'),
  })
  .describe('Authorization header sent with every scrape: "<type> <credentials>". Not together with basicAuth.');

export const ScrapeBasicAuthSchema = z
  .object({
    username: SecretKeySelectorSchema.describe('The user name, from a Secret.'),
    password: SecretKeySelectorSchema.describe('The password, from a Secret.'),
  })
  .describe('HTTP basic authentication sent with every scrape. Not together with authorization.');

/** Refusals of combinations (validate/scrape-auth.ts), shared with the CRD's CEL rules (api/crd.ts). */
export const SCRAPE_AUTH_MESSAGES = {
  authorizationAndBasicAuth: 'authorization and basicAuth cannot be used together (Prometheus accepts at most one of basic_auth and authorization): keep the one the target checks',
  certWithoutKey: 'cert needs keySecret: a client certificate is useless without its private key (Prometheus refuses cert_file without key_file)',
  keyWithoutCert: 'keySecret needs cert: a client key is useless without its certificate (Prometheus refuses key_file without cert_file)',
  oneSource: 'must name exactly one of secret or configMap',
  tlsWithHttp: 'has no effect with scheme http (Prometheus never starts TLS on a plain-HTTP scrape): set scheme: https, or remove tlsConfig',
  classicWithoutNative:
    'has no effect without nativeHistograms: true (without it Prometheus scrapes the text format, where every histogram is classic): set nativeHistograms: true, or remove alwaysScrapeClassicHistograms',
  caWithSkipVerify: 'ca has no effect while insecureSkipVerify is true (nothing is verified): drop insecureSkipVerify to verify the target with ca (and serverName), or drop ca',
} as const;

export const ALWAYS_SCRAPE_CLASSIC_HISTOGRAMS_DESCRIPTION =
  'With nativeHistograms: also keep the classic buckets (_bucket, _sum, _count) of a histogram the app exposes in both kinds (Prometheus always_scrape_classic_histograms); without it they are dropped, and rules on _bucket stop returning data. Only with nativeHistograms: true.';

export const NATIVE_HISTOGRAMS_DESCRIPTION =
  'Scrape native histograms (Prometheus scrape_native_histograms, off by default in Prometheus 3): Prometheus then asks for the protobuf exposition first, which is the only one that carries native histograms. Off: a native histogram is lost. On: a histogram exposed in both kinds is kept as native only, unless alwaysScrapeClassicHistograms is set.';

export type ScrapeTLSConfig = z.output<typeof ScrapeTLSConfigSchema>;
export type ScrapeAuthorization = z.output<typeof ScrapeAuthorizationSchema>;
export type ScrapeBasicAuth = z.output<typeof ScrapeBasicAuthSchema>;
export type SecretKeySelector = z.output<typeof SecretKeySelectorSchema>;
