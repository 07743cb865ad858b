import { describe, expect, it } from 'vitest';
import { IGNORED_SIGNALS, signalsToIgnore } from './signals.ts';

describe('the signals the agent says it ignores', () => {
  it('are all of them when Node runs without a profiler', () => {
    expect(signalsToIgnore([])).toEqual(IGNORED_SIGNALS);
    expect(signalsToIgnore(['--max-opt=1', '--disable-sigusr1', ''])).toContain('SIGPROF');
  });

  it.each([['--cpu-prof'], ['--cpu-prof=true'], ['--prof']])('leave SIGPROF to V8 when Node runs with %s', (flag) => {
    const ignored = signalsToIgnore(['--max-opt=1', flag]);
    expect(ignored).not.toContain('SIGPROF');
    expect(ignored).toEqual(IGNORED_SIGNALS.filter((s) => s !== 'SIGPROF'));
  });

  it('take a profiler flag that only starts like one for none', () => {
    expect(signalsToIgnore(['--cpu-prof-dir=/tmp/x', '--profx'])).toContain('SIGPROF');
  });
});
