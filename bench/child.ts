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
