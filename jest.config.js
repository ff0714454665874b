// sfdx-lwc-jest for the Lightning Web Components in force-app (TypeScript sources run directly).
import { jestConfig } from '@salesforce/sfdx-lwc-jest/config.js';

export default {
  ...jestConfig,
  roots: ['<rootDir>/force-app'],
  moduleFileExtensions: ['ts', 'js', 'html', 'json'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  setupFilesAfterEnv: ['<rootDir>/force-app/test/jest-setup.js'],
  modulePathIgnorePatterns: ['<rootDir>/.localdevserver'],
};
