/**
 * A concurrency limit that adapts like TCP's congestion window (AIMD): every success adds
 * 1/limit (one step per full window), an overload (429, 5xx) halves it at most once per window of
 * calls, so a burst of refusals from one overload counts once. Callers wait for a slot in FIFO
 * order. Generic: nothing here knows about hosts.
 */
export class AdaptiveLimit {
  #limit: number;
  readonly #max: number;
  #inFlight = 0;
  #waiting: (() => void)[] = [];
  /** Calls finished since the last decrease: no second halving until a window has passed. */
  #sinceDecrease = Number.POSITIVE_INFINITY;

  constructor(max: number) {
    this.#max = Math.max(1, max);
    this.#limit = this.#max;
  }

  get limit(): number {
    return Math.floor(this.#limit);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Runs `fn` in a slot; `overloaded(result or error)` says whether the host asked for less. */
  async run<T>(
    fn: () => Promise<T>,
    overloaded: (outcome: { value?: T; error?: unknown }) => boolean,
  ): Promise<T> {
    await this.#acquire();
    let busy = false;
    try {
      const value = await fn();
      busy = overloaded({ value });
      return value;
    } catch (error) {
      busy = overloaded({ error });
      throw error;
    } finally {
      this.#release(busy);
    }
  }

  #acquire(): Promise<void> {
    if (this.#inFlight < this.limit) {
      this.#inFlight += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.#waiting.push(() => {
        this.#inFlight += 1;
        resolve();
      }),
    );
  }

  #release(overloaded: boolean) {
    this.#inFlight -= 1;
    this.#sinceDecrease += 1;
    if (overloaded) {
      if (this.#sinceDecrease >= this.limit) {
        this.#limit = Math.max(1, this.#limit / 2);
        this.#sinceDecrease = 0;
      }
    } else {
      this.#limit = Math.min(this.#max, this.#limit + 1 / this.#limit);
    }
    while (this.#waiting.length > 0 && this.#inFlight < this.limit) this.#waiting.shift()?.();
  }
}
