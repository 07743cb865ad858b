import { describe, expect, it } from 'vitest';
import { haproxy18, haproxy26 } from '../../test/support/fixtures.ts';
import { renderStep } from '../core/commands.ts';
import type { Step } from '../core/steps.ts';
import { judgeReply } from './replies.ts';

const target = { backend: 'be', server: 's' } as const;
const addr = (address: string, port: number): Step => ({ kind: 'set-addr', ...target, address, port });
const add: Step = { kind: 'add-server', backend: 'be', server: 's-a1', address: '10.0.0.1', port: 80, id: 1, backup: false, check: false };
const del: Step = { kind: 'del-server', backend: 'be', server: 's-a1' };

describe('judgeReply: each reply judged by the kind of its step', () => {
  it.each(
    (
      [
        [addr('127.0.1.1', 8081), haproxy18('07-set-srv1-addr.txt').reply, true],
        [addr('127.0.1.2', 8081), haproxy18('39-set-srv1-addr-127.0.1.2.txt').reply, true],
        [addr('127.0.1.1', 8081), haproxy26('set-addr-unchanged.txt'), true],
        [addr('10.0.0.1', 80), 'nothing changed', true],
        [addr('10.0.0.1', 80), 'Update for the current server address family is only supported through configuration file.', false],
        [{ kind: 'set-state', ...target, state: 'ready' }, '', true],
        [{ kind: 'set-state', ...target, state: 'ready' }, 'No such server.', false],
        [{ kind: 'set-weight', ...target, weight: 256 }, '', true],
        [{ kind: 'set-weight', ...target, weight: 256 }, 'Absolute weight can only be between 0 and 256 inclusive.', false],
        [add, 'New server registered.', true],
        [add, '[WARNING] some keyword is ignored\nNew server registered.', true],
        [add, 'Backend must use a dynamic load balancing to support dynamic servers.', false],
        [add, 'Already exists a server with the same name in backend.', false],
        [del, 'Server deleted.', true],
        [del, 'Only servers in maintenance mode can be deleted.', false],
        [{ kind: 'enable-health', backend: 'be', server: 's-a1' }, '', true],
      ] as const
    ).map(([step, reply, ok]) => [renderStep(step), step, reply, ok] as const),
  )('%s -> is ok when it should be', (_text, step, reply, ok) => {
    expect(judgeReply(step, reply.trim()).ok).toBe(ok);
  });

  it('recognises the missing admin level and static algorithms', () => {
    expect(judgeReply({ kind: 'set-state', ...target, state: 'ready' }, 'Permission denied').reason).toBe('permission');
    expect(
      judgeReply(
        { kind: 'set-weight', ...target, weight: 10 },
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.",
      ).reason,
    ).toBe('static-weights');
  });
});
