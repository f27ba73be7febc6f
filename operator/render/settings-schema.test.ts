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
    expect(bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort()).toEqual([
      'scrapeInterval: must be a duration such as 15s or 1m',
      'smtp.smarthost: must be host:port with a port from 1 to 65535 (an IPv6 host in brackets)',
    ]);
  });

  it('takes the smarthosts and addresses the chart takes: ports 1-65535, bracketed IPv6, plain addresses only', () => {
    const smtp = (over: Record<string, unknown>) => GlobalSettingsSchema.safeParse({ ...defaultSettings(), smtp: { ...defaultSettings().smtp, ...over } }).success;
    expect([':25', 'h:0', 'h:65536', '2001:db8::1:25', 'h:25 '].map((smarthost) => smtp({ smarthost }))).toEqual([false, false, false, false, false]);
    expect(['h:1', 'h:65535', '[2001:db8::1]:25', '192.0.2.1:587'].map((smarthost) => smtp({ smarthost }))).toEqual([true, true, true, true]);
    expect(['nobody', 'a@example.com\r\nBcc: b@example.com', 'A <a@example.com>'].map((from) => smtp({ from }))).toEqual([false, false, false]);
    const recipients = (defaultRecipients: string[]) => GlobalSettingsSchema.safeParse({ ...defaultSettings(), defaultRecipients }).success;
    expect([recipients(['a@example.com,b@example.com']), recipients(['x']), recipients(['oncall@example.com'])]).toEqual([false, false, true]);
    // Go's net/mail (Alertmanager's parser of the whole list) refuses these dots: no one would get mail.
    expect([recipients(['oncall@example.com', 'john..doe@example.com']), recipients(['.a@example.com']), smtp({ from: 'vigil.@example.com' })]).toEqual([false, false, false]);
    expect([recipients(['team+alerts@xn--bcher-kva.example']), smtp({ from: 'vigil.alerts@example.com' })]).toEqual([true, true]);
  });

  it('lets a settings file carry every setting except the SMTP credentials', () => {
    expect(Object.keys(SettingsOverridesSchema.shape).sort()).toEqual(Object.keys(GlobalSettingsSchema.shape).sort());
    expect(SettingsOverridesSchema.safeParse({ smtp: { authPassword: 'x' } }).success).toBe(false);
    expect(SettingsOverridesSchema.safeParse({ smtp: { authPasswordFile: '/etc/am/password' } }).success).toBe(true);
  });
});
