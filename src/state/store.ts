/**
 * Where checkpoints live (`globals.persistence`). Keys are built with `stateKey()` so that every
 * input/service/region (and log group) has its own entry. Values are small JSON documents.
 */
export interface StateStore {
  /**
   * Before the first use by a running collector: takes the state directory's lock, or checks the
   * Redis connection. Throws STATE_LOCKED / STATE_UNREACHABLE naming the place.
   */
  open(): Promise<void>;
  /** The saved value, or undefined when none was ever saved. Throws STATE_UNREADABLE if corrupt. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Saves durably (atomic: a reader sees the previous or the new value, never a mix). */
  set(key: string, value: unknown): Promise<void>;
  close(): Promise<void>;
}

/** `input/service/region[/extra...]` — the one way keys are formed (see taskKey). */
export function stateKey(...parts: string[]): string {
  return parts.map((p) => p.replaceAll('/', '%2F')).join('/');
}

/** What a worker's checkpoints belong to (a WorkerContext is one). */
export interface TaskIdentity {
  readonly inputId: string;
  /** The account of inputs.aws.accounts; undefined without accounts. */
  readonly account?: string | undefined;
  readonly serviceName: string;
  readonly region: string;
}

/**
 * The key of a worker's checkpoint: `input/service/region[/extra...]`, and with an account of
 * inputs.aws.accounts `input/account/service/region[/extra...]` — without accounts the keys stay
 * as they always were, so an upgrade resumes where it was.
 */
export function taskKey(task: TaskIdentity, ...extra: string[]): string {
  const account = task.account === undefined ? [] : [task.account];
  return stateKey(task.inputId, ...account, task.serviceName, task.region, ...extra);
}
