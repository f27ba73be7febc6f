import { describe, expect, it } from '@jest/globals';
import { serverUrl } from './server-poller.js';

describe('serverUrl', () => {
  it('keeps the route prefix of the base URL (Prometheus/Alertmanager behind --web.external-url with a path)', () => {
    expect(serverUrl('http://vigil-prometheus:9090/prometheus', '/api/v1/targets?state=active')).toBe('http://vigil-prometheus:9090/prometheus/api/v1/targets?state=active');
    expect(serverUrl('http://vigil-prometheus:9090/prometheus/', '/api/v1/status/config')).toBe('http://vigil-prometheus:9090/prometheus/api/v1/status/config');
    expect(serverUrl('http://vigil-alertmanager:9093/a/b', 'metrics')).toBe('http://vigil-alertmanager:9093/a/b/metrics');
  });

  it('at the root it is the plain path', () => {
    expect(serverUrl('http://prom:9090', '/api/v1/status/runtimeinfo')).toBe('http://prom:9090/api/v1/status/runtimeinfo');
    expect(serverUrl('http://prom:9090/', '/metrics')).toBe('http://prom:9090/metrics');
  });
});
