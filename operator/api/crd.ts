// schema.ts (zod) -> the MonitoredService CustomResourceDefinition, as a plain object.
// Pure: generate-crd.ts writes it to crds/, the tests compare and inspect it.
// Kubernetes needs a *structural* schema, so the JSON Schema that zod emits is adjusted here:
// no additionalProperties:false beside properties, integers as int64 without zod's safe-integer
// bounds, standard apiVersion/kind/metadata, list types for keyed lists, and CEL rules for the
// cross-field constraints (kept cheap: every list and string they touch has a maximum size).
import { z } from 'zod';
import {
  API_GROUP,
  API_VERSION,
  DEFAULT_SCRAPE_INTERVAL,
  DEFAULT_SCRAPE_TIMEOUT,
  KIND,
  LOOKBACK_DELTA,
  MIN_SCRAPE_TIMEOUT,
  LABEL_KEY_PATTERN,
  MAX_LABEL_KEY_LENGTH,
  MAX_LABEL_KEY_PREFIX_LENGTH,
  MAX_NAME_LENGTH,
  MAX_PARAM_NAME_LENGTH,
  MonitoredServiceSchema,
  PATH_FORBIDDEN_CHARACTERS,
  PLURAL,
  PROMETHEUS_NAME_PATTERN,
  SHORT_NAMES,
  SINGULAR,
} from './schema.js';
import { SCRAPE_AUTH_MESSAGES, SCRAPE_AUTH_MESSAGES_BASIC } from './scrape-auth.js';

export interface JSONSchemaProps {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  [key: string]: unknown;
}

export const CRD_NAME = `${PLURAL}.${API_GROUP}`;

interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: string;
}

