// Builds module.js as Grafana loads plugin frontends: an AMD module whose
// dependencies (React and Grafana's packages) Grafana provides. esbuild
// bundles the TypeScript; the AMD wrapper hands Grafana's modules to the
// bundle's require(). With --tests, compiles the unit tests for node --test.
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

const externals = ['@grafana/data', '@grafana/runtime', '@grafana/ui', '@grafana/schema', 'react', 'react-dom'];

if (process.argv.includes('--tests')) {
  const tests = readdirSync('src').filter((f) => f.endsWith('.test.ts')).map((f) => 'src/' + f);
  await build({ entryPoints: tests, bundle: true, platform: 'node', format: 'cjs', outdir: 'dist-test', outExtension: { '.js': '.cjs' }, logLevel: 'warning' });
} else {
  const names = externals.map((e) => JSON.stringify(e)).join(', ');
  await build({
    entryPoints: ['src/module.ts'],
    bundle: true,
    format: 'iife',
    globalName: '__furrowPlugin',
    external: externals,
    jsx: 'transform',
    target: 'es2020',
    minify: true,
    sourcemap: false,
    outfile: process.env.OUT || 'dist/module.js',
    banner: { js: `define([${names}], function () { var __deps = {}; var __names = [${names}]; for (var i = 0; i < __names.length; i++) { __deps[__names[i]] = arguments[i]; } var require = function (n) { return __deps[n]; };` },
    footer: { js: 'return __furrowPlugin; });' },
    logLevel: 'warning',
  });
}
