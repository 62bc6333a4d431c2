'use strict';
/**
 * Preloaded into a child process (`node --require`): when it exits, writes the
 * paths of every CommonJS module it loaded, one per line, to the file named by
 * S3_REWIND_TEST_LOADED_MODULES, so a test can see what a command pulled in.
 */
const { writeFileSync } = require('node:fs');

const target = process.env.S3_REWIND_TEST_LOADED_MODULES;
if (target) process.on('exit', () => writeFileSync(target, Object.keys(require.cache).join('\n')));
