// ESM setup: client-node 2 is ESM-only, so tests run as native ESM through ts-jest
// (needs NODE_OPTIONS=--experimental-vm-modules, set by `npm test` and the Makefile).
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // Integration tests start real processes; they set their own longer timeouts.
  testTimeout: 30000,
};
