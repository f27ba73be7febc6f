// The whole Vigil alert pipeline as local processes, no Docker: a dev API server (etcd +
// kube-apiserver), Vigil's RBAC, the operator, Prometheus + its sync sidecar, Alertmanager + its
// sync sidecar, stunnel (implicit TLS on a loopback port) in front of Mailpit, and the demo target registered through
// a Service + EndpointSlice and the demo MonitoredService. Used by `make local-up`, the pipeline
// tests and the latency benchmark; every process is stopped by PID in stop().
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SELF_SCRAPE_JOBS } from '../../operator/render/names.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import { DEFAULT_SCRAPE_LIMIT_SETTINGS } from '../../operator/render/scrape-limits.js';
import { startCluster, type Cluster, type ClusterOptions } from './cluster.js';
import type { ManagedProcess } from './process.js';
import { DEFAULT_INSTALL_NAMESPACE, installRbac, vigilKubeconfigs } from './rbac.js';
import { BIN_DIR, diedCheck, scrapeCredentialsDirOf, startAlertmanager, startDemoTarget, startOperator, startPrometheus, startServerSync, type Alertmanager, type Prometheus } from './components.js';
import { waitForConfigApplied } from './config-applied.js';
import { DEMO_ENDPOINTSLICE, DEMO_NAME, DEMO_NAMESPACE, DEMO_TARGET_HOST, alertBoundSeconds, demoEndpointSlice, demoMonitoredService, demoTargetObjects } from './demo.js';
import { startMailpit, type Mailpit } from './mailpit.js';
import { assertPortsFree, formatWait, freePorts, getJson, pollUntil, probePort, sleep } from './net.js';
import { LOCAL_SMTPS_PORT, SMTP_TLS_SERVER_NAME, generateSmtpTls, startStunnel, type Stunnel } from './stunnel.js';
import { type ComponentStatus, describeExit, type RestartPolicy, restartDecision } from './supervisor.js';

export interface StackPorts {
  prometheus: number;
  alertmanager: number;
  mailpitSmtp: number;
  mailpitUi: number;
  /** stunnel's TLS listener in front of Mailpit's SMTP port. */
  smtps: number;
  target: number;
  operator: number;
  prometheusSync: number;
  alertmanagerSync: number;
}

/** The ports of the original compose stack (plus Vigil's own), used by `make local-up`. */
export const DEFAULT_PORTS: StackPorts = {
  prometheus: 9090,
  alertmanager: 9093,
  mailpitSmtp: 1025,
  mailpitUi: 8025,
  smtps: LOCAL_SMTPS_PORT,
  target: 8000,
  operator: 8080,
  prometheusSync: 8081,
  alertmanagerSync: 8082,
};

/** The rule evaluation interval E of the local stack (the demo MonitoredService's scrape is 5 s too). */
export const EVALUATION_INTERVAL = '5s';

/** Every port picked by the stack, each right before its server starts (tests, bench). */
export const ANY_FREE_PORTS: StackPorts = {
  prometheus: 0,
  alertmanager: 0,
  mailpitSmtp: 0,
  mailpitUi: 0,
  smtps: 0,
  target: 0,
  operator: 0,
  prometheusSync: 0,
  alertmanagerSync: 0,
};

