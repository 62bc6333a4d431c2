/**
 * The local runs of one restore id, each in a folder of its own:
 * `restores/<id>/runs/<n>/` (plan, outcomes, report, summary, the journal of
 * outcomes as they settled, and an `interrupted` marker after Ctrl-C). Running a
 * request again never moves an earlier run's files: a new run gets the next
 * number, and its folder is made only once the run is accepted (its request
 * validated, and its keys' source checked by the first plan step: an empty
 * scope is refused there); until then what it writes (the summary of a refused
 * run) is kept in memory, so a refused run leaves no folder and hides nothing.
 *
 * A plan (a dry run) keeps only its latest run. Runs made before this layout
 * (`restores/<id>/` itself, and `restores/<id>.<time>/` set aside by a later
 * run) are still read, as the earliest runs.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { KeyOutcome } from '#core/restore/model.ts';
import { workKeys, type RestoreSummary } from '#core/steps/contracts.ts';
import { fromLines, toLines, type StreamedObject, type WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from './file-work-store.ts';

/** One run of a restore id on this machine. */
export interface LocalRun {
  /** 1 for the first; runs of the old layout come first. */
  readonly run: number;
  /** The folder holding its files. */
  readonly dir: string;
}

/** How a run stands, for `status`. */
export interface LocalRunState extends LocalRun {
  /** The summary's status; `INTERRUPTED` after Ctrl-C; `UNFINISHED` when it left no summary (still running, or killed). */
  readonly status: string;
  /** When its summary (or marker) was written. */
  readonly endedAt?: string;
  readonly summary?: RestoreSummary;
}

/** The file of outcomes appended as each key settles. */
export const JOURNAL = 'journal.jsonl';
/** Left by a run stopped with Ctrl-C. */
export const INTERRUPTED = 'interrupted';

/** Old layout: a run's folder set aside as `<id>.<time>` by the run after it. */
const SET_ASIDE = /^\d{8}T\d{6}Z$/;

export class RunStore {
  readonly dir: string;

  constructor(
    readonly store: FileWorkStore,
    readonly restoreId: string,
  ) {
    this.dir = store.locationOf(workKeys(restoreId).root.replace(/\/$/, ''));
  }

  /** Every run of the restore id, oldest first. */
  async list(): Promise<LocalRun[]> {
    const legacy: string[] = [];
    const parent = join(this.dir, '..');
    const names = await readdir(parent).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (name.startsWith(`${this.restoreId}.`) && SET_ASIDE.test(name.slice(this.restoreId.length + 1))) legacy.push(join(parent, name));
    }
    const own = await readdir(this.dir).catch(() => [] as string[]);
    if (own.some((name) => name !== 'runs')) legacy.push(this.dir);
    const numbered = (await readdir(join(this.dir, 'runs')).catch(() => [] as string[]))
      .filter((name) => /^[1-9]\d*$/.test(name))
      .map(Number)
      .sort((a, b) => a - b);
    return [...legacy.map((dir, i) => ({ run: i + 1, dir })), ...numbered.filter((n) => n > legacy.length).map((run) => ({ run, dir: this.runDir(run) }))];
  }

  /** How run `run` (or the latest) stands; undefined when there is none. */
  async state(run?: number): Promise<LocalRunState | undefined> {
    const runs = await this.list();
    const found = run === undefined ? runs.at(-1) : runs.find((r) => r.run === run);
    return found ? stateOf(found) : undefined;
  }

  /** How every run stands, oldest first. */
  async states(): Promise<LocalRunState[]> {
    return Promise.all((await this.list()).map(stateOf));
  }

  runDir(run: number): string {
    return join(this.dir, 'runs', String(run));
  }

  /**
   * The next run: its number, and a store that writes the restore's keys into
   * its folder once `accept` is called (in memory before). A dry run is run 1,
   * replacing the plan made before once accepted.
   */
  async next(dryRun: boolean): Promise<PendingRun> {
    const runs = await this.list();
    const run = dryRun ? 1 : (runs.at(-1)?.run ?? 0) + 1;
    return new PendingRun(this, run, dryRun, runs.at(-1));
  }
}

