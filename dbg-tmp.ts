import { runRestoreLocally } from './cli/local-runner.ts';
import { createS3Client } from '#core/s3/client.ts';
import { FaultProxy } from './test/support/fault-proxy.ts';
import { createVersionedBucket, testS3Client } from './test/support/s3.ts';
import { requestFor, workStores } from './test/reliability/faulty-s3.ts';
import { seedIncident } from './test/reliability/scenario.ts';
(async () => {
  const plain = testS3Client();
  const proxy = await FaultProxy.start({});
  const incident = await seedIncident(plain, await createVersionedBucket(plain, 'capdbg'), 400);
  const s3 = createS3Client({ endpoint: proxy.endpoint, maxSockets: 64 });
  const ops: Array<[number,string]> = [];
  proxy.waitForRequest(() => false);
  const since = Date.now();
  const orig = (proxy as any).decide.bind(proxy);
  (proxy as any).decide = async (r: any) => { ops.push([Date.now()-since, r.operation]); return orig(r); };
  const summary = await runRestoreLocally({ request: { ...requestFor(incident, 'copy'), maxWritesPerSecond: 40 } }, { s3, store: workStores().make(), concurrency: 64 });
  console.log(summary.status, summary.counts, proxy.highestWritesInOneSecond(since));
  const hist: Record<string, Record<string, number>> = {};
  for (const [t, op] of ops) { const k = String(Math.floor(t/250)*250); (hist[k] ??= {})[op] = ((hist[k] ??= {})[op] ?? 0) + 1; }
  console.log(JSON.stringify(hist));
  await proxy.stop(); s3.destroy();
})();
