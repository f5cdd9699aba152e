'use strict';
// The packed-package test (test/pack): npm pack, install into a fresh Node-RED user dir, run a real Node-RED.
// Slow by nature (a build, an npm install from the registry, a Node-RED start), hence the long timeout.
module.exports = {
  require: ['tsx/cjs'],
  extension: ['ts'],
  spec: ['test/pack/**/*.test.ts'],
  timeout: 180000,
  exit: false,
};
