// The sidecar's control loop: from the latest observed object to files on disk, a confirmed reload,
// and annotations/Events reporting the outcome. Level-triggered: every pass compares the latest
// object with what the server is known to run, so a missed event or a restart changes nothing.
// Passes never overlap; a change seen during a pass triggers another pass right after it.
import type { Logger } from '../observability/index.js';
import { asReaderAnnotations, asReplicaAnnotations, failureAnnotations, pendingAnnotationChanges, successAnnotations, ANNOTATIONS, type AnnotationChanges } from './annotations.js';
import { retryDelayMs } from './backoff.js';
import { inferServerKind, type ServerKind } from './confirm.js';
import { contentHash, type FileSet } from './files.js';
import { loadLastGood, readDirFiles, removeStaleTempFiles, saveLastGood, syncDirectory } from './file-writer.js';
import type { SyncMetrics } from './metrics.js';
import type { Reloader } from './reloader.js';
import { credentialFilesToKeep, missingCredentialFiles } from './credentials.js';
import { ReloadCoalescer, type CoalesceOptions } from './coalesce.js';

/** The watched ConfigMap/Secret, already decoded. */
export interface ObservedObject {
  annotations: Record<string, string>;
  /** The decoded files, or why they could not be decoded (bad key, bad base64). */
  files: FileSet | { error: string };
}

