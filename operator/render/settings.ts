// Parsing of the global settings file (`--settings`), shared by `vigil operator` and `vigil render`.
// Strict: an unknown or misspelt key is an error naming it, so a typo never silently falls back to a
// default. SMTP credentials are refused here; they come from a Secret (`--smtp-secret`).
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { globalTimingProblems } from './global-timing.js';
import { defaultSettings } from './index.js';
import { type GlobalSettings, SettingsOverridesSchema, SMTP_CREDENTIAL_KEYS } from './settings-schema.js';

const CREDENTIAL_KEYS: readonly string[] = SMTP_CREDENTIAL_KEYS;

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
  let settings: GlobalSettings;
  try {
    settings = defaultSettings(parsed.data);
  } catch (err) {
    // Relations across the defaults, e.g. a scrape limit default above its ceiling.
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  const timing = globalTimingProblems(settings);
  if (timing.length > 0) throw new Error(timing.map((p) => `${source}: ${p.field}: ${p.message}`).join('\n'));
  return settings;
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
