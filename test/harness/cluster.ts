// Moved to hack/local-stack/cluster.ts (issue #12: one stack module for make local-up, the tests and the
// benchmarks; hack/ no longer imports test/). Kept so that branches written against the old path still
// build; import from hack/local-stack/cluster.js instead.
export * from '../../hack/local-stack/cluster.js';
