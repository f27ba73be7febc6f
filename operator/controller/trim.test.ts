import { lacksOwner, trimCachedObject } from './controller.js';

describe('trimCachedObject', () => {
  it("drops managedFields and kubectl's last-applied copy, and keeps everything the controller reads", () => {
    const obj = {
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: {
        name: 'a',
        namespace: 'shop',
        uid: 'u1',
        generation: 3,
        resourceVersion: '42',
        labels: { team: 'x' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}', 'vigil.dev/config-hash': 'abc' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
      },
      spec: { endpoints: [{ port: 'metrics' }] },
      status: { observedGeneration: 3 },
    };
    trimCachedObject(obj);
    expect(obj).toEqual({
      apiVersion: 'vigil.dev/v1alpha1',
      kind: 'MonitoredService',
      metadata: { name: 'a', namespace: 'shop', uid: 'u1', generation: 3, resourceVersion: '42', labels: { team: 'x' }, annotations: { 'vigil.dev/config-hash': 'abc' } },
      spec: { endpoints: [{ port: 'metrics' }] },
      status: { observedGeneration: 3 },
    });
  });

  it('leaves objects without those fields alone', () => {
    const obj = { metadata: { name: 'a', annotations: { x: '1' } } };
    trimCachedObject(obj);
    expect(obj).toEqual({ metadata: { name: 'a', annotations: { x: '1' } } });
    expect(() => trimCachedObject({})).not.toThrow();
  });
});

describe('lacksOwner', () => {
  const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'vigil-operator-settings', uid: 'u-1' };
  it('is false when no owner is wanted or the object carries it', () => {
    expect(lacksOwner({ name: 'x' }, undefined)).toBe(false);
    expect(lacksOwner({ name: 'x', ownerReferences: [{ ...owner }] }, [owner])).toBe(false);
  });
  it('is true when the wanted owner (by uid) is missing, e.g. after a reinstall made a new settings ConfigMap', () => {
    expect(lacksOwner({ name: 'x' }, [owner])).toBe(true);
    expect(lacksOwner(undefined, [owner])).toBe(true);
    expect(lacksOwner({ name: 'x', ownerReferences: [{ ...owner, uid: 'u-0' }] }, [owner])).toBe(true);
  });
});