/** Stack processes that can be stopped and started again by name (fault tests). */
export const COMPONENT_NAMES = ['mailpit', 'stunnel', 'prometheus', 'alertmanager', 'vigil-operator', 'prometheus-sync', 'alertmanager-sync'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export interface StackOptions {
  /** Where config, data and logs go; emptied at start. */
  stateDir: string;
  /**
   * 0 = a free loopback port chosen just before that server starts: picking them all up front
   * would leave seconds for another process (parallel tests) to take one.
   */
  ports: StackPorts;
  log?: (message: string) => void;
  /** Apply the demo Service/EndpointSlice/MonitoredService and wait for the target to be healthy. */
  applyDemo?: boolean;
  /** Replaces parts of the stack's GlobalSettings (e.g. profile, alertmanagerTargets for an HA test). */
  settings?: Partial<GlobalSettings>;
  /** Extra flags of the operator (e.g. --selector: this install's scope next to another install). */
  operatorArgs?: string[];
  /** The Watchdog's webhook and interval (settings.watchdog); default: none. */
  watchdog?: GlobalSettings['watchdog'];
  /** Extra Prometheus flags (tests: a short --rules.alert.resend-delay, see test/status/watchdog.int.test.ts). */
  prometheusArgs?: string[];
  /** Passed to the API server harness (e.g. keepDir to inspect its logs after a failure). */
  clusterOptions?: Omit<ClusterOptions, 'log'>;
  /**
   * Restart a component whose process exits without stopComponent()/stop() having asked for it (`make local-up`:
   * LOCAL_UP_RESTART_POLICY). Undefined: no restarts (tests stop and start components themselves).
   */
  supervise?: RestartPolicy & {
    /** Each restart / give-up line, as also logged: "prometheus exited with code null (signal SIGKILL); restarting (1/5) in 1000 ms". */
    onEvent?: (message: string) => void;
    /** After a component crashed more often than the limit: the whole stack has been stopped; `message` names the component. */
    onGiveUp?: (message: string) => void;
  };
}

export interface Stack {
  readonly stateDir: string;
  readonly cluster: Cluster;
  readonly ports: StackPorts;
  readonly installNamespace: string;
  /** Admin kubeconfig, copied into stateDir so that it outlives nothing but the stack. */
  readonly kubeconfigPath: string;
  readonly prometheus: Prometheus;
  readonly alertmanager: Alertmanager;
  readonly mailpit: Mailpit;
  readonly stunnel: Stunnel;
  readonly settings: GlobalSettings;
  readonly urls: { prometheus: string; alertmanager: string; mailUi: string; target: string; apiServer: string };
  /** Processes by name, for status output. */
  processes(): ManagedProcess[];
  kubectl(args: string[], input?: string): Promise<string>;
  applyDemo(): Promise<void>;
  /** Waits until Prometheus scrapes the demo target successfully (its targets API). */
  waitForHealthyTarget(timeoutMs?: number): Promise<void>;
  isTargetRunning(): boolean;
  /** Stops the demo target process (SIGTERM); resolves with the time the signal was sent. */
  stopTarget(): Promise<number>;
  startTarget(): Promise<void>;
  /** Deletes the demo target's EndpointSlice (the local equivalent of deleting its pod). */
  removeTargetEndpoints(): Promise<number>;
  restoreTargetEndpoints(): Promise<void>;
  /** S + E + ceil(F/E)*E + 2 s for the demo MonitoredService. */
  alertBoundSeconds(): number;
  /** Stops one component (SIGTERM, or SIGKILL for a crash); resolves once its process is gone. */
  stopComponent(name: ComponentName, signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts a stopped component again: same ports, files and data; resolves once it answers. */
  startComponent(name: ComponentName): Promise<void>;
  /** Each component (and the API server): is its process running, does its health endpoint answer (2 s timeout)? */
  componentStatus(): Promise<ComponentStatus[]>;
  stop(): Promise<void>;
}

interface PromTargetsResponse {
  data: { activeTargets: { labels: Record<string, string>; scrapePool: string; health: string; lastError: string }[] };
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? (() => undefined);
  const { stateDir } = opts;
  const ports: StackPorts = { ...opts.ports };
  const port = async (name: keyof StackPorts): Promise<number> => {
    if (ports[name] === 0) ports[name] = (await freePorts(1))[0]!;
    return ports[name];
  };
  const ns = DEFAULT_INSTALL_NAMESPACE;
  const started: ManagedProcess[] = [];
  let cluster: Cluster | undefined;
  let target: ManagedProcess | undefined;
  let stopped = false;
  // How to start each component again and where it answers; a restart replaces its entry in `started`
  // (stop order). `deliberate`: stopped through stopComponent(), so the supervisor leaves it stopped.
  interface Component {
    proc: ManagedProcess;
    start: () => Promise<ManagedProcess>;
    endpoint: string;
    deliberate: boolean;
    crashes: number[];
    restarts: number;
  }
  const components = new Map<ComponentName, Component>();
  const launchComponent = async (name: ComponentName, start: () => Promise<ManagedProcess>, endpoint: string): Promise<void> => {
    const proc = await start();
    started.push(proc);
    const entry: Component = { proc, start, endpoint, deliberate: false, crashes: [], restarts: 0 };
    components.set(name, entry);
    supervise(name, entry, proc);
  };
  const replaceProcess = (entry: Component, proc: ManagedProcess) => {
    started[started.indexOf(entry.proc)] = proc;
    entry.proc = proc;
  };

  // The supervisor (opts.supervise): restart what exits on its own, with backoff; past the limit, stop everything.
  const say = (message: string) => {
    log(message);
    opts.supervise?.onEvent?.(message);
  };
  function supervise(name: ComponentName, entry: Component, proc: ManagedProcess): void {
    if (!opts.supervise) return;
    void proc.exited.then((exit) => onCrash(name, entry, proc, describeExit(exit)));
  }
  async function onCrash(name: ComponentName, entry: Component, proc: ManagedProcess, how: string): Promise<void> {
    const policy = opts.supervise;
    if (!policy || stopped || entry.deliberate || entry.proc !== proc) return;
    const now = Date.now();
    entry.crashes.push(now);
    const decision = restartDecision(entry.crashes, now, policy);
    if (!decision.restart) {
      const message = `${name} ${how} again: ${decision.crashes} crashes within ${formatWait(policy.windowMs ?? 600_000)}, more than the restart limit of ${policy.limit}; stopping the local stack (log: ${proc.logFile})`;
      say(message);
      await stopAll();
      policy.onGiveUp?.(message);
      return;
    }
    say(`${name} ${how}; restarting (${decision.attempt}/${policy.limit}) in ${formatWait(decision.delayMs)} (log: ${proc.logFile})`);
    await sleep(decision.delayMs);
    if (stopped || entry.deliberate || entry.proc !== proc) return;
    let next: ManagedProcess;
    try {
      next = await entry.start();
    } catch (err) {
      // The new process died before it answered: one more crash of the same component.
      return onCrash(name, entry, proc, `failed to start again (${(err as Error).message.split('\n')[0]})`);
    }
    if (stopped) return next.stop(5000);
    replaceProcess(entry, next);
    entry.restarts++;
    say(`${name} restarted (pid ${next.pid})`);
    supervise(name, entry, next);
  }

  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    // Reverse start order: the target and senders first, the API server last.
    await target?.stop(3000);
    for (const p of [...started].reverse()) await p.stop(5000);
    await cluster?.stop();
  };

  try {
    await assertPortsFree(Object.fromEntries(Object.entries(ports).filter(([, v]) => v !== 0)), 'Stop whatever holds them (another `make local-up`?) and try again.');
    await rm(stateDir, { recursive: true, force: true });
    await mkdir(stateDir, { recursive: true });

    log('starting the API server (etcd + kube-apiserver) ...');
    cluster = await startCluster({ ...opts.clusterOptions, log: (m) => log(`  ${m}`) });
    const kubeconfigPath = join(stateDir, 'kubeconfig');
    await copyFile(cluster.kubeconfigPath, kubeconfigPath);
    const c = cluster;

    log('applying Vigil RBAC and creating ServiceAccount kubeconfigs ...');
    await installRbac(c, ns);
    const kubeconfigs = await vigilKubeconfigs(c, ns);

    log('starting Mailpit and stunnel (TLS in front of Mailpit) ...');
    const tlsDir = join(stateDir, 'tls');
    await mkdir(tlsDir);
    const tls = await generateSmtpTls(tlsDir);
    const mailpitPorts = { smtpPort: await port('mailpitSmtp'), uiPort: await port('mailpitUi') };
    const stunnelPort = await port('smtps');
    let mailpit!: Mailpit;
    await launchComponent(
      'mailpit',
      async () => (mailpit = await startMailpit({ bin: join(BIN_DIR, 'mailpit'), dir: stateDir, ...mailpitPorts })).process,
      `http://127.0.0.1:${mailpitPorts.uiPort}/api/v1/messages?limit=1`,
    );
    let stunnel!: Stunnel;
    await launchComponent(
      'stunnel',
      async () => (stunnel = await startStunnel({ bin: join(BIN_DIR, 'stunnel'), dir: stateDir, port: stunnelPort, upstreamPort: ports.mailpitSmtp, tls })).process,
      `127.0.0.1:${stunnelPort}`,
    );

    log('starting Prometheus and Alertmanager ...');
    const prometheusOptions = { dir: join(stateDir, 'prometheus'), port: await port('prometheus'), extraHosts: [`127.0.0.1 ${DEMO_TARGET_HOST}`], extraArgs: opts.prometheusArgs ?? [] };
    let prometheus!: Prometheus;
    await launchComponent('prometheus', async () => (prometheus = await startPrometheus(prometheusOptions)).process, `http://127.0.0.1:${prometheusOptions.port}/-/ready`);
    const alertmanagerOptions = { dir: join(stateDir, 'alertmanager'), port: await port('alertmanager') };
    let alertmanager!: Alertmanager;
    await launchComponent('alertmanager', async () => (alertmanager = await startAlertmanager(alertmanagerOptions)).process, `http://127.0.0.1:${alertmanagerOptions.port}/-/ready`);

    const operatorPort = await port('operator');
    const settings: GlobalSettings = {
      profile: 'demo',
      scrapeInterval: '5s',
      evaluationInterval: EVALUATION_INTERVAL,
      smtp: {
        // Implicit TLS on an ordinary port, terminated by stunnel: forced, since the port is not 465.
        smarthost: `127.0.0.1:${stunnelPort}`,
        from: 'vigil@vigil.localhost',
        hello: 'vigil.localhost',
        requireTls: false,
        forceImplicitTls: true,
        tlsCaFile: tls.caCert,
        tlsServerName: SMTP_TLS_SERVER_NAME,
      },
      defaultRecipients: ['oncall@vigil.localhost'],
      alertmanagerTargets: [`127.0.0.1:${ports.alertmanager}`],
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      rulesDir: '.',
      scrapeCredentialsDir: scrapeCredentialsDirOf(prometheus),
      selfScrapeJobs: [
        { job_name: SELF_SCRAPE_JOBS.prometheus, static_configs: [{ targets: [`127.0.0.1:${ports.prometheus}`] }] },
        { job_name: SELF_SCRAPE_JOBS.operator, static_configs: [{ targets: [`127.0.0.1:${operatorPort}`] }] },
        { job_name: SELF_SCRAPE_JOBS.alertmanager, static_configs: [{ targets: [`127.0.0.1:${ports.alertmanager}`] }] },
      ],
      kubernetesSd: { apiServer: c.server, kubeconfigFile: kubeconfigs.prometheus },
      ...(opts.watchdog ? { watchdog: opts.watchdog } : {}),
      externalLabels: { cluster: 'local' },
      scrapeLimits: DEFAULT_SCRAPE_LIMIT_SETTINGS,
      ...opts.settings,
    };
    const settingsFile = join(stateDir, 'operator-settings.yaml');
    await writeFile(settingsFile, `# GlobalSettings of the local stack (hack/local-stack/stack.ts)\n${stringify(settings)}`);

    log('starting the Vigil operator ...');
    const operatorOptions = {
      logFile: join(stateDir, 'operator.log'),
      kubeconfig: kubeconfigs.operator,
      namespace: ns,
      settingsFile,
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      listenPort: operatorPort,
      ...(opts.operatorArgs ? { extraArgs: opts.operatorArgs } : {}),
    };
    await launchComponent('vigil-operator', () => startOperator(operatorOptions), `http://127.0.0.1:${operatorPort}/readyz`);

    log('starting the sync sidecars of Prometheus and Alertmanager ...');
    const sidecar = { logDir: stateDir, namespace: ns };
    const prometheusSyncPort = await port('prometheusSync');
    await launchComponent(
      'prometheus-sync',
      () => startServerSync('prometheus', prometheus, { ...sidecar, kubeconfig: kubeconfigs.prometheus, listenPort: prometheusSyncPort }),
      `http://127.0.0.1:${prometheusSyncPort}/healthz`,
    );
    const alertmanagerSyncPort = await port('alertmanagerSync');
    await launchComponent(
      'alertmanager-sync',
      () => startServerSync('alertmanager', alertmanager, { ...sidecar, kubeconfig: kubeconfigs.alertmanager, listenPort: alertmanagerSyncPort }),
      `http://127.0.0.1:${alertmanagerSyncPort}/healthz`,
    );
    await waitForConfigApplied(c, ns, {
      check: () => {
        for (const p of started) diedCheck(p)();
      },
    });
    log('  operator config applied by both sync sidecars');

    log('starting the demo target ...');
    const startTargetProcess = async () => {
      target = await startDemoTarget({ logFile: join(stateDir, 'demo-target.log'), port: await port('target') });
    };
    await startTargetProcess();

    const kubectl = (args: string[], input?: string) => c.kubectl(args, input === undefined ? {} : { input });
    const ms = demoMonitoredService();
    const stack: Stack = {
      stateDir,
      cluster: c,
      ports,
      installNamespace: ns,
      kubeconfigPath,
      // Getters: a restarted component is a new process (startComponent below).
      get prometheus() {
        return prometheus;
      },
      get alertmanager() {
        return alertmanager;
      },
      get mailpit() {
        return mailpit;
      },
      get stunnel() {
        return stunnel;
      },
      settings,
      urls: {
        prometheus: prometheus.url,
        alertmanager: alertmanager.url,
        mailUi: mailpit.uiUrl,
        target: `http://127.0.0.1:${ports.target}`,
        apiServer: c.server,
      },
      processes: () => [...started, ...(target ? [target] : [])],
      kubectl,
      async applyDemo() {
        await c.apply(demoTargetObjects(ports.target), { fieldManager: 'vigil-local-stack' });
        await kubectl(['apply', '-f', '-'], JSON.stringify(ms));
      },
      async waitForHealthyTarget(timeoutMs = 90_000) {
        await pollUntil(
          `Prometheus to scrape ${DEMO_NAMESPACE}/${DEMO_NAME} successfully`,
          timeoutMs,
          async () => {
            for (const p of started) diedCheck(p)();
            const r = await getJson<PromTargetsResponse>(`${prometheus.url}/api/v1/targets?state=active`);
            return r.data.activeTargets.some((t) => t.scrapePool.startsWith(`vigil/${DEMO_NAMESPACE}/${DEMO_NAME}/`) && t.health === 'up');
          },
          { intervalMs: 500 },
        );
      },
      isTargetRunning: () => target?.isRunning() ?? false,
      async stopTarget() {
        if (!target?.isRunning()) throw new Error('the demo target is not running');
        const t0 = Date.now();
        await target.stop(3000);
        return t0;
      },
      async startTarget() {
        if (target?.isRunning()) return;
        await startTargetProcess();
      },
      async removeTargetEndpoints() {
        const t0 = Date.now();
        await kubectl(['delete', 'endpointslice', DEMO_ENDPOINTSLICE, '-n', DEMO_NAMESPACE, '--wait=false']);
        return t0;
      },
      async restoreTargetEndpoints() {
        await c.apply([demoEndpointSlice(ports.target)], { fieldManager: 'vigil-local-stack' });
      },
      alertBoundSeconds: () => alertBoundSeconds(ms.spec.endpoints[0]?.interval ?? settings.scrapeInterval, settings.evaluationInterval, ms.spec.downAlert.for),
      async stopComponent(name, signal = 'SIGTERM') {
        const entry = components.get(name);
        if (!entry) throw new Error(`unknown stack component ${name}`);
        entry.deliberate = true;
        if (signal === 'SIGTERM') return entry.proc.stop(5000);
        try {
          process.kill(entry.proc.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        await entry.proc.exited;
      },
      async startComponent(name) {
        const entry = components.get(name);
        if (!entry) throw new Error(`unknown stack component ${name}`);
        if (entry.proc.isRunning()) throw new Error(`${name} is still running (pid ${entry.proc.pid}); stop it first`);
        const proc = await entry.start();
        replaceProcess(entry, proc);
        entry.deliberate = false;
        supervise(name, entry, proc);
      },
      async componentStatus() {
        const statuses = await Promise.all(
          [...components].map(async ([name, entry]): Promise<ComponentStatus> => {
            const running = entry.proc.isRunning();
            const exit = running ? undefined : describeExit(await entry.proc.exited);
            const problem = running ? await probeEndpoint(entry.endpoint) : undefined;
            return {
              name,
              pid: entry.proc.pid,
              running,
              ...(exit !== undefined ? { exit } : {}),
              endpoint: entry.endpoint,
              ...(problem !== undefined ? { problem } : {}),
              logFile: entry.proc.logFile,
              restarts: entry.restarts,
            };
          }),
        );
        const apiServerRunning = c.isApiServerRunning();
        return [{ name: 'kube-apiserver', running: apiServerRunning, endpoint: c.server, logFile: c.apiServerLog, restarts: 0 }, ...statuses];
      },
      stop: stopAll,
    };

    if (opts.applyDemo ?? true) {
      log(`applying the demo Service, EndpointSlice and MonitoredService (${DEMO_NAMESPACE}/${DEMO_NAME}) ...`);
      await stack.applyDemo();
      await stack.waitForHealthyTarget();
      log('  Prometheus scrapes the demo target');
    }
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * undefined when the endpoint answers, else why not: an http(s) URL must answer 200 within 2 s;
 * host:port (stunnel, which speaks TLS only) must be listening.
 */
async function probeEndpoint(endpoint: string): Promise<string | undefined> {
  if (!endpoint.startsWith('http')) {
    const port = Number(endpoint.split(':').pop());
    return (await probePort(port)) === 'EADDRINUSE' ? undefined : 'nothing listens on the port';
  }
  try {
    const res = await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200 ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return e.cause?.code ?? (e.name === 'TimeoutError' ? 'no answer within 2 s' : e.message);
  }
}
