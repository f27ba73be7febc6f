// Relations between an endpoint's tlsConfig, authorization, basicAuth and scheme that zod's field
// shapes cannot express: what Prometheus refuses (common/config HTTPClientConfig.Validate and
// TLSConfig.Validate of the pinned version), and settings that would be accepted but do nothing.
// The CRD carries the same rules as CEL (api/crd.ts SCRAPE_AUTH_CEL_RULES), so `kubectl apply`
// refuses them too; `vigil render` and the operator see them here.

import { SCRAPE_AUTH_MESSAGES } from '../api/scrape-auth.js';

export { SCRAPE_AUTH_MESSAGES };

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** One refusal: the field under the endpoint and the message. */
export interface ScrapeAuthProblem {
  path: PropertyKey[];
  message: string;
}

/** Problems of one endpoint (raw, as written), paths relative to the endpoint. */
export function scrapeAuthProblems(endpoint: Obj): ScrapeAuthProblem[] {
  const problems: ScrapeAuthProblem[] = [];
  if (endpoint.authorization !== undefined && endpoint.basicAuth !== undefined) {
    problems.push({ path: ['basicAuth'], message: SCRAPE_AUTH_MESSAGES.authorizationAndBasicAuth });
  }
  if (endpoint.alwaysScrapeClassicHistograms === true && endpoint.nativeHistograms !== true) {
    problems.push({ path: ['alwaysScrapeClassicHistograms'], message: SCRAPE_AUTH_MESSAGES.classicWithoutNative });
  }
  const tls = endpoint.tlsConfig;
  if (!isObject(tls)) return problems;
  // scheme defaults to http: a tlsConfig without scheme: https is the common mistake.
  if ((endpoint.scheme ?? 'http') === 'http') problems.push({ path: ['tlsConfig'], message: SCRAPE_AUTH_MESSAGES.tlsWithHttp });
  for (const field of ['ca', 'cert'] as const) {
    const source = tls[field];
    if (isObject(source) && (source.secret === undefined) === (source.configMap === undefined)) {
      problems.push({ path: ['tlsConfig', field], message: SCRAPE_AUTH_MESSAGES.oneSource });
    }
  }
  if (tls.cert !== undefined && tls.keySecret === undefined) problems.push({ path: ['tlsConfig', 'cert'], message: SCRAPE_AUTH_MESSAGES.certWithoutKey });
  if (tls.keySecret !== undefined && tls.cert === undefined) problems.push({ path: ['tlsConfig', 'keySecret'], message: SCRAPE_AUTH_MESSAGES.keyWithoutCert });
  if (tls.ca !== undefined && tls.insecureSkipVerify === true) problems.push({ path: ['tlsConfig', 'ca'], message: SCRAPE_AUTH_MESSAGES.caWithSkipVerify });
  return problems;
}
