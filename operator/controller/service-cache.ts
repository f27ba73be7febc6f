// What the controller keeps per MonitoredService between reconciles: its validation result and,
// for a valid one, its rendered pieces (render/index.ts ServicePieces). Both are pure functions of
// the object's spec (fixed per uid and generation) and of the settings, so an entry is reused while
// uid, generation and the settings hash stay the same. A reconcile after one change then validates
// and renders one object and only joins the others' text (issue #13: 10,000 services).
//
// One entry per live object (a new generation replaces the old one; prune() drops deleted objects),
// so memory follows the cluster, not its history. The renderers stay pure: the cache lives here.
import { createHash } from 'node:crypto';
import type { MonitoredService } from '../api/schema.js';
import { assembleConfig, renderServicePieces, withScrapeHints, type ServicePieces } from '../render/index.js';
import type { GlobalSettings, ValidationResult } from '../render/types.js';
import { validateMonitoredService } from '../validate/index.js';
import type { RawMonitoredService, ReconcileInput } from './plan.js';

interface Entry {
  generation: number;
  settingsHash: string;
  result: ValidationResult;
}

/** sha256 of the settings' JSON (they hold SMTP credentials: only the hash is kept), 16 hex characters. */
export function settingsHash(settings: GlobalSettings): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

/** The cache key of an object: its uid, or namespace/name for objects without one (tests, CLI). */
export function objectKey(raw: RawMonitoredService): string {
  return raw.metadata?.uid ?? `${raw.metadata?.namespace}/${raw.metadata?.name}`;
}

export class ServiceCache {
  private readonly entries = new Map<string, Entry>();
  /** Pieces of each valid service object held by an entry (dropped with the entry). */
  private readonly pieces = new WeakMap<MonitoredService, ServicePieces>();
  /** Validations and renderings done (not served from the cache), for tests and metrics. */
  misses = 0;

  constructor(
    private readonly validate: (raw: unknown, render: (service: MonitoredService) => void) => ValidationResult = validateMonitoredService,
    private readonly render: (service: MonitoredService, settings: GlobalSettings) => ServicePieces = renderServicePieces,
  ) {}

  /**
   * The validation result of `raw` under `settings` (whose settingsHash is `hash`), from the cache
   * when uid, generation and settings are unchanged. A valid result's pieces: piecesOf(service).
   */
  resolve(raw: RawMonitoredService, settings: GlobalSettings, hash: string): ValidationResult {
    const key = objectKey(raw);
    const generation = raw.metadata?.generation ?? 0;
    const cached = this.entries.get(key);
    if (cached && cached.generation === generation && cached.settingsHash === hash) return cached.result;
    this.misses++;
    let pieces: ServicePieces | undefined;
    // The renderability check (validate/index.ts) is this rendering, with the real settings.
    const result = this.validate(raw, (service) => {
      pieces = this.render(service, settings);
    });
    if (result.ok && pieces) this.pieces.set(result.service, pieces);
    this.entries.set(key, { generation, settingsHash: hash, result });
    return result;
  }

  /** The pieces of a service returned by resolve() with these settings (rendered now if absent). */
  piecesOf(service: MonitoredService, settings: GlobalSettings): ServicePieces {
    let pieces = this.pieces.get(service);
    if (!pieces) {
      pieces = this.render(service, settings);
      this.pieces.set(service, pieces);
    }
    return pieces;
  }

  /** planReconcile's validate and render for one reconcile with `settings`, through this cache. */
  forReconcile(settings: GlobalSettings): Pick<ReconcileInput, 'validate' | 'render'> {
    const hash = settingsHash(settings);
    return {
      validate: (raw) => this.resolve(raw, settings, hash),
      render: (services, _settings, hints) =>
        assembleConfig(
          services.map((service) => withScrapeHints(this.piecesOf(service, settings), service, settings, hints)),
          settings,
        ),
    };
  }

  /** Drops the entries of objects not in `liveKeys` (objectKey of every object in the caches). */
  prune(liveKeys: ReadonlySet<string>): void {
    for (const key of this.entries.keys()) if (!liveKeys.has(key)) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
