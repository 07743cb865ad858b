import { describe, expect, it } from 'vitest';
import { candidateNames, parseResolvConf } from './resolv-conf.ts';

// What the kubelet writes into a pod in namespace "default".
const POD = `search default.svc.cluster.local svc.cluster.local cluster.local
nameserver 10.96.0.10
options ndots:5
`;

describe('parseResolvConf', () => {
  it("reads a pod's resolv.conf", () => {
    expect(parseResolvConf(POD)).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      ndots: 5,
      timeoutMs: 5_000,
      attempts: 2,
    });
  });

  it('reads timeout and attempts, caps them as glibc does, and ignores comments', () => {
    const rc = parseResolvConf('# comment\nnameserver 10.0.0.1 ; trailing\noptions timeout:2 attempts:9 rotate\noptions ndots:2\n');
    expect(rc).toMatchObject({ nameservers: ['10.0.0.1'], timeoutMs: 2_000, attempts: 5, ndots: 2 });
  });

  it('uses at most three nameservers and the last search line', () => {
    const rc = parseResolvConf('nameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\nsearch a\nsearch b c\n');
    expect(rc.nameservers).toEqual(['1.1.1.1', '2.2.2.2', '3.3.3.3']);
    expect(rc.search).toEqual(['b', 'c']);
  });
});

describe('candidateNames', () => {
  const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];

  it('tries a short name through the search list first, like a pod does', () => {
    expect(candidateNames('_http._tcp.web', search, 5)).toEqual([
      '_http._tcp.web.default.svc.cluster.local',
      '_http._tcp.web.svc.cluster.local',
      '_http._tcp.web.cluster.local',
      '_http._tcp.web',
    ]);
  });

  it('tries a name with ndots dots as it is first', () => {
    expect(candidateNames('_http._tcp.web.default.svc.cluster.local', search, 5)[0]).toBe('_http._tcp.web.default.svc.cluster.local');
  });

  it('takes a name ending in a dot as it is, alone', () => {
    expect(candidateNames('web.example.', search, 5)).toEqual(['web.example']);
  });
});
