import type { TxAnswer, TxFileSystem, TxQuery } from './file-system.js'

/*
 * The preparation's reads, gathered. A transaction checks its targets one after the other, in
 * target order: the first that fails is the one reported. On a file system where each read is a
 * round trip (a machine over SSH), reading them one after the other costs a round trip per fact
 * and target. Instead the same checks first run for every target at once against a view that
 * answers from what was read and records what was not; the recorded questions are asked in one
 * batch ({@link TxFileSystem.ask}), and again until no check asks anything new. Then the checks
 * run for real, in target order, against the answers: the same facts checked, the same refusals,
 * only read earlier and together.
 */

/** {@link TxFileSystem.ask} by the single calls of `fs`, all at once. */
export function askEach(fs: TxFileSystem, queries: readonly TxQuery[]): Promise<TxAnswer[]> {
  return Promise.all(
    queries.map((q) =>
      Promise.resolve()
        .then(() => callOf(fs, q))
        .then(
          (value): TxAnswer => ({ ok: true, value }),
          (error: unknown): TxAnswer => ({ ok: false, error }),
        ),
    ),
  )
}

function callOf(fs: TxFileSystem, q: TxQuery): Promise<unknown> {
  switch (q.op) {
    case 'realpath':
      return fs.realpath(q.path)
    case 'lstat':
      return fs.lstat(q.path)
    case 'probeWritable':
      return fs.probeWritable(q.path, q.exists)
    case 'pinDir':
      return fs.pinDir(q.dir)
    case 'pinChanged':
      return fs.pinChanged(q.dir, q.pin)
    case 'userWritableDir':
      return fs.userWritableDir(q.dir, q.owner, q.acls)
  }
}

/** Thrown by the view while gathering, for a question not answered yet. */
const UNANSWERED = new Error('not read yet: asked in the next batch')

/** Rounds of questions at most; a check still asking after them reads by single calls. */
const MAX_ROUNDS = 8

/**
 * A view of `fs` for the preparation: its reads answered from what {@link gather} read (or by
 * the single call when not), its mount table and the lstat of each path read once.
 */
export class Facts {
  readonly view: TxFileSystem
  private readonly answers = new Map<string, TxAnswer>()
  /** The lstats read by single calls (a file system without `ask`), by path. */
  private readonly lstats = new Map<string, Promise<unknown>>()
  private asking: Map<string, TxQuery> | undefined
  private mounts: Promise<ReadonlySet<string> | undefined> | undefined
  private readonly aclIds = new WeakMap<object, number>()
  private aclCount = 0

  constructor(private readonly fs: TxFileSystem) {
    const get = <T>(q: TxQuery) => this.get(q) as Promise<T>
    this.view = {
      ...fs,
      realpath: (path) => get({ op: 'realpath', path }),
      lstat: (path) => get({ op: 'lstat', path }),
      probeWritable: (path, exists) => get({ op: 'probeWritable', path, exists }),
      pinDir: (dir) => get({ op: 'pinDir', dir }),
      pinChanged: (dir, pin) => get({ op: 'pinChanged', dir, pin }),
      userWritableDir: (dir, owner, acls) => get({ op: 'userWritableDir', dir, owner, acls }),
      mountPoints: () => (this.mounts ??= fs.mountPoints()),
    }
  }

  /**
   * Runs `check` of every item at once, against the view, until the checks ask nothing that is
   * not answered: each round's questions go to the file system in one {@link TxFileSystem.ask}.
   * What the checks conclude is dropped (they run again, for real, in order); only their reads
   * are kept. Does nothing on a file system without `ask`.
   */
  async gather<T>(items: readonly T[], check: (fs: TxFileSystem, item: T) => Promise<unknown>) {
    if (!this.fs.ask || items.length === 0) return
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const asking = (this.asking = new Map())
      try {
        await Promise.allSettled(items.map((item) => check(this.view, item)))
      } finally {
        this.asking = undefined
      }
      if (asking.size === 0) return
      const queries = [...asking.values()]
      const answers = await this.fs.ask(queries)
      if (answers.length !== queries.length)
        throw new Error(`ask answered ${answers.length} of ${queries.length} questions`)
      for (const [k, q] of queries.entries()) this.answers.set(this.keyOf(q), answers[k]!)
    }
  }

  private async get(q: TxQuery): Promise<unknown> {
    const key = this.keyOf(q)
    const a = this.answers.get(key)
    if (a) {
      if (a.ok) return a.value
      throw a.error
    }
    if (this.asking) {
      this.asking.set(key, q)
      throw UNANSWERED
    }
    if (q.op === 'lstat') {
      // read once for the preparation, as one batch of `ask` reads it (a target's is asked twice:
      // where it is, then what it is)
      let read = this.lstats.get(q.path)
      if (!read) this.lstats.set(q.path, (read = callOf(this.fs, q)))
      return read
    }
    return callOf(this.fs, q)
  }

  private keyOf(q: TxQuery): string {
    switch (q.op) {
      case 'realpath':
      case 'lstat':
        return `${q.op}\0${q.path}`
      case 'probeWritable':
        return `${q.op}\0${q.exists}\0${q.path}`
      case 'pinDir':
        return `${q.op}\0${q.dir}`
      case 'pinChanged':
        return `${q.op}\0${q.dir}\0${q.pin === undefined ? '-' : q.pin.join(' ')}`
      case 'userWritableDir': {
        let id = this.aclIds.get(q.acls)
        if (id === undefined) this.aclIds.set(q.acls, (id = this.aclCount++))
        return `${q.op}\0${q.dir}\0${q.owner}\0${id}`
      }
    }
  }
}
