'use strict';
// Unit and flow tests run from the TypeScript sources through tsx; the packed-package and browser tests have their
// own configs (.mocharc.pack.cjs, .mocharc.browser.cjs).
module.exports = {
  require: ['tsx/cjs'],
  extension: ['ts'],
  spec: ['test/**/*.test.ts'],
  ignore: ['test/pack/**', 'test/browser/**'],
  timeout: 20000,
  exit: false,
};
