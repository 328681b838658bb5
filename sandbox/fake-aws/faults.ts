import type { ServiceName } from './protocol.js';
import { seededRandom as mulberry32 } from '../random.js';

export type FaultKind = 'throttle' | '5xx' | 'delay' | 'malformed' | 'cut';

export interface FaultSpec {
  service: ServiceName;
  /** Operation name as the SDK command names it (`ReceiveMessage`, `GetObject`); all when omitted. */
  operation?: string;
  /**
   * throttle: the service's own throttling error; 5xx: InternalError (500) or ServiceUnavailable
   * (503, see `status`); delay: the request is held `delayMs` before it is handled; malformed: a
   * 200 whose body is cut short; cut: the real answer, whose connection drops after `afterBytes`
   * bytes of its body (the headers, content-length included, are sent whole; with
   * `closeDelimited`, without content-length, so the early close looks like the end of the body,
   * as from a proxy or emulator that streams bodies until the connection closes).
   */
  kind: FaultKind;
  /** How many matching requests it hits before it disarms itself (default: until removed). */
  times?: number;
  /** Chance of hitting each matching request, 0..1 (default 1), from a seeded generator. */
  probability?: number;
  /** For 'delay'. */
  delayMs?: number;
  /** For '5xx': 500 (default) or 503. */
  status?: 500 | 503;
  /** For 'cut'. */
  afterBytes?: number;
  closeDelimited?: boolean;
}

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
}

/** Armed faults, matched against each request in the order they were injected. */
export class Faults {
  private readonly active: ActiveFault[] = [];
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  inject(spec: FaultSpec): () => void {
    const times = spec.times ?? Infinity;
    const probability = spec.probability ?? 1;
    if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times))) {
      throw new RangeError(`fault times must be a positive integer, got ${times}`);
    }
    if (!(probability > 0 && probability <= 1))
      throw new RangeError(`fault probability must be in (0, 1], got ${probability}`);
    if (spec.kind === 'delay' && !(spec.delayMs !== undefined && spec.delayMs >= 0)) {
      throw new RangeError('a delay fault needs delayMs >= 0');
    }
    if (spec.kind === 'cut' && !(spec.afterBytes !== undefined && spec.afterBytes >= 0)) {
      throw new RangeError('a cut fault needs afterBytes >= 0');
    }
    const fault: ActiveFault = { spec: { ...spec }, remaining: times };
    this.active.push(fault);
    return () => this.remove(fault);
  }

  clear(): void {
    this.active.length = 0;
  }

  /**
   * The faults that hit this request: any delays, then at most one failure. Each hit uses up one
   * of the fault's `times`.
   */
  hit(service: ServiceName, operation: string): FaultSpec[] {
    const hits: FaultSpec[] = [];
    for (const fault of [...this.active]) {
      const { spec } = fault;
      if (spec.service !== service || (spec.operation !== undefined && spec.operation !== operation))
        continue;
      if ((spec.probability ?? 1) < 1 && this.random() >= (spec.probability ?? 1)) continue;
      if (--fault.remaining <= 0) this.remove(fault);
      hits.push(spec);
      if (spec.kind !== 'delay') break;
    }
    return hits;
  }

  private remove(fault: ActiveFault): void {
    const i = this.active.indexOf(fault);
    if (i >= 0) this.active.splice(i, 1);
  }
}