/** CEL rules by schema path (property names, `[]` for list items). */
const CEL_RULES: Record<string, CelRule[]> = {
  'spec.selector': [
    {
      rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
      message: 'selector must set matchLabels or matchExpressions (an empty selector would scrape every Service in the namespace)',
    },
  ],
  // Label keys: the pattern bounds the name part; the prefix (a DNS subdomain) needs a count.
  // Map keys have no schema of their own in a structural schema: without these rules the API server
  // would store keys the operator then refuses (Valid=False) instead of refusing them on apply.
  'spec.selector.matchLabels': [
    {
      rule: `self.all(k, k.size() <= ${MAX_LABEL_KEY_LENGTH} && k.matches(${celString(LABEL_KEY_PATTERN)}))`,
      message: 'label keys must be Kubernetes label keys: an optional DNS prefix and /, then at most 63 letters, digits, -, _ and ., starting and ending with a letter or digit',
    },
    {
      rule: `self.all(k, !k.contains('/') || k.matches('^[^/]{1,${MAX_LABEL_KEY_PREFIX_LENGTH}}/'))`,
      message: `label key prefixes (before the /) must be at most ${MAX_LABEL_KEY_PREFIX_LENGTH} characters`,
    },
  ],
  'spec.rules[].labels': [
    {
      rule: `self.all(k, k.size() <= 63 && k.matches(${celString(PROMETHEUS_NAME_PATTERN)}))`,
      message: 'label names must be Prometheus label names: at most 63 letters, digits and _, not starting with a digit',
    },
  ],
  'spec.selector.matchExpressions[]': [
    {
      rule: `!self.key.contains('/') || self.key.matches('^[^/]{1,${MAX_LABEL_KEY_PREFIX_LENGTH}}/')`,
      message: `label key prefixes (before the /) must be at most ${MAX_LABEL_KEY_PREFIX_LENGTH} characters`,
      fieldPath: '.key',
    },
    {
      rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)",
      message: 'values must be non-empty for operators In and NotIn, and empty for Exists and DoesNotExist',
      fieldPath: '.values',
    },
  ],
  // The path pattern allows these; a rule each names the character and what to write instead.
  'spec.endpoints[].path': PATH_FORBIDDEN_CHARACTERS.map(({ character, message }) => ({ rule: `!self.contains(${celString(character)})`, message: `path ${message}` })),
  'spec.endpoints[].params': [
    {
      rule: `self.all(k, k.size() >= 1 && k.size() <= ${MAX_PARAM_NAME_LENGTH})`,
      message: `parameter names must be 1 to ${MAX_PARAM_NAME_LENGTH} characters long`,
    },
  ],
  'spec.endpoints[].authorization': [{ rule: "self.type.lowerAscii() != 'basic'", message: `type ${SCRAPE_AUTH_MESSAGES_BASIC}`, fieldPath: '.type' }],
  'spec.endpoints[].tlsConfig.ca': [{ rule: 'has(self.secret) != has(self.configMap)', message: `ca ${SCRAPE_AUTH_MESSAGES.oneSource}` }],
  'spec.endpoints[].tlsConfig.cert': [{ rule: 'has(self.secret) != has(self.configMap)', message: `cert ${SCRAPE_AUTH_MESSAGES.oneSource}` }],
  'spec.endpoints[].tlsConfig': [
    { rule: '!has(self.cert) || has(self.keySecret)', message: SCRAPE_AUTH_MESSAGES.certWithoutKey, fieldPath: '.cert' },
    { rule: '!has(self.keySecret) || has(self.cert)', message: SCRAPE_AUTH_MESSAGES.keyWithoutCert, fieldPath: '.keySecret' },
    { rule: '!has(self.ca) || !has(self.insecureSkipVerify) || !self.insecureSkipVerify', message: SCRAPE_AUTH_MESSAGES.caWithSkipVerify, fieldPath: '.ca' },
  ],
  // interval and scrapeTimeout only allow h/m/s/ms (SCRAPE_DURATION_PATTERN), which CEL's duration() parses.
  'spec.endpoints[]': [
    // MIN_SCRAPE_TIMEOUT: an interval below it would give a timeout below it (the timeout never exceeds the interval).
    { rule: '!(has(self.authorization) && has(self.basicAuth))', message: SCRAPE_AUTH_MESSAGES.authorizationAndBasicAuth, fieldPath: '.basicAuth' },
    {
      rule: '!has(self.alwaysScrapeClassicHistograms) || !self.alwaysScrapeClassicHistograms || (has(self.nativeHistograms) && self.nativeHistograms)',
      message: `alwaysScrapeClassicHistograms ${SCRAPE_AUTH_MESSAGES.classicWithoutNative}`,
      fieldPath: '.alwaysScrapeClassicHistograms',
    },
    { rule: "!has(self.tlsConfig) || self.scheme == 'https'", message: `tlsConfig ${SCRAPE_AUTH_MESSAGES.tlsWithHttp}`, fieldPath: '.tlsConfig' },
    {
      rule: `!has(self.interval) || duration(self.interval) >= duration('${MIN_SCRAPE_TIMEOUT}')`,
      message: `interval must be at least ${MIN_SCRAPE_TIMEOUT}: its scrape timeout (at most the interval) would be shorter, and a healthy target fails scrapes that take longer`,
      fieldPath: '.interval',
    },
    {
      rule: `!has(self.scrapeTimeout) || duration(self.scrapeTimeout) >= duration('${MIN_SCRAPE_TIMEOUT}')`,
      message: `scrapeTimeout must be at least ${MIN_SCRAPE_TIMEOUT}: a healthy target fails scrapes that take longer (a TLS handshake, a GC pause, a large exposition) and ServiceDown pages for it`,
      fieldPath: '.scrapeTimeout',
    },
    {
      rule: '!has(self.interval) || !has(self.scrapeTimeout) || duration(self.scrapeTimeout) <= duration(self.interval)',
      message: 'scrapeTimeout must not exceed interval',
      fieldPath: '.scrapeTimeout',
    },
    // The defaults composed as scrapeTiming() does: timeout min(10s, interval), interval max(15s, timeout).
    {
      rule: `!has(self.interval) || duration(self.interval) + (has(self.scrapeTimeout) ? duration(self.scrapeTimeout) : (duration(self.interval) < duration('${DEFAULT_SCRAPE_TIMEOUT}') ? duration(self.interval) : duration('${DEFAULT_SCRAPE_TIMEOUT}'))) <= duration('${LOOKBACK_DELTA}')`,
      message: `interval plus scrapeTimeout must not exceed ${LOOKBACK_DELTA} (Prometheus's lookback: beyond it up has no current sample between scrapes and ServiceDown fires for a healthy app)`,
      fieldPath: '.interval',
    },
    {
      rule: `has(self.interval) || !has(self.scrapeTimeout) || duration(self.scrapeTimeout) + (duration(self.scrapeTimeout) > duration('${DEFAULT_SCRAPE_INTERVAL}') ? duration(self.scrapeTimeout) : duration('${DEFAULT_SCRAPE_INTERVAL}')) <= duration('${LOOKBACK_DELTA}')`,
      message: `scrapeTimeout plus the interval it implies must not exceed ${LOOKBACK_DELTA} (Prometheus's lookback)`,
      fieldPath: '.scrapeTimeout',
    },
  ],
};

/** A CEL single-quoted string literal (CEL raw strings would also do; this keeps backslashes explicit). */
function celString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Lists whose entries are identified by a key: duplicates are rejected and server-side apply merges per entry. */
const LIST_MAP_KEYS: Record<string, string> = {
  'spec.endpoints': 'port',
  'spec.rules': 'name',
  'status.conditions': 'type',
};

