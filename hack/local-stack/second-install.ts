// A second Vigil install on the local stack's API server (issue #14, "two installs"): its own
// namespace, RBAC and ServiceAccounts, operator (with its own scope flags), Prometheus and
// Alertmanager with their sync sidecars, exactly what a second `helm install` in another
// namespace adds. It shares the stack's stunnel and Mailpit (one mail server, as two installs in
// one company would) so that a test sees every email either install sends.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { SELF_SCRAPE_JOBS } from '../../operator/render/names.js';
import type { GlobalSettings } from '../../operator/render/types.js';
import type { ManagedProcess } from './process.js';
import { installRbac, vigilKubeconfigs } from './rbac.js';
import { diedCheck, scrapeCredentialsDirOf, startAlertmanager, startOperator, startPrometheus, startServerSync, type Alertmanager, type Prometheus } from './components.js';
import { DEMO_TARGET_HOST } from './demo.js';
import { freePorts } from './net.js';
import { waitForConfigApplied } from './config-applied.js';
import type { Stack } from './stack.js';

export interface SecondInstall {
  namespace: string;
  prometheus: Prometheus;
  alertmanager: Alertmanager;
  settings: GlobalSettings;
  operatorLogFile: string;
  stop(): Promise<void>;
}

export interface SecondInstallOptions {
  /** Install namespace (created). */
  namespace: string;
  /** Extra operator flags: the install's scope (--selector, --watch-namespaces). */
  operatorArgs: string[];
  /** This install's cluster-wide default recipients (distinct from the stack's, to tell them apart). */
  defaultRecipients: string[];
  log?: (message: string) => void;
}

/** Starts the install and waits until both its servers run its operator's first config. Stops what it started if that fails. */
export async function startSecondInstall(stack: Stack, o: SecondInstallOptions): Promise<SecondInstall> {
  const log = o.log ?? (() => undefined);
  const dir = join(stack.stateDir, o.namespace);
  await mkdir(dir, { recursive: true });
  const started: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop(5000);
  };
  try {
    log(`second install ${o.namespace}: RBAC, ServiceAccount kubeconfigs ...`);
    await installRbac(stack.cluster, o.namespace);
    const kubeconfigs = await vigilKubeconfigs(stack.cluster, o.namespace);
    const [promPort, amPort, operatorPort, promSyncPort, amSyncPort] = await freePorts(5);
    const prometheus = await startPrometheus({ dir: join(dir, 'prometheus'), port: promPort!, extraHosts: [`127.0.0.1 ${DEMO_TARGET_HOST}`] });
    started.push(prometheus.process);
    const alertmanager = await startAlertmanager({ dir: join(dir, 'alertmanager'), port: amPort! });
    started.push(alertmanager.process);
    const settings: GlobalSettings = {
      ...stack.settings,
      defaultRecipients: o.defaultRecipients,
      alertmanagerTargets: [`127.0.0.1:${amPort}`],
      prometheusUrl: prometheus.url,
      alertmanagerUrl: alertmanager.url,
      scrapeCredentialsDir: scrapeCredentialsDirOf(prometheus),
      selfScrapeJobs: [
        { job_name: SELF_SCRAPE_JOBS.prometheus, static_configs: [{ targets: [`127.0.0.1:${promPort}`] }] },
        { job_name: SELF_SCRAPE_JOBS.operator, static_configs: [{ targets: [`127.0.0.1:${operatorPort}`] }] },
      ],
      kubernetesSd: { apiServer: stack.cluster.server, kubeconfigFile: kubeconfigs.prometheus },
      externalLabels: { cluster: 'local', install: o.namespace },
    };
    const settingsFile = join(dir, 'operator-settings.yaml');
    await writeFile(settingsFile, `# GlobalSettings of the second install ${o.namespace} (hack/local-stack/second-install.ts)\n${stringify(settings)}`);
    const operatorLogFile = join(dir, 'operator.log');
    log(`second install ${o.namespace}: operator ${o.operatorArgs.join(' ')}, sync sidecars ...`);
    started.push(
      await startOperator({
        logFile: operatorLogFile,
        kubeconfig: kubeconfigs.operator,
        namespace: o.namespace,
        settingsFile,
        prometheusUrl: prometheus.url,
        listenPort: operatorPort!,
        extraArgs: o.operatorArgs,
      }),
    );
    const sidecar = { logDir: dir, namespace: o.namespace };
    started.push(await startServerSync('prometheus', prometheus, { ...sidecar, kubeconfig: kubeconfigs.prometheus, listenPort: promSyncPort! }));
    started.push(await startServerSync('alertmanager', alertmanager, { ...sidecar, kubeconfig: kubeconfigs.alertmanager, listenPort: amSyncPort! }));
    await waitForConfigApplied(stack.cluster, o.namespace, {
      check: () => {
        for (const p of started) diedCheck(p)();
      },
    });
    log(`second install ${o.namespace}: both servers run its operator's config`);
    return { namespace: o.namespace, prometheus, alertmanager, settings, operatorLogFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
