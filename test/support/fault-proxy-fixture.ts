/**
 * What every test behind the fault proxy shares (test/reliability): the engine
 * fixture (a client straight to the local S3 to seed and look with, a work
 * bucket, buckets removed after the file's tests); a FaultProxy in front of the
 * local S3, started before the file's tests and stopped after them, its rules
 * and rates cleared after each test; and file work stores in temporary
 * directories, removed after the file's tests.
 */
import type { FileWorkStore } from '../../cli/file-work-store.ts';
import { engineFixture, type EngineFixture } from './engine-fixture.ts';
import { FaultProxy, type FaultProxyOptions } from './fault-proxy.ts';
import { workStores } from './work-stores.ts';

export interface FaultProxyFixture extends EngineFixture {
  /** The proxy in front of the local S3 (started in beforeAll): point a restore's client at `proxy.endpoint`. */
  readonly proxy: FaultProxy;
  /** A file work store in a new temporary directory. */
  workStore(): FileWorkStore;
}

/** Registers beforeAll/afterEach/afterAll for a test file and returns its fixture; `options` seed the proxy's random faults. */
export function faultProxyFixture(label: string, options: Pick<FaultProxyOptions, 'seed'> = {}): FaultProxyFixture {
  let proxy: FaultProxy | undefined;
  const stores = workStores();

  beforeAll(async () => {
    proxy = await FaultProxy.start(options);
  });

  afterEach(() => {
    proxy?.setRates({});
    proxy?.clearRules();
  });

  // Registered before the engine fixture's: the proxy stops (no held write still
  // on its way) before the buckets are emptied and removed.
  afterAll(async () => {
    await proxy?.stop();
    stores.removeAll();
  }, 120_000);

  const engine = engineFixture(label);
  return {
    ...engine,
    get proxy(): FaultProxy {
      if (!proxy) throw new Error('the fault proxy is started in beforeAll');
      return proxy;
    },
    workStore: () => stores.make(),
  };
}
