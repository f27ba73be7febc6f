import {
  ANNOTATIONS,
  annotationMergePatch,
  asReplicaAnnotations,
  failureAnnotations,
  pendingAnnotationChanges,
  replicaOrdinal,
  successAnnotations,
  toRfc3339,
  truncateMessage,
} from './annotations.js';

describe('sync annotations', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');

  it('success sets hash and time and clears an earlier failure', () => {
    expect(successAnnotations('abc', at)).toEqual({
      'vigil.dev/applied-hash': 'abc',
      'vigil.dev/applied-at': '2026-01-02T03:04:05Z',
      'vigil.dev/reload-error': null,
      'vigil.dev/failed-hash': null,
    });
  });

  it('failure sets the error and the failed hash but leaves applied-hash alone', () => {
    const changes = failureAnnotations('def', '  boom\n');
    expect(changes).toEqual({ 'vigil.dev/reload-error': 'boom', 'vigil.dev/failed-hash': 'def' });
    expect(ANNOTATIONS.appliedHash in changes).toBe(false);
  });

  it('truncates long errors to the annotation limit', () => {
    const long = 'x'.repeat(5000);
    const cut = truncateMessage(long, 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut.endsWith('(truncated)')).toBe(true);
    expect(truncateMessage('short', 100)).toBe('short');
  });

  it('RFC 3339 drops milliseconds and stays UTC', () => {
    expect(toRfc3339(at)).toBe('2026-01-02T03:04:05Z');
  });

  it('only patches what differs; removals only for present keys', () => {
    const wanted = successAnnotations('abc', at);
    expect(pendingAnnotationChanges(undefined, wanted)).toEqual({
      'vigil.dev/applied-hash': 'abc',
      'vigil.dev/applied-at': '2026-01-02T03:04:05Z',
    });
    const current = { 'vigil.dev/applied-hash': 'abc', 'vigil.dev/applied-at': '2020-01-01T00:00:00Z', 'vigil.dev/reload-error': 'old', other: 'x' };
    // applied-at of an already reported hash is not rewritten (that would echo forever).
    expect(pendingAnnotationChanges(current, wanted)).toEqual({ 'vigil.dev/reload-error': null });
    const done = { 'vigil.dev/applied-hash': 'abc', 'vigil.dev/applied-at': '2020-01-01T00:00:00Z' };
    expect(pendingAnnotationChanges(done, wanted)).toEqual({});
    // A new hash gets a new time.
    expect(pendingAnnotationChanges(done, successAnnotations('new', at))).toEqual({
      'vigil.dev/applied-hash': 'new',
      'vigil.dev/applied-at': '2026-01-02T03:04:05Z',
    });
  });

  it('a replica above 0 writes its own keys (and its pod), whose applied-at is kept like the plain one', () => {
    const wanted = asReplicaAnnotations(successAnnotations('abc', at), 2, 'vigil-alertmanager-2');
    expect(wanted).toEqual({
      'vigil.dev/applied-hash.replica-2': 'abc',
      'vigil.dev/applied-at.replica-2': '2026-01-02T03:04:05Z',
      'vigil.dev/reload-error.replica-2': null,
      'vigil.dev/failed-hash.replica-2': null,
      'vigil.dev/reporter-pod.replica-2': 'vigil-alertmanager-2',
    });
    expect(asReplicaAnnotations(successAnnotations('abc', at), 0)).toEqual(successAnnotations('abc', at));
    const done = { 'vigil.dev/applied-hash.replica-2': 'abc', 'vigil.dev/applied-at.replica-2': '2020-01-01T00:00:00Z', 'vigil.dev/reporter-pod.replica-2': 'vigil-alertmanager-2' };
    // Replica 0's report at another hash is not this replica's business.
    expect(pendingAnnotationChanges({ ...done, 'vigil.dev/applied-hash': 'old' }, wanted)).toEqual({});
    expect(pendingAnnotationChanges(done, asReplicaAnnotations(successAnnotations('new', at), 2, 'vigil-alertmanager-2'))).toEqual({
      'vigil.dev/applied-hash.replica-2': 'new',
      'vigil.dev/applied-at.replica-2': '2026-01-02T03:04:05Z',
    });
  });

  it('takes the replica from the StatefulSet ordinal of the pod name, 0 without one', () => {
    expect(replicaOrdinal('vigil-prometheus-0')).toBe(0);
    expect(replicaOrdinal('vigil-prometheus-12')).toBe(12);
    expect(replicaOrdinal('vigil-prometheus-shard-1-1')).toBe(1);
    expect(replicaOrdinal(undefined)).toBe(0);
    expect(replicaOrdinal('laptop')).toBe(0);
  });

  it('builds a merge patch touching only metadata.annotations', () => {
    expect(annotationMergePatch({ a: 'b', c: null })).toEqual({ metadata: { annotations: { a: 'b', c: null } } });
  });
});
