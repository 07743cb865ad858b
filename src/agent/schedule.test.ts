import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextWaitMs, overlap, repeat, Wakeup } from './schedule.ts';

describe('nextWaitMs', () => {
  const o = { intervalMs: 1_000, respectTtl: false, random: () => 0 };

  it('waits one interval, plus up to 10% jitter', () => {
    expect(nextWaitMs(o, 30)).toBe(1_000);
    expect(nextWaitMs({ ...o, random: () => 0.999 }, 30)).toBe(1_100);
  });

  it('ignores a short TTL unless asked to respect it', () => {
    expect(nextWaitMs(o, 0.3)).toBe(1_000);
    expect(nextWaitMs({ ...o, respectTtl: true }, 0.3)).toBe(300);
    expect(nextWaitMs({ ...o, respectTtl: true }, 5)).toBe(1_000);
    expect(nextWaitMs({ ...o, respectTtl: true }, null)).toBe(1_000);
  });

  it('never spins on a TTL of 0', () => {
    expect(nextWaitMs({ ...o, respectTtl: true }, 0)).toBe(250);
  });
});

describe('repeat and Wakeup', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs every interval until aborted, and never cuts a run short', async () => {
    const stop = new AbortController();
    let runs = 0;
    const run = vi.fn(async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 50)); // a run takes 50 ms
    });
    const done = repeat(run, () => 1_000, new Wakeup(), stop.signal);
    await vi.advanceTimersByTimeAsync(50);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    stop.abort(); // during the second run: it finishes, then the loop ends
    await vi.advanceTimersByTimeAsync(50);
    await done;
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('wakeIfDueWithin ends a sleep that would end within the margin, and no other (two wake-ups become one)', async () => {
    const stop = new AbortController();
    const wakeup = new Wakeup();
    let ended = false;
    void wakeup.sleep(1_000, stop.signal).then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(800);
    wakeup.wakeIfDueWithin(100); // due in 200 ms
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toBe(false);
    await vi.advanceTimersByTimeAsync(150);
    wakeup.wakeIfDueWithin(100); // due in 50 ms
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toBe(true);
    wakeup.wakeIfDueWithin(100); // not sleeping: nothing is kept for the next sleep
    let next = false;
    void wakeup.sleep(1_000, stop.signal).then(() => (next = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(next).toBe(false);
    stop.abort();
  });

  it('a wake cuts the sleep short; a wake during a run makes the next sleep return at once', async () => {
    const stop = new AbortController();
    const wakeup = new Wakeup();
    let runs = 0;
    const done = repeat(
      async () => {
        runs++;
        if (runs === 2) wakeup.wake(); // another lane wakes this one while it runs
        await new Promise((r) => setTimeout(r, 10));
      },
      () => 60_000,
      wakeup,
      stop.signal,
    );
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(1);
    wakeup.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(runs).toBe(3); // the wake during run 2 was kept: no sleep after it
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(runs).toBe(3);
    stop.abort();
    await done;
  });
});

describe('overlap: runs that may be in flight together', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Runs of `ms` each, noting when each began (fake time). */
  const slowRuns = (ms: number): { run: () => Promise<number>; began: number[] } => {
    const began: number[] = [];
    const t0 = Date.now();
    return {
      began,
      run: async () => {
        began.push(Date.now() - t0);
        await new Promise((r) => setTimeout(r, ms));
        return 1;
      },
    };
  };

  it("begins a run every interval from the last one's start, while the ones before are in flight", async () => {
    const stop = new AbortController();
    const { run, began } = slowRuns(2_500); // a server 2.5 s late
    const done = overlap(run, () => 1_000, new Wakeup(), stop.signal, 4);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(began).toEqual([0, 1_000, 2_000, 3_000]);
    stop.abort();
    await vi.advanceTimersByTimeAsync(2_500);
    await done;
  });

  it('begins a run at once on a wake (the zone serial moved) while another is in flight', async () => {
    const stop = new AbortController();
    const wakeup = new Wakeup();
    const { run, began } = slowRuns(2_500);
    const done = overlap(run, () => 1_000, wakeup, stop.signal, 4);
    await vi.advanceTimersByTimeAsync(300);
    wakeup.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(began).toEqual([0, 300]);
    // The interval runs from the run the wake began.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(began).toEqual([0, 300, 1_300]);
    stop.abort();
    await vi.advanceTimersByTimeAsync(2_500);
    await done;
  });

  it('has at most maxInFlight runs in flight: a run due past that begins when one ends, once for any number of wakes', async () => {
    const stop = new AbortController();
    const wakeup = new Wakeup();
    const { run, began } = slowRuns(2_500);
    const done = overlap(run, () => 1_000, wakeup, stop.signal, 2);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(began).toEqual([0, 1_000]);
    wakeup.wake();
    wakeup.wake();
    await vi.advanceTimersByTimeAsync(1_400);
    expect(began).toEqual([0, 1_000]);
    await vi.advanceTimersByTimeAsync(100); // the first ends at 2.5 s
    expect(began).toEqual([0, 1_000, 2_500]);
    await vi.advanceTimersByTimeAsync(999);
    expect(began).toEqual([0, 1_000, 2_500]);
    stop.abort();
    await vi.advanceTimersByTimeAsync(2_500);
    await done;
  });

  it('keeps the last result a run ended with for the next wait, and ends with a run that throws once the others end', async () => {
    const stop = new AbortController();
    const waits: (number | null)[] = [];
    let k = 0;
    const run = async (): Promise<number | null> => {
      const mine = ++k;
      await new Promise((r) => setTimeout(r, 100));
      if (mine === 3) throw new Error('hard');
      return mine === 2 ? null : mine;
    };
    const done = overlap(
      run,
      (last) => {
        waits.push(last);
        return 1_000;
      },
      new Wakeup(),
      stop.signal,
      4,
    );
    const failed = expect(done).rejects.toThrow('hard');
    await vi.advanceTimersByTimeAsync(2_200);
    await failed;
    expect(waits).toEqual([null, 1, 1]); // run 2 ended with nothing: run 1's result stands
    expect(stop.signal.aborted).toBe(false);
  });
});
