import os from 'node:os';

/** Jest runs TypeScript ESM through SWC: fast, and no separate build step. */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 20000,
  // Most suites spend their time waiting on sockets, timers and child processes, not computing, so
  // two workers pay even on two cores (Jest's default there, cores - 1, runs the files one by one).
  maxWorkers: Math.max(2, os.availableParallelism() - 1),
  globalSetup: '<rootDir>/tests/support/tempInMemory.js',
  reporters: ['default', '<rootDir>/tests/support/plainSummaryReporter.js'],
};
