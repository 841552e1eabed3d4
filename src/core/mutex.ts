/**
 * Operations under the same key run one after another, in the order they were asked for; under
 * different keys they run concurrently. A failed operation does not stop the next one. Only this
 * process is serialised: other processes need the database's own locks or conditions.
 *
 * Used by DynamoDB (one session's writes in turn, which spares DynamoDB the conflicts) and by the
 * libSQL driver on a local file (one call at a time on its connections).
 */
export class KeyedMutex {
  /** Per key, a promise that settles when the last queued operation has; gone when none is queued. */
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(operation);
    const tail = result.then(settled, settled);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every operation queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}

function settled(): void {}
