import { StreamsError } from '../errors.ts';

/**
 * A state with a table of allowed transitions (Kafka Streams' Task.State / KafkaStreams.State):
 * an illegal move is a bug and throws instead of leaving the object half in two states.
 */
export class StateMachine<S extends string> {
  #state: S;
  constructor(
    private readonly what: string,
    initial: S,
    private readonly allowed: { readonly [K in S]: readonly S[] },
    private readonly onChange?: (next: S, previous: S) => void,
  ) {
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  canMoveTo(next: S): boolean {
    return this.allowed[this.#state].includes(next);
  }

  moveTo(next: S): void {
    if (!this.canMoveTo(next)) {
      throw new StreamsError('PS_ERR_INVALID_STATE_TRANSITION', `${this.what}: cannot move from ${this.#state} to ${next}`);
    }
    const previous = this.#state;
    this.#state = next;
    this.onChange?.(next, previous);
  }
}
