import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of every workspace package, so no build is needed first.
const root = import.meta.dirname;
const workspaceDirs = ['packages', 'services', 'tools', 'examples']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(root, group, name)))
  .concat([join(root, 'infra'), join(root, 'bench')]);
// `@inv/x` is src/index.ts, and a package's internal entry point `@inv/x/internal` is src/internal.ts.
const alias = workspaceDirs
  .filter((dir) => existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src/index.ts')))
  .flatMap((dir) => {
    const name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name;
    return ['index', 'internal']
      .filter((entry) => existsSync(join(dir, `src/${entry}.ts`)))
      .map((entry) => ({
        find: new RegExp(`^${name}${entry === 'index' ? '' : `/${entry}`}$`),
        replacement: resolve(dir, `src/${entry}.ts`),
      }));
  });

const shared = { resolve: { alias } };
const everyTest = ['{packages,services,tools,infra,bench,examples}/**/{src,test}/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'integration',
          include: everyTest,
          exclude: ['**/node_modules/**', '**/dist/**', '**/*.fault.test.ts', '**/*.e2e.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        ...shared,
        test: {
          name: 'fault',
          globalSetup: ['scripts/vitest-build.ts'],
          include: ['{packages,services,tools,infra}/**/*.fault.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        ...shared,
        test: {
          name: 'e2e',
          globalSetup: ['scripts/vitest-build.ts'],
          include: ['{packages,services,tools,infra}/**/*.e2e.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