const EXTRA_PROPS: Record<string, Partial<JSONSchemaProps>> = {
  'status.conditions': { maxItems: 16 },
  'status.conditions[].lastTransitionTime': { format: 'date-time' },
};

function transform(node: JSONSchemaProps, path: string, used: Set<string>): JSONSchemaProps {
  const out: JSONSchemaProps = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && value === false) continue; // forbidden beside properties; unknown fields are pruned
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, JSONSchemaProps>).map(([name, child]) => [name, transform(child, path === '' ? name : `${path}.${name}`, used)]));
    } else if (key === 'items') {
      out.items = transform(value as JSONSchemaProps, `${path}[]`, used);
    } else if (key === 'additionalProperties' && typeof value === 'object') {
      out.additionalProperties = transform(value as JSONSchemaProps, `${path}{}`, used);
    } else {
      out[key] = value;
    }
  }
  if (out.type === 'integer') {
    // zod's safe-integer bounds are noise for Kubernetes; int64 is what the API server stores.
    if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    out.format = 'int64';
  }
  const mapKey = LIST_MAP_KEYS[path];
  if (mapKey) {
    used.add(`list:${path}`);
    out['x-kubernetes-list-type'] = 'map';
    out['x-kubernetes-list-map-keys'] = [mapKey];
  }
  const extra = EXTRA_PROPS[path];
  if (extra) {
    used.add(`extra:${path}`);
    Object.assign(out, extra);
  }
  const rules = CEL_RULES[path];
  if (rules) {
    used.add(`cel:${path}`);
    out['x-kubernetes-validations'] = rules;
  }
  return out;
}

/** The openAPIV3Schema of MonitoredService. */
export function monitoredServiceOpenAPISchema(): JSONSchemaProps {
  const generated = z.toJSONSchema(MonitoredServiceSchema, { target: 'openapi-3.0', io: 'input' }) as JSONSchemaProps;
  const used = new Set<string>();
  const spec = transform(generated.properties?.spec ?? {}, 'spec', used);
  const status = transform(generated.properties?.status ?? {}, 'status', used);
  // Every path named in the tables above must exist: a renamed field must not silently lose its rule.
  const expected = [...Object.keys(CEL_RULES).map((p) => `cel:${p}`), ...Object.keys(LIST_MAP_KEYS).map((p) => `list:${p}`), ...Object.keys(EXTRA_PROPS).map((p) => `extra:${p}`)];
  const missing = expected.filter((p) => !used.has(p));
  if (missing.length > 0) throw new Error(`CRD generation: schema paths not found: ${missing.join(', ')}`);
  return {
    type: 'object',
    description: `${KIND} asks Vigil to scrape the Services it selects, evaluate alert rules on their metrics and email the owners when they fire.`,
    required: ['spec'],
    properties: {
      apiVersion: {
        type: 'string',
        description:
          'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values.',
      },
      kind: {
        type: 'string',
        description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. In CamelCase.',
      },
      // The API server allows nothing on metadata but restrictions of name/generateName (no description).
      // The name limit keeps `<namespace>__<name>.rules.yaml` a valid ConfigMap key.
      metadata: {
        type: 'object',
        properties: { name: { type: 'string', maxLength: MAX_NAME_LENGTH } },
      },
      spec,
      status,
    },
  };
}

const conditionColumn = (type: string, description: string) => ({
  name: type,
  type: 'string',
  description,
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
});

/** The CustomResourceDefinition object (apiextensions.k8s.io/v1). */
export function monitoredServiceCRD(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'vigil', 'app.kubernetes.io/part-of': 'vigil' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: [...SHORT_NAMES],
        categories: ['vigil'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            conditionColumn('Valid', 'Whether the spec passed validation'),
            conditionColumn('ConfigApplied', 'Whether Prometheus and Alertmanager run a configuration that includes this service'),
            conditionColumn('Ready', 'Valid, running in Prometheus and Alertmanager, at least one target scrapes successfully, and no rule fails to evaluate'),
            {
              name: 'Reason',
              type: 'string',
              description: 'Why Ready is what it is (e.g. PortNotFound, HTTPErrorStatus, ScrapeTimeout, RuleEvaluationFailed, PrometheusUnreachable)',
              jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
            },
            { name: 'Healthy', type: 'integer', description: 'Targets whose last scrape succeeded', jsonPath: '.status.healthyTargets' },
            { name: 'Targets', type: 'integer', description: 'Targets Prometheus discovered', jsonPath: '.status.discoveredTargets' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: monitoredServiceOpenAPISchema() },
        },
      ],
    },
  };
}
