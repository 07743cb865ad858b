import { describe, expect, it } from 'vitest';
import { parseLogLines } from '../../test/support/logs.ts';
import { textLine } from './log-text.ts';
import { createLogger } from './report.ts';

const AT = Date.UTC(2025, 4, 6, 7, 8, 9, 123);

describe('textLine (--log-format text)', () => {
  it('says the time, the level, the message, then the fields as key=value', () => {
    expect(
      textLine({
        level: 'info',
        time: AT,
        component: 'agent',
        socket: '/run/haproxy/admin.sock',
        backend: 'be_app',
        from: '10.0.0.1:80 maint',
        weight: 256,
        ok: true,
        ttl: null,
        msg: 'server change',
      }),
    ).toBe(
      '2025-05-06T07:08:09.123Z INFO  server change component=agent socket=/run/haproxy/admin.sock backend=be_app from="10.0.0.1:80 maint" weight=256 ok=true ttl=null\n',
    );
  });

  it('writes a nested value as compact JSON, bare while it holds no space', () => {
    expect(textLine({ level: 'warn', time: AT, msg: 'x', endpoints: ['10.0.0.1:80', '10.0.0.2:80'], notes: { a: 'b c' } })).toBe(
      '2025-05-06T07:08:09.123Z WARN  x endpoints=["10.0.0.1:80","10.0.0.2:80"] notes="{\\"a\\":\\"b c\\"}"\n',
    );
  });

  it('keeps whatever a hostile name holds inside its own field, on its own line, and away from the terminal', () => {
    const hostile = 'evil\n2025-01-01T00:00:00.000Z ERROR  forged level=error\u001b]0;owned\u0007\u009b2J\u202e\\x "q"';
    const line = textLine({ level: 'warn', time: AT, msg: `endpoint refused: ${hostile}`, target: hostile, [hostile]: 1 });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).toMatch(/^[\x20-\x7e]*$/); // one line, printable ASCII only
    expect(line).toContain(
      'target="evil\\n2025-01-01T00:00:00.000Z ERROR  forged level=error\\u001b]0;owned\\u0007\\u009b2J\\u202e\\\\x \\"q\\""',
    );
    // The message is quoted: its "level=error" is not a field.
    expect(
      line.endsWith(' "evil\\n2025-01-01T00:00:00.000Z ERROR  forged level=error\\u001b]0;owned\\u0007\\u009b2J\\u202e\\\\x \\"q\\""=1\n'),
    ).toBe(true);
    expect(line).toMatch(
      /^\S+ WARN {2}"endpoint refused: evil\\n2025-01-01T00:00:00\.000Z ERROR {2}forged level=error\\u001b[^"]*\\"q\\"" target="/,
    );
  });

  it('quotes an empty value and one that starts with a quote', () => {
    expect(textLine({ level: 'info', time: AT, msg: 'm', a: '', b: '"x' })).toBe('2025-05-06T07:08:09.123Z INFO  m a="" b="\\"x"\n');
  });
});

describe('createLogger', () => {
  it('writes JSON lines that name their level', () => {
    let out = '';
    const log = createLogger({ level: 'debug', format: 'json' }, { write: (l) => (out += l) });
    log.warn({ backend: 'be_app' }, 'DNS failing');
    log.debug('dns lane ran');
    expect(parseLogLines(out).map((l) => [l.level, l.msg, l['component']])).toEqual([
      ['warn', 'DNS failing', 'agent'],
      ['debug', 'dns lane ran', 'agent'],
    ]);
  });

  it('writes text lines with --log-format text, at the level asked', () => {
    let out = '';
    const log = createLogger({ level: 'info', format: 'text' }, { write: (l) => (out += l) });
    log.child({ backend: 'be_app' }).error({ fault: 'timeout' }, 'DNS hold expired: the servers leave');
    log.debug('not shown');
    expect(out).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR DNS hold expired: the servers leave component=agent backend=be_app fault=timeout\n$/,
    );
  });
});
