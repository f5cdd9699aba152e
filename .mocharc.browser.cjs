'use strict';
// The editor tests (test/browser): the packed package in a real Node-RED, driven through Debian's Chromium with
// playwright-core. Slow by nature (a build, an npm install from the registry, Node-RED and Chromium starts).
module.exports = {
  require: ['tsx/cjs'],
  extension: ['ts'],
  spec: ['test/browser/**/*.test.ts'],
  timeout: 90000,
  exit: false,
};
