#!/usr/bin/env node
'use strict';
/**
 * The s3-rewind executable: runs cli/main.ts through tsx, with no build step.
 * Paths resolve from this file, so it works from any directory, through
 * `npx s3-rewind` and `npm link` alike.
 */
const path = require('node:path');

// The AWS SDK warns on Node < 22 with a multi-line NodeVersionSupportWarning on
// every run; its own switch turns just that warning off.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