async function stateOf(run: LocalRun): Promise<LocalRunState> {
  const read = async (name: string) => {
    const path = join(run.dir, name);
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    return { text, at: info.mtime.toISOString() };
  };
  const marker = await read(INTERRUPTED).catch(() => undefined);
  const summaryFile = await read('summary.json').catch(() => undefined);
  const summary = summaryFile ? (JSON.parse(summaryFile.text) as RestoreSummary) : undefined;
  const status = marker ? 'INTERRUPTED' : (summary?.status ?? 'UNFINISHED');
  const endedAt = marker?.at ?? summaryFile?.at;
  return { ...run, status, ...(endedAt ? { endedAt } : {}), ...(summary ? { summary } : {}) };
}

/**
 * A run being started: a `WorkStore` over `restores/<id>/` whose keys land in
 * `restores/<id>/runs/<n>/`. Nothing reaches the disk before `accept`.
 */
export class PendingRun {
  readonly dir: string;
  private accepted = false;
  /** Stopped by Ctrl-C: the run's own steps write nothing more (its report is the interruption's). */
  private stopped = false;
  private readonly held = new Map<string, string>();
  private journal: WriteStream | undefined;
  private readonly from: string;
  private readonly to: string;

  constructor(
    readonly runs: RunStore,
    readonly run: number,
    private readonly dryRun: boolean,
    /** The run before this one, if any. */
    readonly previous: LocalRun | undefined,
  ) {
    this.dir = runs.runDir(run);
    this.from = workKeys(runs.restoreId).root;
    this.to = `${this.from}runs/${run}/`;
  }

  get isAccepted(): boolean {
    return this.accepted;
  }

  /** Nothing refused the run's request: its folder is made and what it wrote so far goes there. */
  async accept(): Promise<void> {
    if (this.accepted) return;
    if (this.dryRun) {
      // A plan keeps its latest run only.
      await rm(this.runs.dir, { recursive: true, force: true });
    }
    await mkdir(this.dir, { recursive: true });
    this.accepted = true;
    for (const [key, text] of this.held) await this.runs.store.putText(key, text);
    this.held.clear();
  }

  /** Ctrl-C: from now on the run's steps write nothing and the journal takes no more outcomes. */
  stop(): void {
    this.stopped = true;
  }

  /** Appends a settled key's outcome to the run's journal (acting runs, once accepted). */
  record(outcome: KeyOutcome): void {
    if (!this.accepted || this.dryRun || this.stopped) return;
    this.journal ??= createWriteStream(join(this.dir, JOURNAL), { flags: 'a', encoding: 'utf8' });
    this.journal.write(`${JSON.stringify(outcome)}\n`);
  }

  /** Every outcome the journal holds so far (flushed first). */
  async journaled(): Promise<KeyOutcome[]> {
    await this.closeJournal();
    const text = await readFile(join(this.dir, JOURNAL), 'utf8').catch(() => '');
    return fromLines<KeyOutcome>(text);
  }

