/**
 * A benchmark run within a time limit. Its figures are written exactly once, whether the run
 * finishes, fails or runs out of time, so a slow machine still leaves what was measured; on
 * time-out, clean-up gets `cleanupMs` and the process exits 0.
 */
import { sleep } from './measure.js';

export interface DeadlineRun {
  readonly maxSeconds: number;
  readonly cleanupMs: number;
  readonly run: () => Promise<void>;
  /** Writes the figures; `stoppedEarly` says why they may be incomplete. */
  readonly report: (stoppedEarly: string | undefined) => Promise<void>;
  readonly close: () => Promise<void>;
}

export async function runWithinDeadline({ maxSeconds, cleanupMs, run, report, close }: DeadlineRun): Promise<void> {
  let reported = false;
  const reportOnce = async (stoppedEarly: string | undefined) => {
    if (reported) return;
    reported = true;
    await report(stoppedEarly);
  };
  let closing: Promise<void> | undefined;
  const closeOnce = () => (closing ??= close());
  const deadline = setTimeout(() => {
    void (async () => {
      await reportOnce(`stopped after ${maxSeconds} s: the figures are what was measured by then`);
      // The run may still be writing into what clean-up removes; a failed clean-up must not turn the exit into a crash.
      await Promise.race([closeOnce().catch(() => undefined), sleep(cleanupMs)]);
      process.exit(0);
    })();
  }, maxSeconds * 1000);

  let failure: string | undefined;
  try {
    await run();
  } catch (error) {
    failure = `the benchmark stopped early: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    clearTimeout(deadline);
    await reportOnce(failure);
    await closeOnce();
  }
}
