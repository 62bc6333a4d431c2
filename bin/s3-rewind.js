#!/usr/bin/env node
'use strict';
/**
 * The s3-rewind executable: runs cli/main.ts through tsx, with no build step.
 * Paths resolve from this file, so it works from any directory, through
 * `npx s3-rewind` and `npm link` alike.
 */
const path = require('node:path');

// The AWS SDK warns on Node < 22 with a multi-line NodeVersionSupportWarning on
// every run. Drop that one warning; every other warning is emitted as usual.
const emitWarning = process.emitWarning;
process.emitWarning = function filteredEmitWarning(warning, ...rest) {
  const text = typeof warning === 'string' ? warning : warning && warning.message;
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  if ((typeof text === 'string' && text.startsWith('NodeVersionSupportWarning')) || type === 'NodeVersionSupportWarning') return;
  return emitWarning.call(process, warning, ...rest);
};

const root = path.join(__dirname, '..');
// Our tsconfig, not whatever the current directory has.
process.env.TSX_TSCONFIG_PATH = path.join(root, 'tsconfig.json');
// tsx's CommonJS hooks: cli/main.ts and everything it requires load as TypeScript.
require('tsx/cjs/api').register();

Promise.resolve()
  .then(() => require(path.join(root, 'cli', 'main.ts')).main(process.argv))
  .catch((error) => {
    process.stderr.write(`error: ${error && error.stack ? error.stack : error}\n`);
    process.exitCode = 1;
  });
