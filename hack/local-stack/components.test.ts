// Pure parts of starting the stack's servers (components.ts).
import { describe, expect, it } from '@jest/globals';
import { prometheusHostsFile } from './components.js';

describe("prometheusHostsFile (Prometheus's private /etc/hosts)", () => {
  const machine = '127.0.0.1 localhost\n::1 localhost\n';
  const demo = '127.0.0.1 demo-target.vigil.localhost';

  it('first start: the machine hosts, then the stack lines', () => {
    expect(prometheusHostsFile(undefined, machine, [demo])).toBe(`127.0.0.1 localhost\n::1 localhost\n# vigil local stack\n${demo}\n`);
  });

  it('a restart keeps the lines make local-target appended since, and adds nothing twice', () => {
    const registered = `${prometheusHostsFile(undefined, machine, [demo])}127.0.0.1 my-app.vigil.localhost\n`;
    expect(prometheusHostsFile(registered, machine, [demo])).toBe(registered);
  });

  it('a restart adds a stack line that is missing, after what is there (even without a final newline)', () => {
    expect(prometheusHostsFile('127.0.0.1 localhost\n127.0.0.1 my-app.vigil.localhost', machine, [demo])).toBe(`127.0.0.1 localhost\n127.0.0.1 my-app.vigil.localhost\n${demo}\n`);
  });
});
