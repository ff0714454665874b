/**
 * The org's clock: the wall clock, optionally offset or frozen by the test controls, so that
 * CreatedDate, SystemModstamp, the API budget's day and SOQL date literals move together.
 */
export class Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  set(date: Date, freeze: boolean): void {
    if (freeze) {
      this.frozenAt = date.getTime();
    } else {
      this.frozenAt = undefined;
      this.offsetMs = date.getTime() - Date.now();
    }
  }

  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
  }
}
