import { resolve } from 'node:path';
import { defineConfig } from 'vite';

// The browser app builds from the workspace packages' TypeScript sources.
export default defineConfig({
  root: resolve(import.meta.dirname, 'src/ui'),
  build: { outDir: resolve(import.meta.dirname, 'dist/public'), emptyOutDir: true, target: 'es2022' },
  resolve: {
    alias: {
      '@inv/contracts': resolve(import.meta.dirname, '../../packages/contracts/src/index.ts'),
      '@inv/client': resolve(import.meta.dirname, '../../packages/client/src/index.ts'),
    },
  },
});
