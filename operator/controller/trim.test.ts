import { trimCachedObject } from './controller.js';

describe('trimCachedObject', () => {
  it('drops managedFields and kubectl\'s last-applied copy, and keeps everything the controller reads', () => {
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
