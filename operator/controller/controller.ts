// The Vigil controller: informers over MonitoredServices and the two generated objects, one
// coalescing queue, and a level-triggered reconcile that rebuilds the whole config from the caches.
// Only the leader writes; followers keep their caches warm so a takeover is immediate.
import type { KubernetesListObject, KubernetesObject, V1ConfigMap, V1ObjectMeta, V1OwnerReference, V1Secret, V1Service } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, PLURAL, type InstallStatus } from '../api/schema.js';
import { OBJECT_NAMES, SCRAPE_CREDENTIALS_READER } from '../rbac.js';
import { clusterRoleName } from '../rbac-objects.js';
import type { GlobalSettings, RenderedConfig, ValidationResult } from '../render/types.js';
import { routeReceiver } from '../render/alertmanager.js';
import { formatIssue } from '../validate/index.js';
import { describeApiError, isConflict, isNotFound, type KubeClients } from '../kube/client.js';
import { MONITORED_SERVICE_REF, createEvent, decodeSecretData, patchMonitoredServiceStatus, readConfigMapOrUndefined, readSecretOrUndefined, writeConfigMap, writeSecret } from '../kube/objects.js';
import type { Logger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { ANNOTATIONS, combineShardReports, readReplicaReports, readSyncReport, staleReplicaReportKeys, type SyncReport } from './annotations.js';
import { ResilientInformer } from './informers.js';
import { forEachLimited } from './limited.js';
import { LeaderElector } from './leader.js';
import { planReconcile, type RawMonitoredService, type ReconcileInput, type ReconcilePlan, type StatusUpdate } from './plan.js';
import { CoalescingQueue } from './queue.js';
import { objectKey, ServiceCache, settingsHash } from '../assemble/service-cache.js';
import { UnchangedStatuses } from './status-memo.js';
import { ReconcileMemo } from './plan-memo.js';
import { lastValidInForce, lastValidObjects } from './plan.js';
import { describeInstall, installRecord } from './install-scope.js';
import { InstallLiveness } from './install-liveness.js';
import { PrometheusConfigPoller } from './prometheus-config.js';
import { type RecordWindow, TargetsPoller } from './targets.js';
import { recordWindow } from '../render/rules.js';
import { AlertmanagerPoller } from './alertmanager-poller.js';
import { serviceInfo, type ServiceInfo } from './selection.js';
import { configApplyState, REASONS, type TargetsUnavailable } from './conditions.js';
import { ScrapeCredentialSources } from './scrape-credentials.js';
import { encodeFileSet, type FileSet } from '../assemble/config-bundle.js';
import { partitionWrites, type PartitionedPrometheusConfig } from '../assemble/partitioned-config.js';
import { PARTITION_OF_LABEL, parseReplicaAnnotation, replicaAnnotation, shardObjectName, shardUrl } from '../contract.js';
import { ShardAssignment } from '../assemble/shards.js';
import { handoverAnnotations, movingNamespaces, nextHandover, readHandoverState, removedShardObjects, type HandoverState } from '../assemble/handover.js';
import type { MonitoredService } from '../api/schema.js';
import { chooseLayout, LAYOUT_QUIET_MS, PLAIN_REPORT_ANNOTATIONS, type LayoutDecision } from './layout-gate.js';
import { MERGE_PATCH } from '../kube/client.js';
import { createHash } from 'node:crypto';
import { TEST_EMAIL_ANNOTATION, TestEmailSender, type TestEmailObject } from './test-email.js';
import { RunTimeIsolation, type ObjectFacts } from './isolation.js';
import { handoverSkipped, testSeamHintRenderer } from './test-seam.js';
import { renderServicePieces } from '../render/index.js';
import { LABEL_MONITORED_SERVICE, LABEL_NAMESPACE } from '../render/names.js';
import { scrapeErrorLabels } from './scrape-error-metric.js';
import { validateMonitoredService } from '../validate/index.js';

export const FIELD_MANAGER = 'vigil-operator';
export const COMPONENT = 'vigil-operator';

const GENERATED_LABELS = { 'app.kubernetes.io/managed-by': FIELD_MANAGER, 'app.kubernetes.io/part-of': 'vigil' };

export interface ControllerOptions {
  clients: KubeClients;
  /** Where the ConfigMap, Secret and Lease live. */
  installNamespace: string;
  /** Empty: all namespaces. */
  watchNamespaces: string[];
  /**
   * Label selector on MonitoredServices (string form, already checked with parseLabelSelector),
   * passed to the API server's list and watch: this install's objects (install-scope.ts). Empty:
   * every MonitoredService in the watched namespaces.
   */
  selector?: string | undefined;
  /** GlobalSettings without SMTP credentials (those come from smtpSecretName). */
  settings: GlobalSettings;
  smtpSecretName?: string | undefined;
  prometheusUrl?: string | undefined;
  /** Polled for what Alertmanager runs (alertmanager-poller.ts); without it ConfigApplied trusts the sidecar's last report. */
  alertmanagerUrl?: string | undefined;
  identity: string;
  /**
   * Owner of the generated ConfigMap, Secret and Lease: they are garbage-collected when it is deleted (the chart
   * passes its settings ConfigMap, so `helm uninstall` leaves none of them behind; issue #9).
   */
  ownerReferences?: V1OwnerReference[] | undefined;
  leaderElect: boolean;
  log: Logger;
  metrics: OperatorMetrics;
  debounceMs?: number;
  maxDelayMs?: number;
  targetsIntervalMs?: number;
  statusConcurrency?: number;
  /** Lease timing (tests shorten nothing by default; kept configurable for them). */
  lease?: { durationSeconds?: number; renewIntervalMs?: number; retryIntervalMs?: number };
  /**
   * A MonitoredService claimed by another install whose Lease is missing or has not changed for this
   * long (ms) is taken over (install-liveness.ts). Default ORPHAN_AFTER_MS.
   */
  orphanAfterMs?: number;
  /** How often the Leases of installs holding claims are read (ms); default 5 s. */
  installLivenessIntervalMs?: number;
  /**
   * Write the Prometheus config as partitions (docs/contract.md): the main ConfigMap and one
   * ConfigMap per partition. Needs the Prometheus sidecar's `--partitions`, its RBAC
   * (PROMETHEUS_SYNC_PARTITION_RULES) and delete of ConfigMaps for the operator (OPERATOR_PARTITION_RULES).
   */
  configPartitions?: boolean;
  /**
   * Pods of the Prometheus StatefulSet (per shard) and of the Alertmanager StatefulSet, each with a
   * sidecar reporting under its own keys (annotations.ts readReplicaReports): a config counts as
   * applied only when every one of them reports it. Default 1.
   */
  prometheusReplicas?: number;
  alertmanagerReplicas?: number;
  /** With configPartitions: the quiet period of the layout handshake (ms, layout-gate.ts); default LAYOUT_QUIET_MS. */
  layoutQuietMs?: number;
  /**
   * Prometheus shards (`--prometheus-shards`, docs/contract.md "Shards"): each namespace's services
   * go to one shard (assemble/shards.ts), each shard's config is a partitioned config of its own in
   * the objects named by shardObjectName. 1 (the default): one Prometheus, nothing changes. More
   * needs configPartitions; every shard's sidecar runs with `--partitions` (no layout handshake).
   */
  prometheusShards?: number;
}

/** The default of --orphan-after: longer than a rolling update of the operator takes, short enough that an uninstalled install's services are not left unmonitored for long. */
export const ORPHAN_AFTER_MS = 2 * 60_000;

type MsObject = KubernetesObject & RawMonitoredService;

/** What run-time isolation reads of an object: its generation and its ConfigApplied (isolation.ts ObjectFacts). */
function objectFacts(o: RawMonitoredService, result: ValidationResult, validate: Parameters<typeof lastValidInForce>[1]): ObjectFacts {
  const valid = result.ok;
  const receiver = result.ok && (result.service.spec.notify?.email?.to.length ?? 0) > 0 ? routeReceiver(result.service) : undefined;
  const generation = o.metadata?.generation ?? 0;
  const applied = o.status?.conditions?.find((c) => c.type === 'ConfigApplied');
  const atGeneration = applied?.observedGeneration === generation;
  const rejected = atGeneration && (applied.reason === REASONS.rejectedByPrometheus || applied.reason === REASONS.rejectedByAlertmanager);
  const facts: ObjectFacts = {
    key: `${o.metadata?.namespace}/${o.metadata?.name}`,
    generation,
    confirmed: atGeneration && applied.status === 'True',
    valid,
    ...(receiver !== undefined ? { receiver } : {}),
    ...(rejected ? { rejected: { reason: applied.reason, message: applied.message } } : {}),
  };
  // The generation that ran before it was refused, recorded as the last valid one (plan.ts lastValidOf).
  const inForce = rejected ? lastValidInForce(o, validate)?.service : undefined;
  return inForce ? { ...facts, inForce } : facts;
}

/** Written by `kubectl apply` on every object: a JSON copy of the whole object the controller never reads. */
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What the caches keep of each object: everything but managedFields and kubectl's last-applied
 * copy, which the controller never reads and which together are about as large as the spec.
 */
export function trimCachedObject(obj: KubernetesObject): void {
  const metadata = obj.metadata;
  if (!metadata) return;
  delete metadata.managedFields;
  if (metadata.annotations && LAST_APPLIED_ANNOTATION in metadata.annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _dropped, ...rest } = metadata.annotations;
    metadata.annotations = rest;
  }
}

