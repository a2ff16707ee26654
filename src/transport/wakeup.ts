// Wakes one async loop that waits for "something changed". A notify() while nobody waits is
// remembered, so a wake-up between the loop's check and its wait() is never lost.
export class Wakeup {
  private resolver: (() => void) | undefined;
  private pending = false;

  notify(): void {
    const r = this.resolver;
    if (r !== undefined) {
      this.resolver = undefined;
      r();
    } else {
      this.pending = true;
    }
  }

  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.resolver = resolve;
    });
  }
}
