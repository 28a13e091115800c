/**
 * A global cap on the body bytes the gateway holds at once (docs/architecture.md §12): a delivery that
 * would go over it is answered 503 before its body is read, so unfinished uploads cannot pile up.
 */
export function createBytesInFlight(max: number) {
  let held = 0;
  return {
    reserve(bytes: number): boolean {
      if (held + bytes > max) return false;
      held += bytes;
      return true;
    },
    release(bytes: number): void {
      held -= bytes;
    },
    held: () => held,
  };
}
