/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { module: 'commonjs', moduleResolution: 'node', isolatedModules: true } }],
  },
  // ESM-only packages used by unit tests are transformed too.
  transformIgnorePatterns: ['/node_modules/(?!(fauxqs)/)'],
  testTimeout: 30000,
};
