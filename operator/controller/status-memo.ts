// The controller's memo of objects whose status came out unchanged (plan.ts StatusMemo): a status
// concern, kept by the controller next to the caches of operator/assemble/ (service-cache.ts).
import type { RawMonitoredService, StatusInputs, StatusMemo } from './plan.js';

/**
 * Per object (the informer's object itself: a changed generation, spec or stored status is a new
 * object), the inputs from which its status last came out unchanged. Computing and comparing the
 * status of each of 10,000 objects took ~0.1 s per reconcile (issue #13) although a change moves
 * one; an object whose inputs are all equal is skipped, which gives the same plan because its
 * status would again equal the stored one (plan.ts StatusInputs says why the time does not count).
 * Entries go with their objects (WeakMap).
 */
export class UnchangedStatuses implements StatusMemo {
  private readonly entries = new WeakMap<RawMonitoredService, StatusInputs>();
  /** Statuses skipped (not computed), for tests. */
  hits = 0;

  unchanged(raw: RawMonitoredService, inputs: StatusInputs): boolean {
    const last = this.entries.get(raw);
    const same =
      last !== undefined &&
      last.shared === inputs.shared &&
      last.result === inputs.result &&
      last.inForce?.service === inputs.inForce?.service &&
      last.inForce?.without.join() === inputs.inForce?.without.join() &&
      last.included === inputs.included &&
      last.leftOut === inputs.leftOut &&
      last.credentials === inputs.credentials &&
      last.rejected?.reason === inputs.rejected?.reason &&
      last.rejected?.message === inputs.rejected?.message &&
      last.rejected?.inForce === inputs.rejected?.inForce &&
      last.discoveryGrace?.graceMs === inputs.discoveryGrace?.graceMs &&
      (last.targets === inputs.targets || JSON.stringify(last.targets) === JSON.stringify(inputs.targets)) &&
      (last.rules === inputs.rules || JSON.stringify(last.rules) === JSON.stringify(inputs.rules)) &&
      sameEmail(last.email, inputs.email) &&
      sameSelection(last.selection, inputs.selection);
    if (same) this.hits++;
    return same;
  }

  remember(raw: RawMonitoredService, inputs: StatusInputs): void {
    this.entries.set(raw, inputs);
  }
}

function sameSelection(a: StatusInputs['selection'], b: StatusInputs['selection']): boolean {
  if (a === b) return true;
  if (!a || !b || a.duplicates !== b.duplicates || a.problems.length !== b.problems.length) return false;
  return a.problems.every((p, i) => p.reason === b.problems[i]!.reason && p.message === b.problems[i]!.message);
}

/** Whether two email observations are equal; without a delivery (the common case) without serialising either (two JSON.stringify per object per reconcile showed in the profile at 10,000 services). */
function sameEmail(a: StatusInputs['email'], b: StatusInputs['email']): boolean {
  if (a === b) return true;
  if (!a || !b || a.receiver !== b.receiver || a.unknown?.reason !== b.unknown?.reason || a.unknown?.message !== b.unknown?.message) return false;
  return a.delivery === b.delivery || JSON.stringify(a.delivery) === JSON.stringify(b.delivery);
}
