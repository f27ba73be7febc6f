// Parsing of the global settings file (`--settings`), shared by `vigil operator` and `vigil render`.
// Strict: an unknown or misspelt key is an error naming it, so a typo never silently falls back to a
// default. SMTP credentials are refused here; they come from a Secret (`--smtp-secret`).
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { defaultSettings } from './index.js';
import type { GlobalSettings } from './types.js';
import { DURATION_PATTERN } from '../validate/duration.js';

const durationString = z.string().regex(new RegExp(DURATION_PATTERN), 'must be a duration such as 15s or 1m');
const hostPort = z.string().regex(/^[^\s:]+:[0-9]{1,5}$/, 'must be host:port');

const SmtpOverridesSchema = z
  .object({
    // Empty = not configured yet (the chart's production default until the user sets smtp.smarthost).
    smarthost: z.union([z.literal(''), hostPort]),
    from: z.string().min(3),
    hello: z.string(),
    requireTls: z.boolean(),
    forceImplicitTls: z.boolean(),
    authPasswordFile: z.string(),
    tlsCaFile: z.string(),
    tlsInsecureSkipVerify: z.boolean(),
    tlsServerName: z.string(),
  })
  .partial()
  .strict();

const SettingsOverridesSchema = z
  .object({
    profile: z.enum(['demo', 'production'], { message: 'must be demo or production' }),
    scrapeInterval: durationString,
    evaluationInterval: durationString,
    smtp: SmtpOverridesSchema,
    defaultRecipients: z.array(z.string()),
    alertmanagerTargets: z.array(hostPort),
    prometheusUrl: z.string().url(),
    alertmanagerUrl: z.string().url(),
    rulesDir: z.string(),
    alertmanagerTemplatesDir: z.string(),
    selfScrapeJobs: z.array(z.record(z.string(), z.unknown())),
    kubernetesSd: z
      .object({
        apiServer: z.string(),
        kubeconfigFile: z.string(),
        bearerTokenFile: z.string(),
        caFile: z.string(),
        insecureSkipVerify: z.boolean(),
      })
      .partial()
      .required({ apiServer: true })
      .strict(),
    externalLabels: z.record(z.string(), z.string()),
  })
  .partial()
  .strict();

const CREDENTIAL_KEYS = ['authUsername', 'authPassword'];

function describeIssue(source: string, issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const where = path ? `${path}.` : '';
    return issue.keys
      .map((key) =>
        CREDENTIAL_KEYS.includes(key) && path === 'smtp'
          ? `${source}: smtp.${key} is not allowed here; put SMTP credentials in a Secret and pass --smtp-secret`
          : `${source}: unknown setting "${where}${key}"`,
      )
      .join('\n');
  }
  return `${source}: ${path || '(top level)'}: ${issue.message}`;
}

/** GlobalSettings from an already-parsed settings document over the defaults; throws naming every bad key. */
export function settingsFromObject(value: unknown, source: string): GlobalSettings {
  if (value === null || value === undefined) return defaultSettings();
  if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${source}: expected a mapping of settings`);
  const parsed = SettingsOverridesSchema.safeParse(value);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => describeIssue(source, i)).join('\n'));
  return defaultSettings(parsed.data as Partial<GlobalSettings>);
}

/** GlobalSettings from the text of a `--settings` YAML file. */
export function settingsFromYaml(text: string, source: string): GlobalSettings {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  return settingsFromObject(doc, source);
}
