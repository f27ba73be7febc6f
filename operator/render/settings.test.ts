import { settingsFromObject, settingsFromYaml } from './settings.js';

describe('settings parsing', () => {
  it('merges a partial file over the defaults, smtp included', () => {
    const s = settingsFromYaml('profile: demo\nsmtp:\n  smarthost: mail.example.com:465\n  tlsInsecureSkipVerify: true\nalertmanagerTemplatesDir: /etc/am\n', 'a.yaml');
    expect(s.profile).toBe('demo');
    expect(s.smtp.smarthost).toBe('mail.example.com:465');
    expect(s.smtp.tlsInsecureSkipVerify).toBe(true);
    expect(s.smtp.from).toBe('vigil@vigil.local'); // default kept
    expect(s.alertmanagerTemplatesDir).toBe('/etc/am');
    expect(s.scrapeInterval).toBe('15s');
  });

  it('names misspelt keys at any depth instead of ignoring them', () => {
    expect(() => settingsFromYaml('scrapeIntervall: 10s\n', 'f.yaml')).toThrow('f.yaml: unknown setting "scrapeIntervall"');
    expect(() => settingsFromYaml('smtp:\n  tlsInsecureSkipVerfy: true\n', 'f.yaml')).toThrow('f.yaml: unknown setting "smtp.tlsInsecureSkipVerfy"');
  });

  it('refuses SMTP credentials: they belong in a Secret', () => {
    expect(() => settingsFromYaml('smtp:\n  authPassword: hunter2\n', 'f.yaml')).toThrow(/smtp\.authPassword is not allowed here.*--smtp-secret/);
  });

  it('says what is wrong with a value and where', () => {
    expect(() => settingsFromYaml('profile: fast\n', 'f.yaml')).toThrow('f.yaml: profile: must be demo or production');
    expect(() => settingsFromYaml('alertmanagerTargets: [am]\n', 'f.yaml')).toThrow('f.yaml: alertmanagerTargets.0: must be host:port');
    expect(() => settingsFromYaml('- a\n', 'f.yaml')).toThrow('f.yaml: expected a mapping of settings');
    expect(() => settingsFromYaml('a: [\n', 'f.yaml')).toThrow(/f\.yaml: not valid YAML/);
  });

  it('bounds the global scrape and evaluation intervals as the chart does (GLOBAL_TIMING_BOUNDS)', () => {
    expect(settingsFromYaml('scrapeInterval: 4m50s\nevaluationInterval: 30s\n', 'f.yaml')).toMatchObject({ scrapeInterval: '4m50s', evaluationInterval: '30s' });
    expect(() => settingsFromYaml('scrapeInterval: 5m\n', 'f.yaml')).toThrow(/^f\.yaml: scrapeInterval: 5m is out of range: scrapeInterval must be above 0 and at most 4m50s: /);
    expect(() => settingsFromYaml('scrapeInterval: 0s\n', 'f.yaml')).toThrow(/^f\.yaml: scrapeInterval: 0s is out of range/);
    expect(() => settingsFromYaml('evaluationInterval: 31s\n', 'f.yaml')).toThrow(
      "f.yaml: evaluationInterval: 31s is out of range: evaluationInterval must be above 0 and at most 30s: ServiceDown's window (the discovery grace, up to 4m, plus two rule evaluations) must stay within Prometheus's 5m lookback",
    );
  });

  it('treats an empty file as the defaults', () => {
    expect(settingsFromObject(null, 'x')).toEqual(settingsFromYaml('', 'x'));
  });

  it('takes the Watchdog webhook (http(s) or empty) and refuses anything else by name', () => {
    expect(settingsFromYaml('watchdog:\n  webhookUrl: https://hb.example.com/ping\n  interval: 30s\n', 'f.yaml').watchdog).toEqual({ webhookUrl: 'https://hb.example.com/ping', interval: '30s' });
    expect(settingsFromYaml('watchdog:\n  webhookUrl: ""\n', 'f.yaml').watchdog).toEqual({ webhookUrl: '' });
    expect(() => settingsFromYaml('watchdog:\n  webhookUrl: ftp://x\n', 'f.yaml')).toThrow(/f\.yaml: watchdog\.webhookUrl: .*http\(s\) URL/);
    expect(() => settingsFromYaml('watchdog:\n  interval: soon\n', 'f.yaml')).toThrow('f.yaml: watchdog.interval: must be a duration');
  });
});
