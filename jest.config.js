/**
 * Jest runs the TypeScript sources through ts-jest in transpile-only mode:
 * type checking is done once, by the compile in scripts/setup.sh (scripts/build.sh,
 * skipped when no source changed since a clean compile), instead of per test
 * file (which costs minutes on a 2-core machine).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/global-setup.ts',
};