  async closeJournal(): Promise<void> {
    const journal = this.journal;
    this.journal = undefined;
    if (journal) await new Promise<void>((resolve, reject) => journal.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }

  /** Marks the run as stopped by the operator. */
  async markInterrupted(): Promise<void> {
    await writeFile(join(this.dir, INTERRUPTED), `${new Date().toISOString()}\n`, 'utf8');
  }

  private key(key: string): string {
    return key.startsWith(this.from) ? this.to + key.slice(this.from.length) : key;
  }

  /**
   * The run's store: the restore's keys mapped into the run's folder. Once the
   * run is stopped its writes are refused, except through the store given with
   * `afterStop` (the interruption's report).
   */
  store(afterStop = false): WorkStore {
    const base: WorkStore = this.runs.store;
    const refuseIfStopped = () => {
      if (this.stopped && !afterStop) throw Object.assign(new Error('the run was interrupted (Ctrl-C)'), { name: 'RequestInterrupted' });
    };
    const unmap = (key: string) => (key.startsWith(this.to) ? this.from + key.slice(this.to.length) : key);
    const pending = (key: string) => !this.accepted && key.startsWith(this.from);
    const hold = (key: string, text: string) => void this.held.set(key, text);
    const held = this.held;
    const mapKey = (key: string) => this.key(key);
    async function* keysOf(prefix: string): AsyncGenerator<string> {
      const names = new Set<string>();
      for await (const key of base.keys(mapKey(prefix))) names.add(unmap(key));
      for (const key of held.keys()) if (key.startsWith(mapKey(prefix))) names.add(unmap(key));
      yield* [...names].sort();
    }
    return {
      putLines: async (key, rows) => {
        refuseIfStopped();
        if (pending(key)) return hold(this.key(key), toLines(rows));
        await base.putLines(this.key(key), rows);
      },
      putText: async (key, body, contentType) => {
        refuseIfStopped();
        if (pending(key)) return hold(this.key(key), body);
        await base.putText(this.key(key), body, contentType);
      },
      putIfAbsent: async (key, body, contentType) => {
        refuseIfStopped();
        if (!pending(key)) return base.putIfAbsent(this.key(key), body, contentType);
        if (held.has(this.key(key))) return false;
        hold(this.key(key), body);
        return true;
      },
      putStream: async (key, lines, contentType): Promise<StreamedObject> => {
        refuseIfStopped();
        if (!pending(key)) return base.putStream(this.key(key), lines, contentType);
        const parts: string[] = [];
        for await (const line of lines) parts.push(`${line}\n`);
        hold(this.key(key), parts.join(''));
        return {};
      },
      getText: async (key) => this.held.get(this.key(key)) ?? base.getText(this.key(key)),
      getLines: async (key) => {
        const held = this.held.get(this.key(key));
        return held !== undefined ? fromLines(held) : base.getLines(this.key(key));
      },
      readRange: async (key, start, length) => {
        const held = this.held.get(this.key(key));
        return held !== undefined ? Buffer.from(held, 'utf8').subarray(start, start + length) : base.readRange(this.key(key), start, length);
      },
      keys: (prefix) => keysOf(prefix),
      locationOf: (key) => base.locationOf(this.key(key)),
    };
  }
}

/** `restores/<id>/<file>`: a restore's own file, not one inside `runs/`. */
const RESTORE_FILE = /^restores\/([^/]+)\/(?!runs\/)(.+)$/;

/**
 * The work store of this machine as later commands read it: a restore's files
 * (`restores/<id>/request.json`, its report…) are those of its latest run that
 * kept its request, i.e. that got as far as its report. This is how an undo reads
 * the restore it takes back and `verify <id>` reads its request. Writes, and the
 * keys a running run maps into its own folder (`PendingRun.store`), are unchanged.
 */
export class LatestRunsWorkStore extends FileWorkStore {
  private async resolve(key: string): Promise<string> {
    const match = RESTORE_FILE.exec(key);
    if (!match) return key;
    const [, restoreId, rest] = match as unknown as [string, string, string];
    const runs = await new RunStore(this, restoreId).list();
    for (const run of runs.reverse()) {
      const kept = await stat(join(run.dir, 'request.json')).then(
        () => true,
        () => false,
      );
      if (kept) return `${relative(this.root, run.dir).split(sep).join('/')}/${rest}`;
    }
    return key;
  }

  override async getText(key: string): Promise<string> {
    return super.getText(await this.resolve(key));
  }

  override async readRange(key: string, start: number, length: number): Promise<Uint8Array> {
    return super.readRange(await this.resolve(key), start, length);
  }
}
