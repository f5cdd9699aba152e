// ESLint for @fluxfill/node-red-bfl: `npm run lint` (part of `npm test`).
//
// Every file is linted with type information, because the rules that matter most here need it:
// @typescript-eslint/no-floating-promises and no-misused-promises. Node-RED wraps a node's input and close
// handlers in a plain try/catch and exits on an unhandled rejection, so a promise nobody awaits, or an async
// function handed to something that ignores its result (node.on('input', async ...), an emitter, a timer), is how
// a node takes down the whole runtime.
//
//   lib/, nodes/, bin/, test/, bench/ (*.ts)   tsconfig.test.json, the same program `npm run typecheck` checks.
//   scripts/, *.mjs                             tsconfig.scripts.json: allowJs, types inferred from the JavaScript
//                                               and the imported packages' typings (not type-checked by tsc).
//   nodes/*.html, the editor scripts            see below.
//   nodes/editor/*.js                           browser scripts the build pastes into the dialogs: core rules.
//   .mocharc*.cjs                               plain settings objects: core rules only.
//
// The editor scripts stay inline in nodes/*.html, the layout every Node-RED package uses and the one
// `node-red-dev validate` reads (it wants a literal RED.nodes.registerType('bfl-fill', {...}) in a
// <script type="text/javascript"> block); moving them to separate files for linting would mean a build step that
// pastes them back. Instead eslint-plugin-html hands ESLint the JavaScript of each such block, and
// typescript-eslint's parser types it as TypeScript under the ".html" name (extraFileExtensions). The program
// comes from the project service's default project, whose compiler options are tsconfig.editor.json's: the DOM
// lib and types/node-red-editor, which declares the editor's RED global from @types/node-red and pulls in
// jQuery's typings. The service is handed the extracted script, never the raw markup. So the definition passed to
// RED.nodes.registerType, $(...).on(...) handlers and the DOM are typed, and an async oneditprepare or click
// handler, or an unawaited fetch(), is reported just as in the TypeScript. test/quality/editor-lint.test.ts
// proves it on a sample script, so a change here cannot quietly turn it off. The editor scripts are ES5-style
// untyped JavaScript, so the no-unsafe-* rules (which flag every use of an untyped parameter) and the ES2015 style
// rules are off for them; the promise rules are not.
//
// Beyond recommendedTypeChecked, only noise is turned off (see commonRules); nothing that guards against a crash.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import html from 'eslint-plugin-html';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

const promiseRules = {
  '@typescript-eslint/no-floating-promises': 'error',
  '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: true, checksConditionals: true }],
};

// Tuning of recommendedTypeChecked for every file.
const commonRules = {
  ...promiseRules,
  // An async function with no await is deliberate here: it turns a synchronous throw into a rejection the caller
  // handles, and implements promise-returning interfaces (Node-RED's storage API, retry callbacks).
  '@typescript-eslint/require-await': 'off',
  // Flags `match[1]!` and the like: without noUncheckedIndexedAccess the type already excludes undefined. The
  // assertions document what the code relies on; removing them is churn, not safety.
  '@typescript-eslint/no-unnecessary-type-assertion': 'off',
  // `const node = this;` is how Node-RED node constructors keep the node for their callbacks.
  '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
  '@typescript-eslint/no-unused-vars': [
    'error',
    { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
  ],
};

// Untyped values (JSON bodies in tests, callback parameters in JavaScript) are `any`: these rules would flag each
// use of them and find nothing the promise rules do not.
const noUnsafeAnyRules = {
  '@typescript-eslint/no-unsafe-argument': 'off',
  '@typescript-eslint/no-unsafe-assignment': 'off',
  '@typescript-eslint/no-unsafe-call': 'off',
  '@typescript-eslint/no-unsafe-member-access': 'off',
  '@typescript-eslint/no-unsafe-return': 'off',
};

export default defineConfig(
  {
    ignores: ['dist/', 'coverage/', 'demo-output/', 'test-artifacts/', '.node-red-dev/', '.cache/', '**/*.d.ts'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  // TypeScript: the package, its tests and the benchmark.
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: root },
    },
    rules: commonRules,
  },
  // Tests assert on parsed JSON bodies and the test helper's loosely typed nodes.
  {
    files: ['test/**/*.ts'],
    rules: { ...noUnsafeAnyRules, '@typescript-eslint/no-explicit-any': 'off' },
  },

  // The build, demo, start and sample scripts and this file (ES modules on Node.js).
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      globals: globals.node,
      parserOptions: { project: './tsconfig.scripts.json', tsconfigRootDir: root },
    },
    rules: {
      ...commonRules,
      ...noUnsafeAnyRules,
      // An 'error' event's parameter is `any` in JavaScript, so rejecting with it would be flagged.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true }],
    },
  },

  // The editor's scripts of their own (nodes/editor/*.js), pasted into the dialogs by the build: plain browser
  // scripts in the ES5 style of the inline ones. They create no promises, so the core rules are enough.
  {
    files: ['nodes/editor/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'script', globals: globals.browser },
    rules: { 'no-undef': 'error' },
  },

  // CommonJS settings files (.mocharc*.cjs).
  {
    files: ['**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },

  // The editor code the dialogs share (nodes/editor/*.js), which the build pastes into each dialog's script.
  {
    files: ['nodes/editor/*.js'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'script',
      globals: { ...globals.browser, RED: 'readonly', $: 'readonly', jQuery: 'readonly' },
    },
    rules: { 'no-undef': 'error', 'no-unused-vars': ['error', { caughtErrors: 'none' }] },
  },

  // The editor scripts inside nodes/*.html (see the top of this file).
  {
    files: ['nodes/*.html'],
    plugins: { html },
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parser: tseslint.parser,
      sourceType: 'script',
      globals: { ...globals.browser, RED: 'readonly', $: 'readonly', jQuery: 'readonly' },
      parserOptions: {
        projectService: { allowDefaultProject: ['nodes/*.html'], defaultProject: 'tsconfig.editor.json' },
        tsconfigRootDir: root,
        extraFileExtensions: ['.html'],
      },
    },
    rules: {
      ...commonRules,
      ...noUnsafeAnyRules,
      // Nothing type-checks these files, so keep the check for undeclared globals that TypeScript does elsewhere.
      'no-undef': 'error',
      // ES5 style, like the editor code of Node-RED's own nodes.
      'no-var': 'off',
      'prefer-const': 'off',
      'prefer-rest-params': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { caughtErrors: 'none' }],
    },
  },
);
