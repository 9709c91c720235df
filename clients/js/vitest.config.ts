import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (file: string): string => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    // the examples import the package by name, as users do; point that at the sources
    alias: [
      { find: /^@practicegen\/client\/react$/, replacement: source('react.ts') },
      { find: /^@practicegen\/client$/, replacement: source('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 15_000,
    hookTimeout: 60_000,
  },
});