/** True when `owners` are wanted but `metadata` does not carry each of them (by uid): the object needs a write. */
export function lacksOwner(metadata: V1ObjectMeta | undefined, owners: V1OwnerReference[] | undefined): boolean {
  return (owners ?? []).some((o) => !(metadata?.ownerReferences ?? []).some((r) => r.uid === o.uid));
}

/**
 * Status patches (and their Events) in flight at once. The writes are small but each waits for an
 * etcd commit: after a burst, 2,000 services going ConfigApplied are 4,000 requests.
 */
const DEFAULT_STATUS_CONCURRENCY = 16;

/** Re-exported for callers that knew it here; config-bundle.ts owns the storage limits. */
export { MAX_OBJECT_DATA_BYTES } from '../assemble/config-bundle.js';

/** What the Service cache keeps: the fields selection.ts reads (labels, selector, clusterIP, ports). */
export function trimService(obj: V1Service): void {
  if (obj.metadata) {
    delete obj.metadata.managedFields;
    delete obj.metadata.annotations;
  }
  delete obj.status;
  if (obj.spec) {
    const { selector, clusterIP, ports } = obj.spec;
    obj.spec = { ...(selector ? { selector } : {}), ...(clusterIP ? { clusterIP } : {}), ...(ports ? { ports } : {}) };
  }
}

export class Controller {
  private readonly serviceInformers: ResilientInformer<MsObject>[];
  /**
   * core/v1 Services of the watched namespaces, only to say what a selector and port find
   * (selection.ts). Not part of the sync gate: without them (no RBAC yet) status just says less.
   */
  private readonly k8sServiceInformers: ResilientInformer<V1Service>[];
  private readonly configMapInformer: ResilientInformer<V1ConfigMap>;
  /** The main objects of Prometheus shards 1 .. N-1 (shard 0's is configMapInformer's), by shard index - 1. */
  private readonly shardMainInformers: ResilientInformer<V1ConfigMap>[] = [];
  /** The number of Prometheus shards (ControllerOptions.prometheusShards). */
  private readonly shards: number;
  /** With configPartitions: the partition ConfigMaps, metadata only (a deleted or edited one is written again). */
  private readonly partitionInformer: ResilientInformer<V1ConfigMap> | undefined;
  /** The resourceVersion of each partition object as this operator last wrote it: another means someone else changed it. */
  private readonly partitionVersions = new Map<string, string>();
  private readonly secretInformer: ResilientInformer<V1Secret>;
  private readonly smtpInformer: ResilientInformer<V1Secret> | undefined;
  private readonly queue: CoalescingQueue;
  private readonly elector: LeaderElector;
  /** Which installs holding claims on this install's objects are gone. */
  private readonly liveness: InstallLiveness;
  private readonly poller: TargetsPoller | undefined;
  /** Each shard's pollers, by shard index (one entry without shards); empty without --prometheus-url. */
  private readonly shardPollers: { targets: TargetsPoller; config: PrometheusConfigPoller }[] = [];
  /** Which shard each namespace's services are on (one shard: all on 0), and during a handover which shards render them. */
  private assignment: ShardAssignment;
  /**
   * With shards: the handover state as this leader last read or wrote it on shard 0's main object
   * (assemble/handover.ts); read again after a change of leader.
   */
  private handoverState: HandoverState | undefined;
  /** Wakes a reconcile when the handover's bound has passed. */
  private handoverTimer: NodeJS.Timeout | undefined;
  /** The objects of shards beyond the count were looked for since the last handover ended (deleteRemovedShards). */
  private removedShardsDeleted = false;
  private readonly amPoller: AlertmanagerPoller | undefined;
  private readonly promConfigPoller: PrometheusConfigPoller | undefined;
  private readonly log: Logger;
  /** Validation and rendered pieces per (uid, generation, settings): a reconcile redoes only what changed. */
  private readonly serviceCache: ServiceCache;
  /** Objects whose status came out unchanged, and from what (plan.ts StatusInputs). */
  private readonly statuses = new UnchangedStatuses();
  private readonly planMemo = new ReconcileMemo();
  /** Services whose pieces a server refused, and the bisection finding them (isolation.ts, issue 22). */
  private readonly isolation = new RunTimeIsolation();
  /**
   * Statuses we wrote whose watch event may not have reached the cache yet, keyed by uid:
   * without this a quick second reconcile would see the old status and repeat the Events.
   */
  private readonly writtenStatus = new Map<string, { fromResourceVersion: string; object: MsObject }>();
  /** Last sidecar reports seen per server and replica (`prometheus/1`), only to count reloads for the metric. */
  private readonly lastReports = new Map<string, SyncReport>();
  /** When this operator last removed the reports of replicas beyond the count from an object (by object name, ms since the epoch). */
  private readonly staleCleared = new Map<string, number>();
  private started = false;
  /** The install is being removed (its Lease is marked, leader.ts): nothing is written any more. */
  private removed = false;
  private lastRendered: RenderedConfig | undefined;
  /** The last "too large" message logged, so a burst of reconciles logs it once. */
  private lastUndeliverable: string | undefined;
  /** This install's scope, recorded in status.install of every object it reconciles. */
  private readonly install: InstallStatus;
  /** Objects held by another install already logged (namespace/name -> that install), so each is logged once. */
  private readonly loggedOtherInstall = new Map<string, string>();
  /** The Secrets/ConfigMaps scrape jobs read, watched one by one (scrape-credentials.ts). */
  private readonly credentialSources: ScrapeCredentialSources;
  /** Hash of the scrape-credentials Secret's files as last written or read. */
  private credentialsHash: string | undefined;
  /** Test emails asked for with the vigil.dev/test-email annotation (test-email.ts). */
  private readonly testEmails: TestEmailSender;
  /** Wakes a reconcile when the earliest discovery grace ends (wakeAtGraceEnd). */
  private graceTimer: NodeJS.Timeout | undefined;
  /** The layout handshake (layout-gate.ts): when the plain reports were last removed, the last reason logged, the recheck timer. */
  private layoutCleared: number | undefined;
  private layoutReason: string | undefined;
  private layoutTimer: NodeJS.Timeout | undefined;
  /** No partition object is left since this operator last wrote the one-object layout (deletePartitionObjects). */
  private partitionObjectsDeleted = false;

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.log;
    this.shards = opts.prometheusShards ?? 1;
    if (this.shards > 1 && !opts.configPartitions) throw new Error('Prometheus shards need the partitioned config (--config-partitions)');
    this.serviceCache = new ServiceCache(validateMonitoredService, renderServicePieces, testSeamHintRenderer(), opts.configPartitions ?? false);
    this.serviceCache.setShards(this.shards);
    this.assignment = new ShardAssignment(this.shards);
    this.testEmails = new TestEmailSender({
      alertmanagerUrl: opts.alertmanagerUrl,
      writeStatus: async (namespace, name, testEmail) => {
        try {
          await patchMonitoredServiceStatus(opts.clients, namespace, name, { status: { testEmail } }, FIELD_MANAGER);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      },
      recordEvent: (o, type, reason, message) => this.recordEvents({ namespace: o.namespace, name: o.name, uid: o.uid, events: [{ type, reason, message }] }),
    });
    const { kc, custom, core } = opts.clients;
    const onChange = () => this.queue.add();
    const group = API_GROUP;
    const version = API_VERSION;
    const plural = PLURAL;

    const namespaces = opts.watchNamespaces.length > 0 ? opts.watchNamespaces : [undefined];
    const labelSelector = opts.selector?.trim() ? opts.selector.trim() : undefined;
    this.install = installRecord(opts.installNamespace, labelSelector ?? '', opts.watchNamespaces);
    this.serviceInformers = namespaces.map(
      (ns) =>
        new ResilientInformer<MsObject>({
          kc,
          name: ns ? `monitoredservices/${ns}` : 'monitoredservices',
          path: ns ? `/apis/${group}/${version}/namespaces/${ns}/${plural}` : `/apis/${group}/${version}/${plural}`,
          ...(labelSelector ? { labelSelector } : {}),
          list: () =>
            (ns
              ? custom.listNamespacedCustomObject({ group, version, plural, namespace: ns, ...(labelSelector ? { labelSelector } : {}) })
              : custom.listClusterCustomObject({ group, version, plural, ...(labelSelector ? { labelSelector } : {}) })) as Promise<KubernetesListObject<MsObject>>,
          onChange,
          trim: trimCachedObject,
          log: this.log,
        }),
    );
    this.k8sServiceInformers = namespaces.map(
      (ns) =>
        new ResilientInformer<V1Service>({
          kc,
          name: ns ? `services/${ns}` : 'services',
          path: ns ? `/api/v1/namespaces/${ns}/services` : '/api/v1/services',
          list: () => (ns ? core.listNamespacedService({ namespace: ns }) : core.listServiceForAllNamespaces()),
          onChange,
          trim: trimService,
          log: this.log,
        }),
    );
    const namespace = opts.installNamespace;
    const byName = (name: string) => `metadata.name=${name}`;
    this.configMapInformer = new ResilientInformer<V1ConfigMap>({
      kc,
      name: 'configmap',
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      fieldSelector: byName(OBJECT_NAMES.prometheusConfigMap),
      list: () => core.listNamespacedConfigMap({ namespace, fieldSelector: byName(OBJECT_NAMES.prometheusConfigMap) }),
      onChange: (_kind, obj) => {
        if (obj) this.countReloads('prometheus', obj.metadata?.annotations);
        onChange();
      },
      trim: trimCachedObject,
      log: this.log,
    });
    for (let shard = 1; shard < this.shards; shard++) {
      const name = shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard);
      this.shardMainInformers.push(
        new ResilientInformer<V1ConfigMap>({
          kc,
          name: `configmap-shard-${shard}`,
          path: `/api/v1/namespaces/${namespace}/configmaps`,
          fieldSelector: byName(name),
          list: () => core.listNamespacedConfigMap({ namespace, fieldSelector: byName(name) }),
          onChange: () => onChange(),
          trim: trimCachedObject,
          log: this.log,
        }),
      );
    }
    if (opts.configPartitions) {
      const labelSelector =
        this.shards > 1
          ? `${PARTITION_OF_LABEL} in (${Array.from({ length: this.shards }, (_, shard) => shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard)).join(',')})`
          : `${PARTITION_OF_LABEL}=${OBJECT_NAMES.prometheusConfigMap}`;
      this.partitionInformer = new ResilientInformer<V1ConfigMap>({
        kc,
        name: 'config-partitions',
        path: `/api/v1/namespaces/${namespace}/configmaps`,
        labelSelector,
        list: () => core.listNamespacedConfigMap({ namespace, labelSelector }),
        onChange: () => onChange(),
        // Only the metadata is read (config-hash, owners, resourceVersion): the files stay out of memory.
        trim: (cm) => {
          trimCachedObject(cm);
          delete cm.data;
          delete cm.binaryData;
        },
        log: this.log,
      });
    }
    this.secretInformer = new ResilientInformer<V1Secret>({
      kc,
      name: 'secret',
      path: `/api/v1/namespaces/${namespace}/secrets`,
      fieldSelector: byName(OBJECT_NAMES.alertmanagerSecret),
      list: () => core.listNamespacedSecret({ namespace, fieldSelector: byName(OBJECT_NAMES.alertmanagerSecret) }),
      onChange: (_kind, obj) => {
        if (obj) this.countReloads('alertmanager', obj.metadata?.annotations);
        onChange();
      },
      trim: trimCachedObject,
      log: this.log,
    });
    if (opts.smtpSecretName) {
      const smtp = opts.smtpSecretName;
      this.smtpInformer = new ResilientInformer<V1Secret>({
        kc,
        name: 'smtp-secret',
        path: `/api/v1/namespaces/${namespace}/secrets`,
        fieldSelector: byName(smtp),
        list: () => core.listNamespacedSecret({ namespace, fieldSelector: byName(smtp) }),
        onChange,
        log: this.log,
      });
    }

