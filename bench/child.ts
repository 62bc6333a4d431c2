import { spawn } from 'node:child_process';
import { basename } from 'node:path';

/** A bench measurement run as its own process: its JSON result on stdout, exit 1 on failure. */
export function runAsChild<T>(measure: () => Promise<T>): void {
  measure().then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** Runs `file` (a bench script) as its own process with `--child INPUT`, and resolves to the JSON result it printed last. */
export function measureInChild<T>(file: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', file, '--child', JSON.stringify(input)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as T) : reject(new Error(`${basename(file)} child exited with ${code}`)),
    );
  });
}