/** Where outcomes are reported: the object's annotations and Events on it. */
export interface Reporter {
  patchAnnotations(changes: AnnotationChanges): Promise<void>;
  event(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export interface SyncerOptions {
  dir: string;
  /** Which server's confirmation to use; inferred from prometheus.yml / alertmanager.yml if absent. */
  server?: ServerKind;
  fileMode?: number;
  reloader: Reloader;
  reporter: Reporter;
  metrics: SyncMetrics;
  log: Logger;
  /** Overridable for tests. */
  retryDelay?: (failures: number) => number;
  /**
   * The scrape-credentials directory (sync/credentials.ts): observeCredentials() files are written
   * there, and a config naming a file not yet there waits for it. Absent: no credentials.
   */
  credentialsDir?: string;
  /**
   * `vigil sync --partitions`: this sidecar reads partitioned configs, and says so by reporting under
   * the reader annotations (annotations.ts asReaderAnnotations) on an object that offers partitions
   * (ANNOTATIONS.partitionsOffered); elsewhere it reports as every sidecar does.
   */
  partitionsReader?: boolean;
  /**
   * The replica this sidecar reports as (its pod's StatefulSet ordinal, annotations.ts replicaOrdinal):
   * each replica's report has keys of its own (contract.ts replicaAnnotation). Absent: 0, the plain keys.
   */
  replica?: number;
  /** The pod's name (POD_NAME), written beside the report so the operator's messages name the pod. */
  podName?: string;
  /** Holding back reloads during a burst of config versions (coalesce.ts); default COALESCE_DEFAULTS. */
  coalesce?: CoalesceOptions;
}

/** File names for a log line: all of a few, the first ones and a count of thousands (one rule file per service). */
function fileList(names: string[], max = 20): string[] {
  return names.length <= max ? names : [...names.slice(0, max), `… and ${names.length - max} more`];
}

interface Failing {
  contentHash: string;
  failures: number;
  message: string;
  retryDue: boolean;
}

export class Syncer {
  private latest: ObservedObject | undefined;
  private lastGood: FileSet | undefined;
  /** Content hash of what the server is confirmed to run (undefined until the first success). */
  private appliedContentHash: string | undefined;
  private failing: Failing | undefined;
  private lastWarningKey = '';
  private retryTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;
  /** The latest scrape-credentials files (undefined until the first list), and their hash on disk. */
  private credentials: FileSet | undefined;
  private writtenCredentialsHash: string | undefined;
  private readonly coalescer: ReloadCoalescer;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SyncerOptions) {
    this.coalescer = new ReloadCoalescer(options.coalesce);
  }

  /** The credentials watch reports every version here (undefined: no such Secret, i.e. none yet). */
  observeCredentials(files: FileSet | { error: string } | undefined): void {
    if (files !== undefined && 'error' in files) {
      this.options.log.warn('scrape credentials cannot be decoded; keeping the files on disk as they are', { error: files.error });
      return;
    }
    // Deleted after it existed: keep the files (as for the config object); never seen: none yet.
    if (files === undefined && this.credentials !== undefined) return;
    this.credentials = files ?? {};
    this.kick();
  }

  /** Restores state an earlier run of the sidecar left in the shared directory. */
  async init(): Promise<void> {
    await removeStaleTempFiles(this.options.dir);
    this.lastGood = await loadLastGood(this.options.dir);
    if (this.lastGood) this.options.log.info('found last good config on disk', { files: Object.keys(this.lastGood).length });
  }

  /** True once the server runs a config this sidecar delivered (or found as last good). */
  hasGoodConfig(): boolean {
    return this.lastGood !== undefined;
  }

  /** The watcher reports every version of the object here (undefined: it was deleted). */
  observe(object: ObservedObject | undefined): void {
    if (object === undefined) {
      this.options.log.warn('watched object does not exist; keeping the files on disk as they are');
      return;
    }
    this.latest = object;
    this.coalescer.observed(object.annotations[ANNOTATIONS.configHash], Date.now());
    this.kick();
  }

  /** Resolves when no pass is running or queued (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.settleTimer) clearTimeout(this.settleTimer);
    await this.idle();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.rerun = false;
          await this.pass().catch((err) => this.options.log.error('sync pass failed', { err }));
        } while (this.rerun && !this.stopped);
      } finally {
        this.running = undefined;
      }
    })();
  }

  private async pass(): Promise<void> {
    if (this.options.credentialsDir !== undefined) {
      if (this.credentials === undefined) return; // the first list of the credentials Secret comes first
      await this.writeCredentials(this.options.credentialsDir, this.credentials);
    }
    const object = this.latest;
    if (!object) return;
    if ('error' in object.files) {
      await this.handleFailure(`invalid:${object.files.error}`, object, object.files.error, undefined);
      return;
    }
    const files = object.files;
    const hash = contentHash(files);
    const reportedHash = object.annotations[ANNOTATIONS.configHash] ?? hash;
    if (hash === this.appliedContentHash) {
      await this.ensureAnnotations(object, successAnnotations(reportedHash, new Date()));
      return;
    }
    if (this.failing && this.failing.contentHash === hash && !this.failing.retryDue) {
      // Same broken content (typically the echo of our own annotation patch): wait for the retry.
      await this.ensureAnnotations(object, failureAnnotations(reportedHash, this.failing.message));
      return;
    }
    const deferMs = this.coalescer.deferMs(Date.now());
    if (deferMs > 0) {
      // New versions keep coming faster than the server reloads: reload only the newest, once they settle.
      if (!this.settleTimer) {
        this.options.log.info('config changing faster than the server reloads; waiting for it to settle', { hash: reportedHash, waitMs: deferMs });
        this.settleTimer = setTimeout(() => {
          this.settleTimer = undefined;
          this.kick();
        }, deferMs);
        this.settleTimer.unref();
      }
      return;
    }
    await this.apply(object, files, hash, reportedHash);
  }

  private async apply(object: ObservedObject, files: FileSet, hash: string, reportedHash: string): Promise<void> {
    const { log } = this.options;
    const missing = this.options.credentialsDir !== undefined ? missingCredentialFiles(files, this.options.credentialsDir, this.credentials ?? {}) : [];
    if (missing.length > 0) {
      // The operator writes them before the config; their watch event is on its way (it kicks a pass).
      log.info('config names scrape credential files not delivered yet; waiting for them', { files: fileList(missing) });
      return;
    }
    const kind = this.options.server ?? inferServerKind(files);
    if (!kind) {
      await this.handleFailure(hash, object, 'cannot tell the server kind: the object must have exactly one of prometheus.yml / alertmanager.yml (or pass --server)', undefined);
      return;
    }
    const started = Date.now();
    const diff = await syncDirectory(this.options.dir, files, { mode: this.options.fileMode });
    log.info('files written', { hash: reportedHash, written: fileList(diff.write), removed: fileList(diff.remove) });
    this.coalescer.reloadStarted();
    const reloadStarted = Date.now();
    const outcome = await this.options.reloader.reload(kind, files);
    this.coalescer.reloadFinished(Date.now() - reloadStarted);
    if (!outcome.ok) {
      await this.handleFailure(hash, object, outcome.message, kind, outcome.answered);
      return;
    }
    this.appliedContentHash = hash;
    this.failing = undefined;
    this.lastGood = files;
    // Files only the previous config named can go now.
    if (this.options.credentialsDir !== undefined && this.credentials !== undefined) {
      await this.writeCredentials(this.options.credentialsDir, this.credentials).catch((err: unknown) => log.warn('could not prune scrape credential files', { err }));
    }
    this.options.metrics.reloads.inc({ result: 'success' });
    this.options.metrics.lastSuccess.setToCurrentTime();
    log.info('config reloaded and confirmed', { hash: reportedHash, server: kind, durationMs: Date.now() - started });
    // Report first: the operator waits for this to mark thousands of services applied, while the
    // copy below (one fsync per file) only matters for a later restart and cannot fail the apply.
    await this.ensureAnnotations(object, successAnnotations(reportedHash, new Date()));
    if (this.newerVersionPending(object)) {
      // The copy writes every file again (2,000 fsyncs at 2,000 services) and the newer config
      // waits behind it; that config's own apply saves the copy. Until then a restart starts from
      // the copy before, which the server also ran, and then applies the newest config anyway.
      log.info('a newer config is already waiting; the last good copy is saved after it', { hash: reportedHash });
    } else {
      try {
        await saveLastGood(this.options.dir, files, { mode: this.options.fileMode });
      } catch (err) {
        log.error('could not save the last good copy', { err });
      }
    }
    await this.report('Normal', 'ConfigReloaded', `${kind} reloaded config ${reportedHash} (${diff.write.length} files written, ${diff.remove.length} removed)`);
  }

  /** True when the watch has delivered a config (config-hash) other than `applied`'s since. */
  private newerVersionPending(applied: ObservedObject): boolean {
    const newest = this.latest?.annotations[ANNOTATIONS.configHash];
    return newest !== undefined && newest !== applied.annotations[ANNOTATIONS.configHash];
  }

  /**
   * `reloadedAs`: the server we asked to reload (undefined when the files were never written);
   * `answered`: it responded, so it may have applied part of the rejected config.
   */
  private async handleFailure(hash: string, object: ObservedObject, message: string, reloadedAs: ServerKind | undefined, answered = false): Promise<void> {
    const { log } = this.options;
    const reportedHash = object.annotations[ANNOTATIONS.configHash] ?? hash;
    const failures = this.failing?.contentHash === hash ? this.failing.failures + 1 : 1;
    this.failing = { contentHash: hash, failures, message, retryDue: false };
    if (reloadedAs) this.options.metrics.reloads.inc({ result: 'failure' });
    log.warn('config not applied', { hash: reportedHash, failures, error: message });
    if (this.lastGood && reloadedAs) {
      // The disk must hold the last good config, or a restart of the server would start from the
      // broken files (or not start at all). And the server must be told to load it again: a failed
      // Prometheus reload is not atomic (2.42 applies the new scrape configs, then fails on a bad
      // rule file and reports failure while running the new jobs with the old rules).
      try {
        const restored = await syncDirectory(this.options.dir, this.lastGood, { mode: this.options.fileMode });
        log.info('restored last good files', { written: fileList(restored.write), removed: fileList(restored.remove) });
        if (answered) {
          const recovery = await this.options.reloader.reload(reloadedAs, this.lastGood);
          if (recovery.ok) log.info('server reloaded the last good config');
          else log.error('server did not reload the last good config either', { error: recovery.message });
        }
      } catch (err) {
        log.error('could not restore the last good config', { err });
      }
    }
    await this.ensureAnnotations(object, failureAnnotations(reportedHash, message));
    const warningKey = `${hash}\n${message}`;
    if (warningKey !== this.lastWarningKey) {
      this.lastWarningKey = warningKey;
      await this.report('Warning', 'ReloadFailed', `config ${reportedHash} was not applied, the last good config stays in use: ${message}`);
    }
    const delay = (this.options.retryDelay ?? retryDelayMs)(failures);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.failing?.contentHash === hash) this.failing.retryDue = true;
      this.kick();
    }, delay);
    this.retryTimer.unref();
    log.info('will retry', { inMs: delay });
  }

  /**
   * Writes the credential files when their content changed (Prometheus re-reads them: no reload),
   * keeping the ones the running config still names (credentialFilesToKeep).
   */
  private async writeCredentials(dir: string, files: FileSet): Promise<void> {
    // The applied hash stands for lastGood (hashing a large prometheus.yml on every pass would not).
    const hash = `${contentHash(files)}:${this.appliedContentHash ?? ''}`;
    if (hash === this.writtenCredentialsHash) return;
    const desired = credentialFilesToKeep(files, await readDirFiles(dir), this.lastGood, dir);
    // Keys and tokens: readable by the pod's group (fsGroup), not by the world.
    const diff = await syncDirectory(dir, desired, { mode: 0o640 });
    this.writtenCredentialsHash = hash;
    this.options.log.info('scrape credential files written', { dir, written: fileList(diff.write), removed: fileList(diff.remove) });
  }

  private async ensureAnnotations(object: ObservedObject, changes: AnnotationChanges): Promise<void> {
    const asReader = this.options.partitionsReader === true && object.annotations[ANNOTATIONS.partitionsOffered] !== undefined;
    const wanted = asReplicaAnnotations(asReader ? asReaderAnnotations(changes) : changes, this.options.replica ?? 0, this.options.podName);
    const pending = pendingAnnotationChanges(object.annotations, wanted);
    if (Object.keys(pending).length === 0) return;
    try {
      await this.options.reporter.patchAnnotations(pending);
      // Remember what we wrote so the echo of this patch (or a pass before it) does not patch again.
      for (const [key, value] of Object.entries(pending)) {
        if (value === null) delete object.annotations[key];
        else object.annotations[key] = value;
      }
    } catch (err) {
      // The next watch event or relist (after the API server is back) runs a pass that retries.
      this.options.log.warn('could not patch annotations', { err });
    }
  }

  private async report(type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    try {
      await this.options.reporter.event(type, reason, message);
    } catch (err) {
      this.options.log.warn('could not create event', { reason, err });
    }
  }
}
