/**
 * The local stack's clock, for tests that must not sleep: an offset in milliseconds shared with
 * every function's worker thread (a SharedArrayBuffer), where `Date` reads real time plus the
 * offset. Handler code is untouched: it reads the time as it always does. Local mode only;
 * `POST /_local/clock {"offsetMs": N}` or `{"advanceMs": N}` moves it, `GET /_local/clock` reads it.
 */
export class LocalClock {
  readonly buffer = new SharedArrayBuffer(8);
  private readonly view = new Float64Array(this.buffer);

  get offsetMs(): number {
    return this.view[0] as number;
  }

  set offsetMs(value: number) {
    if (!Number.isFinite(value)) throw new Error('clock offset must be a finite number of milliseconds');
    this.view[0] = value;
  }

  now(): number {
    return Date.now() + this.offsetMs;
  }
}
