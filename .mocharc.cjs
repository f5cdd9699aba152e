'use strict';
// Unit and flow tests run from the TypeScript sources through tsx; the packed-package test has its own config.
module.exports = {
  require: ['tsx/cjs'],
  extension: ['ts'],
  spec: ['test/**/*.test.ts'],
  ignore: ['test/pack/**'],
  timeout: 20000,
  exit: false,
};
