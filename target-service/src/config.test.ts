import { parseTargetConfig } from './config.js';

describe('parseTargetConfig', () => {
  it('defaults to port 8000 on all interfaces with the real /proc, /sys and /', () => {
    expect(parseTargetConfig([], {})).toEqual({
      port: 8000,
      host: '0.0.0.0',
      hostPaths: { procRoot: '/proc', sysRoot: '/sys', diskPath: '/' },
      shutdownGraceMs: 5000,
    });
  });

  it('takes PORT and HOST from the environment and lets flags win', () => {
    expect(parseTargetConfig([], { PORT: '9100', HOST: '127.0.0.1' })).toMatchObject({ port: 9100, host: '127.0.0.1' });
    expect(parseTargetConfig(['--port', '9200'], { PORT: '9100' }).port).toBe(9200);
    expect(parseTargetConfig(['--port=0', '--host=::1'], {})).toMatchObject({ port: 0, host: '::1' });
  });

  it('takes host paths and the grace period from the environment', () => {
    const config = parseTargetConfig([], { PROC_ROOT: '/host/proc', SYS_ROOT: '/host/sys', DISK_PATH: '/data', SHUTDOWN_GRACE_MS: '1500' });
    expect(config.hostPaths).toEqual({ procRoot: '/host/proc', sysRoot: '/host/sys', diskPath: '/data' });
    expect(config.shutdownGraceMs).toBe(1500);
  });

  it('names the bad setting', () => {
    expect(() => parseTargetConfig([], { PORT: 'eighty' })).toThrow('PORT: "eighty" is not an integer from 0 to 65535');
    expect(() => parseTargetConfig(['--port', '70000'], {})).toThrow(/^--port: "70000"/);
    expect(() => parseTargetConfig(['--port'], {})).toThrow(/--port needs a value/);
    expect(() => parseTargetConfig(['--verbose'], {})).toThrow(/unknown argument "--verbose"/);
    expect(() => parseTargetConfig([], { SHUTDOWN_GRACE_MS: '-1' })).toThrow(/SHUTDOWN_GRACE_MS/);
  });
});
