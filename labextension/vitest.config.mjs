// Unit tests of the frontend: pure logic, the typed API client (against a fake fetch), and components
// rendered to static markup. They run in Node with no browser and no network.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.{ts,tsx}'],
    environment: 'node',
    css: false
  },
  esbuild: { jsx: 'transform', jsxFactory: 'React.createElement', jsxFragment: 'React.Fragment' }
});