    this.queue = new CoalescingQueue({
      debounceMs: opts.debounceMs ?? 250,
      maxDelayMs: opts.maxDelayMs ?? 2000,
      run: () => this.reconcile(),
      onError: (err, attempt) => this.log.warn('reconcile failed; retrying', { error: describeApiError(err), attempt }),
      onDepth: (depth) => opts.metrics.workqueueDepth.set(depth),
    });

    // The Lease is also how other installs know this one is alive (install-liveness.ts): it is renewed
    // with or without leader election; without it, this process writes whether or not it holds it.
    this.elector = new LeaderElector(opts.clients, {
      namespace,
      name: OBJECT_NAMES.leaderLease,
      identity: opts.identity,
      ownerReferences: opts.ownerReferences,
      ...(opts.lease?.durationSeconds !== undefined ? { leaseDurationSeconds: opts.lease.durationSeconds } : {}),
      ...(opts.lease?.renewIntervalMs !== undefined ? { renewIntervalMs: opts.lease.renewIntervalMs } : {}),
      ...(opts.lease?.retryIntervalMs !== undefined ? { retryIntervalMs: opts.lease.retryIntervalMs } : {}),
      onStartedLeading: () => {
        if (!opts.leaderElect) return;
        opts.metrics.leader.set(1);
        this.queue.add();
      },
      onStoppedLeading: () => {
        if (opts.leaderElect) opts.metrics.leader.set(0);
        // Another leader may move the handover on: read it again from the object when leading again.
        this.handoverState = undefined;
        this.removedShardsDeleted = false;
        // Only the leader's scrape errors are current: a follower's would go stale.
        opts.metrics.scrapeErrors.reset();
      },
      // The install is being removed (`vigil uninstall`): no write from now on, for good; resolves once
      // the pass in flight has finished, so the remover's statuses are the last word.
      onRemoved: async () => {
        this.removed = true;
        await this.queue.idle();
      },
      log: this.log,
    });
    this.liveness = new InstallLiveness({
      clients: opts.clients,
      leaseName: OBJECT_NAMES.leaderLease,
      orphanAfterMs: opts.orphanAfterMs ?? ORPHAN_AFTER_MS,
      intervalMs: opts.installLivenessIntervalMs ?? 5000,
      onChange,
      log: this.log,
    });
    this.credentialSources = new ScrapeCredentialSources(kc, core, onChange, this.log, {
      namespace: opts.installNamespace,
      serviceAccount: OBJECT_NAMES.operatorServiceAccount,
      readerClusterRole: clusterRoleName(SCRAPE_CREDENTIALS_READER, opts.installNamespace),
    });
    // With shards, one pair of pollers per shard's Prometheus (--prometheus-url is a template with {shard}); shard 0's are `poller` and `promConfigPoller`.
    for (let shard = 0; opts.prometheusUrl && shard < this.shards; shard++) {
      const url = shardUrl(opts.prometheusUrl, shard);
      this.shardPollers.push({
        targets: new TargetsPoller(url, opts.targetsIntervalMs ?? 10_000, onChange, this.log, () => this.recordWindows()),
        config: new PrometheusConfigPoller(url, opts.targetsIntervalMs ?? 10_000, onChange, this.log),
      });
    }
    this.poller = this.shardPollers[0]?.targets;
    this.promConfigPoller = this.shardPollers[0]?.config;
    if (opts.alertmanagerUrl) this.amPoller = new AlertmanagerPoller(opts.alertmanagerUrl, opts.targetsIntervalMs ?? 10_000, onChange, this.log);
  }

  private get informers(): ResilientInformer<KubernetesObject>[] {
    return [
      ...this.serviceInformers,
      this.configMapInformer,
      ...this.shardMainInformers,
      this.secretInformer,
      ...(this.smtpInformer ? [this.smtpInformer] : []),
      ...(this.partitionInformer ? [this.partitionInformer] : []),
    ] as ResilientInformer<KubernetesObject>[];
  }

  isLeader(): boolean {
    if (this.removed) return false;
    return this.opts.leaderElect ? this.elector.isLeader() : this.started;
  }

  /** Whether this install's Lease was read marked removed: this process writes nothing any more. */
  isRemoved(): boolean {
    return this.removed;
  }

  /** Ready once every cache was listed at least once (followers too). */
  ready(): boolean {
    return this.started && this.informers.every((i) => i.hasSynced);
  }

  /** The config of the last reconcile (tests, debugging). */
  get lastRenderedConfig(): RenderedConfig | undefined {
    return this.lastRendered;
  }

  async start(): Promise<void> {
    this.started = true;
    // Informers that fail to connect now retry in the background; start() never throws for that.
    await Promise.all([...this.informers, ...this.k8sServiceInformers].map((i) => i.start().catch(() => undefined)));
    this.elector.start();
    if (!this.opts.leaderElect) this.opts.metrics.leader.set(1);
    this.liveness.start();
    for (const pollers of this.shardPollers) {
      pollers.targets.start();
      pollers.config.start();
    }
    this.amPoller?.start();
    this.queue.add();
  }

  /** Graceful stop: no new reconciles, wait for the in-flight one, release the Lease. */
  async stop(): Promise<void> {
    await this.queue.shutdown();
    // After the in-flight reconcile, which may have set it anew.
    if (this.graceTimer) clearTimeout(this.graceTimer);
    if (this.layoutTimer) clearTimeout(this.layoutTimer);
    if (this.handoverTimer) clearTimeout(this.handoverTimer);
    this.graceTimer = undefined;
    this.handoverTimer = undefined;
    for (const pollers of this.shardPollers) {
      pollers.targets.stop();
      pollers.config.stop();
    }
    this.amPoller?.stop();
    await this.liveness.stop();
    await this.elector.release();
    this.opts.metrics.leader.set(0);
    this.opts.metrics.scrapeErrors.reset();
    await this.credentialSources.stop();
    await Promise.all([...this.informers, ...this.k8sServiceInformers].map((i) => i.stop()));
    this.started = false;
  }

  private countReloads(target: 'prometheus' | 'alertmanager', annotations: Record<string, string> | undefined): void {
    const replicas = (target === 'prometheus' ? this.opts.prometheusReplicas : this.opts.alertmanagerReplicas) ?? 1;
    for (let replica = 0; replica < replicas; replica++) this.countReplicaReloads(target, replica, readSyncReport(annotations, replica));
  }

  private countReplicaReloads(target: 'prometheus' | 'alertmanager', replica: number, report: SyncReport): void {
    const key = `${target}/${replica}`;
    const last = this.lastReports.get(key);
    this.lastReports.set(key, report);
    if (!last) return; // first sight after start: not a reload we witnessed
    if (report.appliedHash && (report.appliedHash !== last.appliedHash || report.appliedAt !== last.appliedAt)) {
      this.opts.metrics.reloads.inc({ target, result: 'success' });
    }
    if (report.reloadError && (report.failedHash !== last.failedHash || report.reloadError !== last.reloadError)) {
      this.opts.metrics.reloads.inc({ target, result: 'failure' });
    }
  }

  /**
   * The grace-clock windows of the valid services with a down alert (render/rules.ts recordWindow),
   * for the targets poll's query: validated through the service cache, as the next reconcile will.
   */
  private recordWindows(): RecordWindow[] {
    // The reconcile's settings exactly: the service cache keys its entries by them.
    const settings = this.settingsWithCredentials(false);
    const hash = settingsHash(settings);
    const windows = new Map<number, RecordWindow>();
    for (const raw of this.currentServices()) {
      const result = this.serviceCache.resolve(raw, settings, hash);
      if (!result.ok || !result.service.spec.downAlert.enabled) continue;
      const window = recordWindow(result.service, settings);
      windows.set(window.windowMs, window);
    }
    return [...windows.values()];
  }

  private currentServices(): MsObject[] {
    const objects = this.serviceInformers.flatMap((i) => [...i.list()]);
    const liveKeys = new Set<string>();
    const result = objects.map((o) => {
      liveKeys.add(objectKey(o));
      // The generation kept in force while the current one is invalid has its own entry (plan.ts).
      for (const kept of lastValidObjects(o)) liveKeys.add(objectKey(kept));
      return this.withWrittenStatus(o);
    });
    this.serviceCache.prune(liveKeys);
    return result;
  }

  /** The object as this operator last wrote its status, while the cache has not caught up. */
  private withWrittenStatus(o: MsObject): MsObject {
    const uid = o.metadata?.uid ?? '';
    const written = this.writtenStatus.get(uid);
    if (written) {
      if (written.fromResourceVersion === o.metadata?.resourceVersion) return written.object;
      this.writtenStatus.delete(uid); // the cache caught up (or moved on)
    }
    return o;
  }

  /** Objects carrying the test-email annotation that this install reconciles, with the status just written. */
  private testEmailObjects(plan: ReconcilePlan): TestEmailObject[] {
    const elsewhere = new Set(plan.otherInstall.map((o) => `${o.namespace}/${o.name}`));
    const objects: TestEmailObject[] = [];
    for (const informer of this.serviceInformers) {
      for (const cached of informer.list()) {
        if (cached.metadata?.annotations?.[TEST_EMAIL_ANNOTATION] === undefined) continue;
        const o = this.withWrittenStatus(cached);
        const namespace = o.metadata?.namespace ?? '';
        const name = o.metadata?.name ?? '';
        if (elsewhere.has(`${namespace}/${name}`)) continue;
        objects.push({
          namespace,
          name,
          uid: o.metadata?.uid ?? '',
          annotations: o.metadata?.annotations,
          spec: o.spec,
          testEmail: o.status?.testEmail,
          configApplied: o.status?.conditions?.find((c) => c.type === 'ConfigApplied'),
        });
      }
    }
    return objects;
  }

  /** `warn`: log a missing SMTP Secret (once per reconcile, not at every targets poll). */
  private settingsWithCredentials(warn = true): GlobalSettings {
    const settings = this.opts.settings;
    if (!this.smtpInformer || !this.opts.smtpSecretName) return settings;
    const secret = this.smtpInformer.get(this.opts.smtpSecretName, this.opts.installNamespace);
    if (!secret) {
      if (warn)
        this.log.warn('SMTP credentials Secret not found; rendering without SMTP authentication', {
          secret: `${this.opts.installNamespace}/${this.opts.smtpSecretName}`,
        });
      return settings;
    }
    const data = decodeSecretData(secret);
    return {
      ...settings,
      smtp: {
        ...settings.smtp,
        ...(data.username !== undefined ? { authUsername: data.username } : {}),
        ...(data.password !== undefined ? { authPassword: data.password } : {}),
      },
    };
  }

  private alertmanagerUnreachable(): string | undefined {
    const failure = this.amPoller?.failure;
    if (!failure) return undefined;
    return `Alertmanager at ${this.amPoller!.url} does not answer since ${failure.since} (${failure.error}): alerts may not be delivered, and what it runs is unknown`;
  }

  /** Why target health is not known from shard `shard`'s Prometheus (0 without shards); undefined when it is. */
  private targetsUnavailable(shard = 0): TargetsUnavailable | undefined {
    const poller = this.shardPollers[shard]?.targets;
    if (!poller) {
      return { reason: REASONS.targetsUnknown, message: 'target health is not known: the operator runs without --prometheus-url' };
    }
    const failure = poller.failure;
    if (!failure) return undefined;
    const which = this.shards > 1 ? `Prometheus shard ${shard}` : 'Prometheus';
    return {
      reason: REASONS.prometheusUnreachable,
      message: `${which} at ${poller.url} does not answer since ${failure.since} (${failure.error}): target health unknown, and nothing may be scraped or alerting`,
    };
  }

  /** The targets poller of a namespace's shard (the one poller without shards). */
  private pollerOf(namespace: string): TargetsPoller | undefined {
    return this.shards > 1 ? this.shardPollers[this.assignment.shardOf(namespace)]?.targets : this.poller;
  }

  /** ReconcileInput.shards: each shard's report and polls, as its services' status reads them. */
  private shardObservations(): ReconcileInput['shards'] {
    if (this.shards === 1) return undefined;
    const mains = this.shardMains();
    return {
      shardOf: (namespace) => this.assignment.shardOf(namespace),
      of: mains.map((cm, shard) => ({
        name: `Prometheus shard ${shard} (ConfigMap ${shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard)})`,
        prometheus: readReplicaReports(cm?.metadata?.annotations, this.opts.prometheusReplicas ?? 1),
        prometheusRunning: this.shardPollers[shard]?.config.running,
        targetsUnavailable: this.targetsUnavailable(shard),
      })),
    };
  }

  /** Services per namespace from the cache, or undefined (for every namespace) until it synced. */
  private servicesByNamespace(): ((namespace: string) => readonly ServiceInfo[] | undefined) | undefined {
    if (!this.k8sServiceInformers.every((i) => i.hasSynced)) return undefined;
    const byNamespace = new Map<string, ServiceInfo[]>();
    for (const informer of this.k8sServiceInformers) {
      for (const svc of informer.list()) {
        const ns = svc.metadata?.namespace ?? '';
        const list = byNamespace.get(ns) ?? [];
        list.push(serviceInfo(svc as Parameters<typeof serviceInfo>[0]));
        byNamespace.set(ns, list);
      }
    }
    return (namespace) => byNamespace.get(namespace) ?? [];
  }

  /** One level-triggered pass. Throws to make the queue retry with backoff. */
  private async reconcile(): Promise<void> {
    if (!this.isLeader()) return;
    if (!this.informers.every((i) => i.hasSynced)) {
      // Rendering from an incomplete cache would drop services from the config.
      this.log.debug('caches not synced yet; reconcile deferred', {});
      return;
    }
    const endTimer = this.opts.metrics.reconcileDuration.startTimer();
    let result = 'success';
    try {
      const configMap = this.configMapInformer.get(OBJECT_NAMES.prometheusConfigMap, this.opts.installNamespace);
      const secret = this.secretInformer.get(OBJECT_NAMES.alertmanagerSecret, this.opts.installNamespace);
      // Shards are new objects read by sidecars with --partitions only: no layout handshake.
      const layout = this.opts.configPartitions && this.shards === 1 ? this.decideLayout(configMap?.metadata?.annotations) : undefined;
      if (this.shards > 1) this.followHandoverState(configMap);
      const settings = this.settingsWithCredentials();
      this.credentialSources.beginPass();
      const objects = this.currentServices();
      this.exportScrapeErrors(objects);
      const reports = { prometheus: this.prometheusReport(configMap), alertmanager: readReplicaReports(secret?.metadata?.annotations, this.opts.alertmanagerReplicas ?? 1) };
      const cached = { ...this.serviceCache.forReconcile(settings), statusMemo: this.statuses, memo: this.planMemo };
      // Validation is cached per generation: planReconcile below gets the same results for free.
      const quarantined = this.isolation.observe(
        objects.map((o) => objectFacts(o, cached.validate(o), cached.validate)),
        reports,
      );
      for (const kind of ['prometheus', 'alertmanager'] as const) {
        if (quarantined[kind].length > 0) this.log.warn(`${kind} refused these services' pieces; the others are applied without them`, { services: quarantined[kind] });
      }
      // The sidecars' report annotations the statuses are planned from (statusesSuperseded).
      const plannedAnnotations = this.reportAnnotationsKey();
      const plan = planReconcile({
        objects,
        settings,
        ...cached,
        render: this.isolation.recording(cached.render),
        isolate: (valid) => this.isolation.choose(valid),
        rejected: this.isolation.rejected(),
        formatIssue,
        prometheus: reports.prometheus,
        alertmanager: reports.alertmanager,
        partitionsStale: (config) => this.partitionsStale(config),
        targetsFor: (ns, name) => this.pollerOf(ns)?.countsFor(ns, name),
        rulesFor: (ns, name) => this.pollerOf(ns)?.rulesFor(ns, name),
        scrapeConfigLoaded: (ns, name, hash, windowMs) => this.pollerOf(ns)?.scrapeConfigLoaded(ns, name, hash, windowMs),
        ...(this.shards > 1 ? { shards: this.shardObservations() } : {}),
        targetsUnavailable: this.targetsUnavailable(),
        ...(this.amPoller ? { alertmanagerRunning: this.amPoller.running, alertmanagerUnreachable: this.alertmanagerUnreachable() } : {}),
        ...(this.promConfigPoller ? { prometheusRunning: this.promConfigPoller.running } : {}),
        servicesIn: this.servicesByNamespace(),
        now: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        install: this.install,
        installGone: (ns) => this.liveness.isGone(ns),
        scrapeCredentials: (service) => this.credentialSources.resolve(service),
      });
      this.liveness.track(plan.claimingInstalls);
      await this.credentialSources.endPass();
      if (plan.credentialsPending) {
        // A new watch of a referenced Secret/ConfigMap has not listed yet; its list triggers the next pass.
        this.log.debug('scrape credentials not read yet; reconcile deferred', {});
        return;
      }
      this.logOtherInstall(plan);
      this.isolation.planned('prometheus', plan.rendered.prometheusHash);
      this.isolation.planned('alertmanager', plan.rendered.alertmanagerHash);
      // A refusal reported before this operator rendered that config (it restarted): act on it now.
      if (this.isolation.unhandledFailure('prometheus', reports.prometheus) || this.isolation.unhandledFailure('alertmanager', reports.alertmanager)) this.queue.add();
      this.lastRendered = plan.rendered;
      this.opts.metrics.monitoredServices.set({ state: 'valid' }, plan.valid);
      this.opts.metrics.monitoredServices.set({ state: 'invalid' }, plan.invalid.length);
      this.opts.metrics.monitoredServices.set({ state: 'other-install' }, plan.otherInstall.length);
      await this.writeGeneratedObjects(plan);
      if (layout) await this.followLayout(layout);
      await this.clearStaleReports(secret);
      if (this.shards > 1) await this.advanceHandover(plan, objects, settings, cached.validate);
      await this.writeStatuses(plan.statusUpdates, this.statusesSuperseded(plan.rendered, reports, plannedAnnotations));
      this.wakeAtGraceEnd(plan.discoveryGraceEndsAt);
      if (this.isLeader()) await this.testEmails.handle(this.testEmailObjects(plan), settings);
    } catch (err) {
      result = 'error';
      throw err;
    } finally {
      endTimer({ result });
    }
  }

  /**
   * SCRAPE_ERROR_INFO_METRIC anew from the latest targets poll: one series per service with a failing
   * target, none for the others, deleted services and while Prometheus does not answer. The down
   * alerts' descriptions read it (render/scrape-error.ts). Rebuilt synchronously, so a scrape of
   * /metrics never sees it half done.
   */
  private exportScrapeErrors(objects: readonly MsObject[]): void {
    const gauge = this.opts.metrics.scrapeErrors;
    gauge.reset();
    for (const o of objects) {
      const namespace = o.metadata?.namespace ?? '';
      const name = o.metadata?.name ?? '';
      const labels = scrapeErrorLabels(this.pollerOf(namespace)?.countsFor(namespace, name));
      if (labels) gauge.set({ [LABEL_NAMESPACE]: namespace, [LABEL_MONITORED_SERVICE]: name, ...labels }, 1);
    }
  }

  /**
   * Removes the reports of replicas beyond --prometheus-replicas / --alertmanager-replicas (annotations.ts
   * staleReplicaReportKeys: a scaled-away pod's report would otherwise stay forever), at most once per
   * LAYOUT_QUIET_MS per object: a pod beyond the count that still runs writes its report back at its next
   * pass, and is not fought over (its report does not count either way).
   */
  private async clearStaleReports(secret: V1Secret | undefined): Promise<void> {
    if (!this.isLeader()) return;
    const ns = this.opts.installNamespace;
    const objects = [
      ...this.shardMains().map((cm, shard) => ({
        kind: 'ConfigMap' as const,
        name: shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard),
        annotations: cm?.metadata?.annotations,
        replicas: this.opts.prometheusReplicas ?? 1,
      })),
      { kind: 'Secret' as const, name: OBJECT_NAMES.alertmanagerSecret, annotations: secret?.metadata?.annotations, replicas: this.opts.alertmanagerReplicas ?? 1 },
    ];
    for (const { kind, name, annotations, replicas } of objects) {
      const stale = staleReplicaReportKeys(annotations, replicas);
      const last = this.staleCleared.get(name);
      if (stale.length === 0 || (last !== undefined && Date.now() - last < (this.opts.layoutQuietMs ?? LAYOUT_QUIET_MS))) continue;
      const body = { metadata: { annotations: Object.fromEntries(stale.map((key) => [key, null])) } };
      this.log.info(`removing the reports of ${kind === 'Secret' ? 'Alertmanager' : 'Prometheus'} replicas beyond the ${replicas} expected`, { object: name, annotations: stale });
      try {
        if (kind === 'Secret') await this.opts.clients.core.patchNamespacedSecret({ name, namespace: ns, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH);
        else await this.opts.clients.core.patchNamespacedConfigMap({ name, namespace: ns, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH);
        this.staleCleared.set(name, Date.now());
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /**
   * With shards: the handover state (from shard 0's main object the first time this leader reconciles)
   * decides which shards render each namespace: a namespace moving from the settled count is on its
   * new and its old shard (assemble/handover.ts).
   */
  private followHandoverState(configMap: V1ConfigMap | undefined): void {
    // The test seam: settled at once, as if nothing had to be handed over.
    this.handoverState ??= handoverSkipped() ? { settled: this.shards } : readHandoverState(configMap?.metadata?.annotations, this.shards);
    const settled = this.handoverState.settled;
    if (this.assignment.settled === settled) return;
    this.assignment = new ShardAssignment(this.shards, settled);
    this.serviceCache.setShards(this.shards, settled);
  }

  /**
   * One step of the handover after the writes: records when each new shard's sidecar first reported
   * the config rendered for it (which holds its incoming namespaces), ends the handover once the
   * longest bound of the moving namespaces has passed since (then reconciles again: the old shards
   * drop them), stores the state on shard 0's main object, and deletes the objects of shards beyond
   * the count once no handover runs.
   */
  private async advanceHandover(plan: ReconcilePlan, objects: readonly MsObject[], settings: GlobalSettings, validate: ReconcileInput['validate']): Promise<void> {
    const state = this.handoverState;
    if (!state || !this.isLeader()) return;
    const rendered = plan.rendered.prometheusPartitions?.shards;
    const mains = this.shardMains();
    const services: MonitoredService[] = [];
    if (state.settled !== this.shards) {
      for (const o of objects) {
        const result = validate(o);
        if (result.ok) services.push(result.service);
      }
    }
    const moving = state.settled === this.shards ? [] : movingNamespaces(services, settings, this.shards, state.settled);
    const applied = (shard: number): number | undefined => {
      // Every replica of the new shard: a replica still on the old config would not fire the moved alerts.
      const report = readReplicaReports(mains[shard]?.metadata?.annotations, this.opts.prometheusReplicas ?? 1);
      const hash = rendered?.[shard]?.hash;
      if (hash === undefined || report.appliedHash !== hash) return undefined;
      const at = Date.parse(report.appliedAt ?? '');
      return Number.isFinite(at) ? at : Date.now();
    };
    const step = nextHandover(state, this.shards, moving, applied, Date.now());
    if (step.state.handover && !state.handover)
      this.log.info('Prometheus shards: handing namespaces over to their new shard', { from: state.settled, to: this.shards, moving: moving.map((m) => `${m.namespace}->${m.to}`) });
    for (const [shard, at] of Object.entries(step.state.handover?.appliedAt ?? {})) {
      if (state.handover?.appliedAt[Number(shard)] === undefined)
        this.log.info('Prometheus shards: a new shard runs its incoming namespaces', { shard: Number(shard), appliedAt: new Date(at).toISOString() });
    }
    this.handoverState = step.state;
    await this.storeHandoverState(step.state, mains[0]);
    if (step.ended) {
      this.log.info('Prometheus shards: handover ended; the old shards drop the moved namespaces', { from: state.settled, to: this.shards });
      this.assignment = new ShardAssignment(this.shards);
      this.serviceCache.setShards(this.shards);
      this.removedShardsDeleted = false;
      this.queue.add();
      return;
    }
    if (this.handoverTimer) clearTimeout(this.handoverTimer);
    this.handoverTimer = undefined;
    if (step.endsAt !== undefined) {
      this.handoverTimer = setTimeout(() => this.queue.add(), Math.max(0, step.endsAt - Date.now()) + 1000);
      this.handoverTimer.unref();
    }
    if (step.state.settled === this.shards && !this.removedShardsDeleted) await this.deleteRemovedShards();
  }

  /** The handover state as annotations on shard 0's main object, when they differ (a merge patch; written with the config next time if the object is not there yet). */
  private async storeHandoverState(state: HandoverState, main: V1ConfigMap | undefined): Promise<void> {
    const wanted = handoverAnnotations(state);
    const current = main?.metadata?.annotations ?? {};
    if (Object.entries(wanted).every(([key, value]) => (current[key] ?? null) === value)) return;
    try {
      await this.opts.clients.core.patchNamespacedConfigMap(
        { name: OBJECT_NAMES.prometheusConfigMap, namespace: this.opts.installNamespace, body: { metadata: { annotations: wanted } }, fieldManager: FIELD_MANAGER },
        MERGE_PATCH,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * After a shrink, once no handover runs: the main objects of shards at or beyond the count and
   * their partitions (this operator's, by its managed-by label and the names contract.ts gives them).
   * Listed fresh, once per leader and handover.
   */
  private async deleteRemovedShards(): Promise<void> {
    const ns = this.opts.installNamespace;
    const listed = await this.opts.clients.core.listNamespacedConfigMap({ namespace: ns, labelSelector: `app.kubernetes.io/managed-by=${FIELD_MANAGER}` });
    const names = removedShardObjects(
      listed.items.map((cm) => ({ name: cm.metadata?.name ?? '', partitionOf: cm.metadata?.labels?.[PARTITION_OF_LABEL] })),
      OBJECT_NAMES.prometheusConfigMap,
      this.shards,
    );
    await this.deleteConfigMaps(names);
    this.removedShardsDeleted = true;
    if (names.length > 0) this.log.info('deleted the Prometheus config objects of removed shards', { deleted: names });
  }

  /** With --config-partitions: which Prometheus layout this reconcile renders (layout-gate.ts); logs each change of reason. */
  private decideLayout(annotations: Record<string, string> | undefined): LayoutDecision {
    const decision = chooseLayout({ annotations, now: Date.now(), lastCleared: this.layoutCleared, quietMs: this.opts.layoutQuietMs ?? LAYOUT_QUIET_MS });
    this.serviceCache.setPartitioned(decision.partitioned);
    if (decision.reason !== this.layoutReason) {
      this.layoutReason = decision.reason;
      this.log.info(decision.partitioned ? 'Prometheus config written as partitions' : 'Prometheus config written as one object', { reason: decision.reason });
    }
    return decision;
  }

  /** The handshake's writes: removes the plain reports of a sidecar without --partitions, and wakes a reconcile when the quiet period ends. */
  private async followLayout(decision: LayoutDecision): Promise<void> {
    if (decision.clear && this.isLeader()) {
      const replicas = Array.from({ length: this.opts.prometheusReplicas ?? 1 }, (_, replica) => replica);
      const body = { metadata: { annotations: Object.fromEntries(PLAIN_REPORT_ANNOTATIONS.flatMap((key) => replicas.map((replica) => [replicaAnnotation(key, replica), null]))) } };
      try {
        await this.opts.clients.core.patchNamespacedConfigMap({ name: OBJECT_NAMES.prometheusConfigMap, namespace: this.opts.installNamespace, body, fieldManager: FIELD_MANAGER }, MERGE_PATCH);
        this.layoutCleared = Date.now();
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (this.layoutTimer) clearTimeout(this.layoutTimer);
    this.layoutTimer = undefined;
    if (decision.recheckInMs === undefined) return;
    this.layoutTimer = setTimeout(() => this.queue.add(), decision.recheckInMs + 100);
    this.layoutTimer.unref();
  }

  /**
   * A discovery grace ends with nothing else changing (no poll answer moves): reconcile then, so that
   * a service still without targets turns NoTargets. One timer, for the earliest end.
   */
  private wakeAtGraceEnd(endsAt: number | undefined): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    if (endsAt === undefined) return;
    // A second past the end: the status's time is whole seconds.
    this.graceTimer = setTimeout(() => this.queue.add(), Math.max(0, endsAt - Date.now()) + 1000);
    this.graceTimer.unref();
  }

  /**
   * Overlapping scopes are a misconfiguration that would page twice: say once per object which
   * install holds it and that this one leaves it alone (docs/deployment.md, "Several installs").
   */
  private logOtherInstall(plan: ReconcilePlan): void {
    const seen = new Set<string>();
    for (const o of plan.otherInstall) {
      const key = `${o.namespace}/${o.name}`;
      const holder = describeInstall(o.install);
      seen.add(key);
      if (this.loggedOtherInstall.get(key) === holder) continue;
      this.loggedOtherInstall.set(key, holder);
      this.log.warn('MonitoredService is held by another install whose scope also selects it; this install leaves it alone while that install runs', {
        object: key,
        heldBy: holder,
        thisInstall: describeInstall(this.install),
        takenOverWhen: `the Lease ${o.install.namespace}/${OBJECT_NAMES.leaderLease} is missing or not renewed for ${Math.round((this.opts.orphanAfterMs ?? ORPHAN_AFTER_MS) / 1000)} s`,
      });
    }
    for (const key of this.loggedOtherInstall.keys()) if (!seen.has(key)) this.loggedOtherInstall.delete(key);
  }

  private async writeGeneratedObjects(plan: ReconcilePlan): Promise<void> {
    const ns = this.opts.installNamespace;
    const { rendered, encoded } = plan;
    if (plan.undeliverable !== undefined) {
      // The API server would answer 422. Say why in words (the ConfigApplied condition and one
      // Warning Event per affected service say it too), keep the last written config in place,
      // and do not retry: only a change of the MonitoredServices can make it fit.
      if (plan.undeliverable !== this.lastUndeliverable) {
        this.log.error('generated config too large for one Kubernetes object; not written', {
          message: plan.undeliverable,
          services: rendered.included.length,
          prometheusBytes: encoded.prometheus?.ok === false ? (encoded.prometheus.compressedBytes ?? encoded.prometheus.plainBytes) : undefined,
          alertmanagerBytes: encoded.alertmanager?.ok === false ? (encoded.alertmanager.compressedBytes ?? encoded.alertmanager.plainBytes) : undefined,
        });
      }
    }
    this.lastUndeliverable = plan.undeliverable;
    const promFiles = encoded.prometheus?.ok ? encoded.prometheus : undefined;
    // Before the config that names them (the sidecar holds a config back until the files it names
    // are there), and on its own when only a referenced Secret changed: no reload is needed then.
    if (this.isLeader()) await this.writeScrapeCredentials(plan.scrapeCredentialFiles);
    if (plan.writeConfigMap && rendered.prometheusPartitions?.shards && plan.encodedPartitions && this.isLeader()) {
      // Each shard's partitions and main object as one partitioned config (its main object's files are small: encoded here).
      for (const [shard, config] of rendered.prometheusPartitions.shards.entries()) {
        const main = encodeFileSet(config.main);
        if (!main.ok) throw new Error(`the main object of Prometheus shard ${shard} is ${main.message}`);
        await this.writePartitionedConfig(plan, config, { main, partitions: plan.encodedPartitions.partitions }, shard);
      }
    } else if (plan.writeConfigMap && rendered.prometheusPartitions && plan.encodedPartitions && this.isLeader()) {
      await this.writePartitionedConfig(plan, rendered.prometheusPartitions, plan.encodedPartitions);
    } else if (plan.writeConfigMap && promFiles && this.isLeader()) {
      // The cache may lag behind our own last write: decide on a fresh read.
      const current = await readConfigMapOrUndefined(this.opts.clients, ns, OBJECT_NAMES.prometheusConfigMap);
      const offer: Record<string, string> = this.opts.configPartitions ? { [ANNOTATIONS.partitionsOffered]: 'true' } : {};
      const offerMissing = this.opts.configPartitions === true && current?.metadata?.annotations?.[ANNOTATIONS.partitionsOffered] === undefined;
      if (current?.metadata?.annotations?.[ANNOTATIONS.configHash] !== rendered.prometheusHash || offerMissing || lacksOwner(current.metadata, this.opts.ownerReferences)) {
        await this.retryOnConflict(() =>
          writeConfigMap(
            this.opts.clients,
            current,
            {
              namespace: ns,
              name: OBJECT_NAMES.prometheusConfigMap,
              files: promFiles,
              // After a partitioned config (an operator with --config-partitions before): an empty
              // manifest, so the sidecar applies this object alone (a write keeps other annotations).
              annotations: {
                [ANNOTATIONS.configHash]: rendered.prometheusHash,
                ...offer,
                ...(current?.metadata?.annotations?.[ANNOTATIONS.partitions] !== undefined ? { [ANNOTATIONS.partitions]: '{}' } : {}),
              },
              labels: GENERATED_LABELS,
              ownerReferences: this.opts.ownerReferences,
            },
            FIELD_MANAGER,
          ),
        );
        this.opts.metrics.configWrites.inc({ object: 'configmap' });
        this.log.info('wrote Prometheus config', {
          configMap: `${ns}/${OBJECT_NAMES.prometheusConfigMap}`,
          hash: rendered.prometheusHash,
          services: rendered.included.length,
          invalid: plan.invalid.length,
          encoding: promFiles.form,
          bytes: promFiles.bytes,
        });
      }
      // Back on one object (the handshake, or a partitioned config before): the partition objects go.
      if (this.opts.configPartitions && !this.partitionObjectsDeleted) await this.deletePartitionObjects();
    }
    const amFiles = encoded.alertmanager?.ok ? encoded.alertmanager : undefined;
    if (plan.writeSecret && amFiles && this.isLeader()) {
      const current = await readSecretOrUndefined(this.opts.clients, ns, OBJECT_NAMES.alertmanagerSecret);
      if (current?.metadata?.annotations?.[ANNOTATIONS.configHash] !== rendered.alertmanagerHash || lacksOwner(current.metadata, this.opts.ownerReferences)) {
        await this.retryOnConflict(() =>
          writeSecret(
            this.opts.clients,
            current,
            {
              namespace: ns,
              name: OBJECT_NAMES.alertmanagerSecret,
              files: amFiles,
              annotations: { [ANNOTATIONS.configHash]: rendered.alertmanagerHash },
              labels: GENERATED_LABELS,
              ownerReferences: this.opts.ownerReferences,
            },
            FIELD_MANAGER,
          ),
        );
        this.opts.metrics.configWrites.inc({ object: 'secret' });
        this.log.info('wrote Alertmanager config', {
          secret: `${ns}/${OBJECT_NAMES.alertmanagerSecret}`,
          hash: rendered.alertmanagerHash,
          encoding: amFiles.form,
          bytes: amFiles.bytes,
        });
      }
    }
  }

  /**
   * A partitioned Prometheus config (docs/contract.md): the partition objects that are missing or at
   * another hash first, then the main object naming every partition at its hash, then the partition
   * objects it no longer names are deleted. The sidecar applies the main object only once every
   * partition it names is there at that hash, so no order of watch events applies half a config.
   */
  /** Partition object name -> its config-hash; undefined where it lacks an owner or someone else changed it since this operator wrote it. */
  private partitionHashes(objects: readonly V1ConfigMap[]): Map<string, string | undefined> {
    return new Map(
      objects.map((cm): [string, string | undefined] => {
        const name = cm.metadata?.name ?? '';
        const written = this.partitionVersions.get(name);
        const changed = written !== undefined && cm.metadata?.resourceVersion !== written;
        return [name, lacksOwner(cm.metadata, this.opts.ownerReferences) || changed ? undefined : cm.metadata?.annotations?.[ANNOTATIONS.configHash]];
      }),
    );
  }

  /** ReconcileInput.partitionsStale, from the partition cache: a partition object missing, at another hash or changed by someone else. */
  private partitionsStale(config: PartitionedPrometheusConfig): boolean {
    if (!this.partitionInformer) return false;
    return (config.shards ?? [config]).some((shardConfig, shard) => {
      const main = shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard);
      const writes = partitionWrites(shardConfig, main, this.partitionHashes(this.partitionsOf(main, this.partitionInformer!.list())));
      return writes.partitions.length > 0 || writes.remove.length > 0;
    });
  }

  /** The partition objects among `objects` that belong to the main object `main` (by PARTITION_OF_LABEL). */
  private partitionsOf(main: string, objects: readonly V1ConfigMap[]): V1ConfigMap[] {
    return objects.filter((cm) => cm.metadata?.labels?.[PARTITION_OF_LABEL] === main);
  }

  /** The Prometheus sidecars' report: of the one main object, or of every shard's together (annotations.ts combineShardReports). */
  private prometheusReport(configMap: V1ConfigMap | undefined): SyncReport {
    const replicas = this.opts.prometheusReplicas ?? 1;
    if (this.shards === 1) return readReplicaReports(configMap?.metadata?.annotations, replicas);
    return combineShardReports(
      this.shardMains().map((cm) => readReplicaReports(cm?.metadata?.annotations, replicas)),
      Array.from({ length: this.shards }, (_, shard) => shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard)),
    );
  }

  /** Each shard's main object from the caches, by shard index (undefined: not there). */
  private shardMains(): (V1ConfigMap | undefined)[] {
    const ns = this.opts.installNamespace;
    return [
      this.configMapInformer.get(OBJECT_NAMES.prometheusConfigMap, ns),
      ...this.shardMainInformers.map((informer, i) => informer.get(shardObjectName(OBJECT_NAMES.prometheusConfigMap, i + 1), ns)),
    ];
  }

  private async writePartitionedConfig(plan: ReconcilePlan, config: PartitionedPrometheusConfig, encoded: NonNullable<ReconcilePlan['encodedPartitions']>, shard = 0): Promise<void> {
    const ns = this.opts.installNamespace;
    const main = shardObjectName(OBJECT_NAMES.prometheusConfigMap, shard);
    const mainInformer = shard === 0 ? this.configMapInformer : this.shardMainInformers[shard - 1]!;
    const hashes = (objects: readonly V1ConfigMap[]) => this.partitionHashes(this.partitionsOf(main, objects));
    const mainInPlace = (cm: V1ConfigMap | undefined) => cm?.metadata?.annotations?.[ANNOTATIONS.configHash] === config.hash && !lacksOwner(cm.metadata, this.opts.ownerReferences);
    // From the caches first: a reconcile that changes nothing makes no request.
    if (mainInPlace(mainInformer.get(main, ns)) && this.partitionInformer) {
      const cached = partitionWrites(config, main, hashes(this.partitionInformer.list()));
      if (cached.partitions.length === 0 && cached.remove.length === 0) return;
    }
    const current = await readConfigMapOrUndefined(this.opts.clients, ns, main);
    // Fresh, not from a cache: a partition written by the previous reconcile must be seen.
    const listed = await this.opts.clients.core.listNamespacedConfigMap({ namespace: ns, labelSelector: `${PARTITION_OF_LABEL}=${main}` });
    const existing = new Map(listed.items.map((cm) => [cm.metadata?.name ?? '', cm]));
    const writes = partitionWrites(config, main, hashes(listed.items));
    if (mainInPlace(current) && writes.partitions.length === 0 && writes.remove.length === 0) return;
    if (mainInPlace(current))
      this.log.warn('partition objects of the Prometheus config were deleted or changed by someone else; writing them again', {
        partitions: writes.partitions.map((w) => w.name),
        deleting: writes.remove,
      });
    for (const w of writes.partitions) {
      const files = encoded.partitions.get(w.partition.digest);
      if (!files) throw new Error(`partition ${w.partition.id} of config ${config.hash} was not encoded`);
      const written = await this.retryOnConflict(() =>
        writeConfigMap(
          this.opts.clients,
          existing.get(w.name),
          {
            namespace: ns,
            name: w.name,
            files,
            annotations: { [ANNOTATIONS.configHash]: w.hash },
            labels: { ...GENERATED_LABELS, [PARTITION_OF_LABEL]: main },
            ownerReferences: this.opts.ownerReferences,
          },
          FIELD_MANAGER,
        ),
      );
      if (written.metadata?.resourceVersion) this.partitionVersions.set(w.name, written.metadata.resourceVersion);
      this.opts.metrics.configWrites.inc({ object: 'configmap' });
    }
    if (!mainInPlace(current)) {
      await this.retryOnConflict(() =>
        writeConfigMap(
          this.opts.clients,
          current,
          {
            namespace: ns,
            name: main,
            files: encoded.main,
            annotations: { [ANNOTATIONS.configHash]: writes.mainAnnotations.configHash, [ANNOTATIONS.partitions]: writes.mainAnnotations.partitions, [ANNOTATIONS.partitionsOffered]: 'true' },
            labels: GENERATED_LABELS,
            ownerReferences: this.opts.ownerReferences,
          },
          FIELD_MANAGER,
        ),
      );
      this.opts.metrics.configWrites.inc({ object: 'configmap' });
    }
    this.partitionObjectsDeleted = false;
    for (const name of writes.remove) {
      try {
        await this.opts.clients.core.deleteNamespacedConfigMap({ name, namespace: ns });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.partitionVersions.delete(name);
    }
    this.log.info('wrote Prometheus config', {
      configMap: `${ns}/${main}`,
      hash: config.hash,
      services: this.shards > 1 ? config.partitions.reduce((n, p) => n + p.refs.length, 0) : plan.rendered.included.length,
      invalid: plan.invalid.length,
      ...(this.shards > 1 ? { shard } : {}),
      partitions: config.partitions.length,
      partitionsWritten: writes.partitions.map((w) => w.name),
      partitionsDeleted: writes.remove,
    });
  }

  /** Deletes these ConfigMaps of the install namespace in order (one already gone is fine) and forgets their written versions. */
  private async deleteConfigMaps(names: readonly string[]): Promise<void> {
    for (const name of names) {
      try {
        await this.opts.clients.core.deleteNamespacedConfigMap({ name, namespace: this.opts.installNamespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.partitionVersions.delete(name);
    }
  }

  /**
   * Deletes the main object's partition objects once it holds the whole config (written after them,
   * so a sidecar never misses one it still reads). Listed fresh: a partition written by an earlier
   * reconcile may not be in any cache yet.
   */
  private async deletePartitionObjects(): Promise<void> {
    const ns = this.opts.installNamespace;
    const listed = await this.opts.clients.core.listNamespacedConfigMap({ namespace: ns, labelSelector: `${PARTITION_OF_LABEL}=${OBJECT_NAMES.prometheusConfigMap}` });
    const names = listed.items.map((cm) => cm.metadata?.name ?? '').filter((name) => name !== '');
    await this.deleteConfigMaps(names);
    this.partitionObjectsDeleted = true;
    if (names.length > 0) this.log.info('deleted the partition objects of the Prometheus config, now written as one object', { deleted: names });
  }

  /**
   * The scrape-credentials Secret: the referenced values under their file names. Written when its
   * content changes (a rotated Secret, a new reference), also while the Prometheus config stays the same.
   */
  private async writeScrapeCredentials(files: FileSet): Promise<void> {
    const ns = this.opts.installNamespace;
    const name = OBJECT_NAMES.scrapeCredentialsSecret;
    const hash = credentialFilesHash(files);
    if (hash === this.credentialsHash) return;
    const current = await readSecretOrUndefined(this.opts.clients, ns, name);
    if (current?.metadata?.annotations?.[ANNOTATIONS.configHash] === hash && !lacksOwner(current.metadata, this.opts.ownerReferences)) {
      this.credentialsHash = hash;
      return;
    }
    const encoded = encodeFileSet(files);
    if (!encoded.ok) throw new Error(`the scrape credentials Secret ${ns}/${name} is ${encoded.message}`);
    await this.retryOnConflict(() =>
      writeSecret(
        this.opts.clients,
        current,
        { namespace: ns, name, files: encoded, annotations: { [ANNOTATIONS.configHash]: hash }, labels: GENERATED_LABELS, ownerReferences: this.opts.ownerReferences },
        FIELD_MANAGER,
      ),
    );
    this.credentialsHash = hash;
    this.opts.metrics.configWrites.inc({ object: 'scrape-credentials' });
    this.log.info('wrote scrape credentials', { secret: `${ns}/${name}`, hash, files: Object.keys(files).length });
  }

  /** A 409 means the object changed since we read it (a sidecar annotating it): throw, the queue retries from a fresh read. */
  private async retryOnConflict<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isConflict(err)) this.log.debug('write conflict; will retry from a fresh read', {});
      throw err;
    }
  }

  /** The sidecars' report annotations (contract.ts parseReplicaAnnotation) on the Secret and each shard's main ConfigMap, from the caches, serialised. */
  private reportAnnotationsKey(): string {
    const objects = [this.secretInformer.get(OBJECT_NAMES.alertmanagerSecret, this.opts.installNamespace), ...this.shardMains()];
    return JSON.stringify(
      objects.map((o) =>
        Object.entries(o?.metadata?.annotations ?? {})
          .filter(([key]) => parseReplicaAnnotation(key) !== undefined)
          .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
      ),
    );
  }

  /**
   * For writeStatuses: whether the sidecars have since reported something that changes the planned
   * statuses. With one shard, computeStatus reads the reports only through configApplyState, so
   * that of the rendered hashes is compared: a report that moves no status (Alertmanager confirming
   * an earlier config during a burst) supersedes nothing. With shards each shard's services read
   * their shard's report: any change of the report annotations counts.
   */
  private statusesSuperseded(rendered: RenderedConfig, planned: { prometheus: SyncReport; alertmanager: SyncReport }, plannedAnnotations: string): () => boolean {
    if (this.shards > 1) return () => this.reportAnnotationsKey() !== plannedAnnotations;
    const desired = { prometheusHash: rendered.prometheusHash, alertmanagerHash: rendered.alertmanagerHash };
    const state = (reports: { prometheus: SyncReport; alertmanager: SyncReport }) => JSON.stringify(configApplyState(desired, reports.prometheus, reports.alertmanager));
    const before = state(planned);
    return () => {
      // Cheap first: while the report annotations are as planned, nothing changed.
      if (this.reportAnnotationsKey() === plannedAnnotations) return false;
      const configMap = this.configMapInformer.get(OBJECT_NAMES.prometheusConfigMap, this.opts.installNamespace);
      const secret = this.secretInformer.get(OBJECT_NAMES.alertmanagerSecret, this.opts.installNamespace);
      return state({ prometheus: this.prometheusReport(configMap), alertmanager: readReplicaReports(secret?.metadata?.annotations, this.opts.alertmanagerReplicas ?? 1) }) !== before;
    };
  }

  /**
   * Patches the planned statuses, then records their Events. `superseded` is asked before each
   * patch: once a sidecar has reported another config since the plan (a reload confirmed or failed),
   * the statuses not written yet are stale, so they are left to the reconcile that report has
   * queued, which writes each of them once with the newer state. After a burst of 2,000 services
   * the confirmation of the full config used to wait until all 2,000 statuses of the earlier state
   * ("waiting for Prometheus") were written, and only then were the 2,000 True ones.
   */
  private async writeStatuses(updates: StatusUpdate[], superseded?: () => boolean): Promise<void> {
    if (updates.length === 0) return;
    const limit = this.opts.statusConcurrency ?? DEFAULT_STATUS_CONCURRENCY;
    const written: StatusUpdate[] = [];
    const { errors, skipped } = await forEachLimited(
      updates,
      limit,
      async (u) => {
        if (!this.isLeader()) return;
        const cached = this.serviceInformers.map((i) => i.get(u.name, u.namespace)).find(Boolean);
        let updated: unknown;
        try {
          updated = await patchMonitoredServiceStatus(this.opts.clients, u.namespace, u.name, u.patch, FIELD_MANAGER);
        } catch (err) {
          if (isNotFound(err)) return; // deleted meanwhile: nothing to report on
          throw err;
        }
        if (u.uid && cached?.metadata?.resourceVersion) {
          trimCachedObject(updated as MsObject);
          this.writtenStatus.set(u.uid, { fromResourceVersion: cached.metadata.resourceVersion, object: updated as MsObject });
        }
        if (u.events.length > 0) written.push(u);
      },
      superseded,
    );
    if (skipped > 0) {
      // The report's own watch event queued the next reconcile; it computes these statuses anew.
      this.log.info('status writes superseded by a newer sidecar report; the next reconcile writes the rest', { written: updates.length - skipped, skipped });
    }
    // Events only after every status of this pass: the status is the state users and tools wait
    // for, an Event is a notification. After a burst of 2,000 services going ConfigApplied, the
    // last status would otherwise wait behind up to 2,000 Event creations on the same API server.
    await forEachLimited(written, limit, (u) => this.recordEvents(u));
    if (errors.length > 0) {
      throw new Error(`${errors.length} of ${updates.length - skipped} status updates failed, first: ${describeApiError(errors[0])}`);
    }
  }

  /** The Events of one written status, each also logged; a failed Event is logged, not retried. */
  private async recordEvents(u: Pick<StatusUpdate, 'namespace' | 'name' | 'uid' | 'events'> & { generation?: number }): Promise<void> {
    for (const e of u.events) {
      try {
        await createEvent(this.opts.clients, { component: COMPONENT, instance: this.opts.identity }, { ...MONITORED_SERVICE_REF, namespace: u.namespace, name: u.name, uid: u.uid }, e);
      } catch (err) {
        // An Event is a notification, not state: log and go on rather than redo the reconcile.
        this.log.warn('could not record event', { object: `${u.namespace}/${u.name}`, reason: e.reason, error: describeApiError(err) });
      }
      const level = e.type === 'Warning' ? 'warn' : 'info';
      this.log[level](e.reason === 'InvalidSpec' ? 'MonitoredService rejected' : `MonitoredService ${e.reason}`, {
        object: `${u.namespace}/${u.name}`,
        generation: u.generation,
        reason: e.reason,
        message: e.message,
      });
    }
  }
}

/** sha256 over the sorted file names and contents, short form as the other config hashes. */
export function credentialFilesHash(files: FileSet): string {
  const h = createHash('sha256');
  for (const name of Object.keys(files).sort()) h.update(`${name}\0${files[name]}\0`);
  return `sha256:${h.digest('hex').slice(0, 16)}`;
}
