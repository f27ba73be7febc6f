import { describe, expect, it } from '@jest/globals';
import { parseObjectArgument, runTestEmailCommand, splitPositional } from './test-email-command.js';

describe('vigil test-email arguments', () => {
  it('takes the object wherever it stands, and flag values as flags', () => {
    expect(splitPositional(['shop/checkout', '--timeout', '30s'])).toEqual({ positional: ['shop/checkout'], flags: ['--timeout', '30s'] });
    expect(splitPositional(['--kubeconfig', 'kc.yaml', 'shop/checkout', '--timeout=2m'])).toEqual({ positional: ['shop/checkout'], flags: ['--kubeconfig', 'kc.yaml', '--timeout=2m'] });
  });

  it('reads <namespace>/<name> and refuses anything else, saying what is accepted', () => {
    expect(parseObjectArgument('shop/checkout.v2')).toEqual({ namespace: 'shop', name: 'checkout.v2' });
    for (const bad of [undefined, 'checkout', 'Shop/checkout', 'shop/checkout/x', 'shop/']) {
      expect(() => parseObjectArgument(bad)).toThrow('give the MonitoredService as <namespace>/<name>, e.g. shop/checkout');
    }
  });

  it('answers a usage error with exit status 2 and the usage text, before touching any cluster', async () => {
    const err: string[] = [];
    const code = await runTestEmailCommand(['shop/a', 'shop/b'], { out: () => undefined, err: (l) => void err.push(l), env: {} });
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('vigil test-email: one MonitoredService at a time (got shop/a, shop/b)');
    expect(err.join('\n')).toContain('Usage: vigil test-email <namespace>/<name>');
    const bad = await runTestEmailCommand(['shop/a', '--timeout', 'soon'], { out: () => undefined, err: (l) => void err.push(l), env: {} });
    expect(bad).toBe(2);
    expect(err.join('\n')).toContain('--timeout: "soon" is not a duration above 0 such as 30s or 2m');
  });
});
