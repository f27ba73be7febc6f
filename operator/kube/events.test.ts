import { describe, expect, it } from '@jest/globals';
import { eventObject, truncateEventMessage } from './events.js';

describe('eventObject', () => {
  it('names the object, the reporter and the time, and keeps the message within 1 KiB', () => {
    const now = new Date('2026-12-07T10:00:00.000Z');
    const e = eventObject(
      { component: 'vigil-sync', instance: 'pod-1' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm', uid: 'u1' },
      { type: 'Warning', reason: 'ReloadFailed', message: 'x'.repeat(2000) },
      now,
    );
    expect(e.metadata.name).toMatch(new RegExp(`^cm\\.${now.getTime().toString(16)}[0-9a-f]{4}$`));
    expect(e.involvedObject).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm', uid: 'u1' });
    expect(e.reportingComponent).toBe('vigil.dev/vigil-sync');
    expect(e.message.length).toBeLessThanOrEqual(1024);
    expect(e.message.endsWith('x… (truncated)')).toBe(true);
    expect(JSON.parse(JSON.stringify(e)).firstTimestamp).toBe('2026-12-07T10:00:00.000Z');
  });

  it('leaves out an unknown uid', () => {
    const e = eventObject({ component: 'c', instance: 'i' }, { apiVersion: 'v1', kind: 'Secret', namespace: 'ns', name: 's' }, { type: 'Normal', reason: 'R', message: 'm' });
    expect('uid' in e.involvedObject).toBe(false);
    expect(truncateEventMessage('short')).toBe('short');
  });
});
