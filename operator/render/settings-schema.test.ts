// The settings schema is the one source of the GlobalSettings type: the defaults, and a settings file
// merged over them, must satisfy it as a whole, not only the file's own keys.
import { describe, expect, it } from '@jest/globals';
import { defaultSettings } from './index.js';
import { settingsFromYaml } from './settings.js';
import { GlobalSettingsSchema, SettingsOverridesSchema } from './settings-schema.js';

describe('GlobalSettingsSchema', () => {
  it('accepts the defaults and a settings file merged over them', () => {
    expect(GlobalSettingsSchema.parse(defaultSettings())).toEqual(defaultSettings());
    const merged = settingsFromYaml('profile: demo\nsmtp:\n  smarthost: mail.example.com:587\nkubernetesSd:\n  apiServer: https://127.0.0.1:6443\n', 'f.yaml');
    expect(GlobalSettingsSchema.safeParse(merged).success).toBe(true);
  });

  it('refuses what the renderers cannot use, naming the field', () => {
    const bad = GlobalSettingsSchema.safeParse({ ...defaultSettings(), scrapeInterval: '15 seconds', smtp: { ...defaultSettings().smtp, smarthost: 'no-port' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort()).toEqual(['scrapeInterval: must be a duration such as 15s or 1m', 'smtp.smarthost: must be host:port']);
  });

  it('lets a settings file carry every setting except the SMTP credentials', () => {
    expect(Object.keys(SettingsOverridesSchema.shape).sort()).toEqual(Object.keys(GlobalSettingsSchema.shape).sort());
    expect(SettingsOverridesSchema.safeParse({ smtp: { authPassword: 'x' } }).success).toBe(false);
    expect(SettingsOverridesSchema.safeParse({ smtp: { authPasswordFile: '/etc/am/password' } }).success).toBe(true);
  });
});
