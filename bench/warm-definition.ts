/**
 * Synthesizes (or reads back) the state machine definition the local runner
 * executes and writes it to a file the measured variants read: synthesis takes
 * seconds and loads the CDK, which must land in no variant's time or memory,
 * and every variant of a run executes the same definition even while lib/ changes.
 */
import { writeFileSync } from 'node:fs';
import { loadDefinition } from '../cli/local-definition.ts';

const { file } = JSON.parse(process.argv[2] ?? '{}') as { file: string };
loadDefinition().then(
  (definition) => {
    writeFileSync(file, JSON.stringify(definition));
    process.stdout.write('{}\n');
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
