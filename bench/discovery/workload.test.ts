import { parse } from 'yaml';
import { sumBy, sumsByPrefix } from '../../hack/local-stack/metrics.js';
import { cpuSecondsFromStat, discoveryWorkload, memoryFromStatus, pointKubernetesSdAt, sdBlockCounts, workloadObjects, workloadPods, workloadTargets } from './workload.js';

describe('discoveryWorkload', () => {
  it('spreads services round-robin over namespaces, one host per endpoint', () => {
    const w = discoveryWorkload({ services: 5, namespaces: 2, endpointsPerService: 3, targetPort: 8000 });
    expect(w.namespaces).toEqual(['disc-00', 'disc-01']);
    expect(w.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(['disc-00/svc-0000', 'disc-01/svc-0001', 'disc-00/svc-0002', 'disc-01/svc-0003', 'disc-00/svc-0004']);
    expect(w.services[1]!.hosts).toEqual(['e0.svc-0001.disc-01.vigil.localhost', 'e1.svc-0001.disc-01.vigil.localhost', 'e2.svc-0001.disc-01.vigil.localhost']);
    expect(workloadTargets(w)).toBe(15);
  });

  it('refuses counts that are not positive integers, naming the field', () => {
    expect(() => discoveryWorkload({ services: 0, namespaces: 1, endpointsPerService: 1, targetPort: 1 })).toThrow('services must be a positive integer, got 0');
  });

  it('gives each Service an FQDN EndpointSlice with its labels and the service-name label', () => {
    const w = discoveryWorkload({ services: 1, namespaces: 1, endpointsPerService: 2, targetPort: 8000, pods: false });
    type Obj = { metadata: { labels: Record<string, string> }; addressType: string; endpoints: unknown[]; ports: unknown[] };
    const [service, slice] = workloadObjects(w) as Obj[];
    expect(service!.metadata).toEqual({ name: 'svc-0000', namespace: 'disc-00', labels: { 'app.kubernetes.io/name': 'svc-0000', tier: 'bench' } });
    expect(slice!.addressType).toBe('FQDN');
    expect(slice!.metadata.labels['kubernetes.io/service-name']).toBe('svc-0000');
    expect(slice!.endpoints).toEqual([
      { addresses: ['e0.svc-0000.disc-00.vigil.localhost'], conditions: { ready: true } },
      { addresses: ['e1.svc-0000.disc-00.vigil.localhost'], conditions: { ready: true } },
    ]);
    expect(slice!.ports).toEqual([{ name: 'metrics', port: 8000, protocol: 'TCP' }]);
  });

  it('with pods, one Pod per endpoint, referenced by targetRef', () => {
    const w = discoveryWorkload({ services: 1, namespaces: 1, endpointsPerService: 2, targetPort: 8000 });
    type Obj = { kind: string; metadata: { name: string; labels: Record<string, string> }; endpoints?: Array<{ targetRef?: unknown }> };
    const pods = workloadPods(w) as Obj[];
    expect(pods.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Pod/svc-0000-e0', 'Pod/svc-0000-e1']);
    expect(pods[0]!.metadata.labels).toEqual(w.services[0]!.labels);
    const objects = workloadObjects(w) as Obj[];
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Service/svc-0000', 'EndpointSlice/svc-0000-bench']);
    expect(objects[1]!.endpoints![1]!.targetRef).toEqual({ kind: 'Pod', namespace: 'disc-00', name: 'svc-0000-e1' });
    expect(workloadPods({ ...w, pods: false })).toEqual([]);
  });
});

describe('pointKubernetesSdAt', () => {
  const config = `
global: { scrape_interval: 30s }
scrape_configs:
  - job_name: in-cluster
    kubernetes_sd_configs:
      - role: endpoints
        namespaces: { names: [a] }
      - role: endpoints
        namespaces: { names: [a] }
  - job_name: explicit
    kubernetes_sd_configs:
      - role: endpointslice
        api_server: https://10.0.0.1
        authorization: { credentials_file: /var/run/token }
        tls_config: { ca_file: /ca }
        selectors: [{ role: service, label: app=x }]
  - job_name: static
    static_configs: [{ targets: [localhost:9090] }]
`;

  it('replaces every connection by the kubeconfig and keeps the rest of each block', () => {
    const out = parse(pointKubernetesSdAt(config, { kubeconfigFile: '/k' }));
    expect(out.global).toEqual({ scrape_interval: '30s' });
    expect(out.scrape_configs[0].kubernetes_sd_configs).toEqual([
      { role: 'endpoints', namespaces: { names: ['a'] }, kubeconfig_file: '/k' },
      { role: 'endpoints', namespaces: { names: ['a'] }, kubeconfig_file: '/k' },
    ]);
    expect(out.scrape_configs[1].kubernetes_sd_configs).toEqual([{ role: 'endpointslice', selectors: [{ role: 'service', label: 'app=x' }], kubeconfig_file: '/k' }]);
    expect(out.scrape_configs[2]).toEqual({ job_name: 'static', static_configs: [{ targets: ['localhost:9090'] }] });
  });

  it('keeps identical blocks identical (Prometheus shares their provider)', () => {
    expect(sdBlockCounts(pointKubernetesSdAt(config, { kubeconfigFile: '/k' }))).toEqual({ blocks: 3, distinct: 2 });
  });

  it('refuses a config that is not a mapping', () => {
    expect(() => pointKubernetesSdAt('- a', { kubeconfigFile: '/k' })).toThrow('not a YAML mapping');
  });
});

describe('reading /proc and /metrics', () => {
  it('takes utime + stime after a command name with spaces and parentheses', () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = '4242 (prom (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 12 0';
    expect(cpuSecondsFromStat(stat)).toBeCloseTo(3.25, 6);
    expect(() => cpuSecondsFromStat('1 (x) S')).toThrow('cannot read utime/stime');
  });

  it('reads VmRSS and VmHWM in MiB', () => {
    expect(memoryFromStatus('Name:\tprometheus\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n')).toEqual({ rssMiB: 100, peakRssMiB: 200 });
  });

  const exposition = [
    '# TYPE prometheus_sd_kubernetes_events_total counter',
    'prometheus_sd_kubernetes_events_total{event="add",role="service"} 3',
    'prometheus_sd_kubernetes_events_total{event="add",role="endpointslice"} 4',
    'prometheus_sd_kubernetes_failures_total 0',
    'prometheus_target_sync_length_seconds_sum{scrape_job="a"} 0.5',
    'prometheus_target_sync_length_seconds_sum{scrape_job="b"} 0.25',
    'apiserver_longrunning_requests{component="apiserver",resource="pods",verb="WATCH"} 7',
    'apiserver_longrunning_requests{component="apiserver",resource="services",verb="WATCH"} 2',
    'apiserver_longrunning_requests{component="apiserver",resource="pods",verb="LIST"} 9',
  ].join('\n');

  it('sums every metric of a prefix over its labels', () => {
    expect(sumsByPrefix(exposition, 'prometheus_sd_kubernetes_')).toEqual({ prometheus_sd_kubernetes_events_total: 7, prometheus_sd_kubernetes_failures_total: 0 });
    expect(sumsByPrefix(exposition, 'prometheus_target_sync_length_seconds')).toEqual({ prometheus_target_sync_length_seconds_sum: 0.75 });
  });

  it('sums one metric by a label, filtered by others', () => {
    expect(sumBy(exposition, 'apiserver_longrunning_requests', 'resource', { verb: 'WATCH' })).toEqual({ pods: 7, services: 2 });
  });
});
