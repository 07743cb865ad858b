import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PodRow, StatusModel } from '../../src/agent/status-shape.ts';
import { escapeHtml } from '../../src/observability/status-page.ts';
import { podName } from '../support/bind.ts';
import { getModel, getPage, HOSTILE_LABEL, key, RIG, StatusRig } from '../support/status-rig.ts';

/** The rows of a backend's pods on the one socket, by address:port (or state, for the unnamed ones). */
const podsOf = (m: StatusModel, backend: string): Map<string, PodRow> =>
  new Map((m.backends.find((b) => b.backend === backend)?.sockets[0]?.pods.rows ?? []).map((r) => [r.endpoint ?? r.state, r]));

/** The page's text, as a person reads it: tags gone, entities read. */
const textOf = (html: string): string =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('/status: why each pod does or does not get traffic (Debian HAProxy 2.6 + BIND 9)', () => {
  const rig = new StatusRig();
  beforeAll(async () => {
    await rig.start();
  }, 60_000);
  afterAll(async () => {
    await rig.stop();
  });

  it('names every pod and says why, in the page and in its JSON', async () => {
    // Health checks and the drain take a few runs to show.
    const states = async (): Promise<string[]> => {
      const m = await getModel(rig.url);
      return [...podsOf(m, 'be_app').values(), ...podsOf(m, 'be_drain').values()].map((r) => r.state).sort();
    };
    await expect
      .poll(states, { timeout: 20_000, interval: 300 })
      .toEqual(['draining', 'in-force', 'in-force', 'in-force', 'over-cap', 'refused', 'refused', 'waiting-check']);
    const m = await getModel(rig.url);
    const app = podsOf(m, 'be_app');
    const drain = podsOf(m, 'be_drain');
    const page = await getPage(`${rig.url}/status`);
    expect(page.status).toBe(200);
    const text = textOf(page.body);

    const inForce = app.get(key(RIG.inForce));
    expect(inForce).toMatchObject({ target: podName(RIG.inForce.address), state: 'in-force' });
    expect(inForce?.reason).toMatch(/^in force: served by slot srv[12]$/);

    const check = app.get(key(RIG.waitingCheck));
    expect(check).toMatchObject({ target: podName(RIG.waitingCheck.address), state: 'waiting-check' });
    expect(check?.reason).toMatch(/^on slot srv[12], waiting for its health check: HAProxy says down, sends it no traffic$/);

    const added = app.get(key(RIG.added));
    expect(added).toMatchObject({ target: podName(RIG.added.address), server: 'srv-a1', state: 'in-force' });
    expect(added?.reason).toBe('in force: served by srv-a1 (a server added at run time)');
    expect(m.changes.some((c) => c.action === 'added' && c.server === 'srv-a1')).toBe(true);

    const over = [...app.values()].find((r) => r.state === 'over-cap');
    expect(over).toMatchObject({ endpoint: null, target: podName(RIG.overCap.address), server: null });
    expect(over?.reason).toBe('over the cap: left out of the answer (--max-endpoints 4), port 8080');

    const refused = app.get(`${key(RIG.refused)} (${podName(RIG.refused.address)})`);
    expect(refused?.reason).toMatch(/^refused by the address policy: loopback \(.*--allow-net/);

    const hostile = [...app.values()].find((r) => r.endpoint?.startsWith('x') === true);
    expect(hostile?.state).toBe('refused');
    expect(hostile?.reason).toMatch(/^refused by the address policy: invalid-name/);

    const draining = drain.get(key(RIG.draining));
    expect(draining).toMatchObject({ state: 'draining', server: expect.stringMatching(/^srv[12]$/) as unknown });
    // The requests the draining pod holds (two) were live sessions on its server as its drain started.
    expect(draining?.reason).toMatch(
      /^its pod left DNS: draining on slot srv[12] since \d\d:\d\d:\d\d UTC until \d\d:\d\d:\d\d UTC at the latest, for its \d+ sessions \(read at \d\d:\d\d:\d\d UTC\)$/,
    );
    const drainingServer = m.backends.find((b) => b.backend === 'be_drain')?.sockets[0]?.servers.rows.find((r) => r.state === 'draining');
    expect(drainingServer?.liveSessions).toBe(rig.heldAtDrain);
    expect(draining?.reason).toContain(`for its ${String(rig.heldAtDrain)} sessions`);

    // Which nameserver answered (BIND, as the agent was given it), how fast, and the zone's serial (--watch and --serial-trust are on by default).
    const dns = m.backends.find((b) => b.backend === 'be_app')?.dns;
    expect(dns?.nameserver).toBe(`127.0.0.1:${String(rig.bind.port)}`);
    expect(dns?.roundTripMs).toEqual(expect.any(Number));
    expect(text).toContain(`from 127.0.0.1:${String(rig.bind.port)} in ${String(dns?.roundTripMs)} ms`);
    expect(dns?.serial).toMatchObject({ watched: true, serial: expect.any(Number) as unknown });
    expect(dns?.serial.says).toMatch(/^(trusted|not trusted \(.+\))$/);
    expect(text).toContain(`zone serial ${String(dns?.serial.serial)}, ${dns?.serial.says ?? '-'}`);
    expect(drain.get(key(RIG.kept))?.state).toBe('in-force');

    // The page says the same words, and names each pod.
    for (const r of [...app.values(), ...drain.values()]) {
      expect(text).toContain(r.reason);
      if (r.endpoint !== null) expect(text).toContain(r.endpoint);
      if (r.target !== null) expect(text).toContain(r.target);
    }
    // The hostile name is text, in RFC 1035 presentation form (its quote and brackets as \DDD), and escaped again in the HTML.
    expect(HOSTILE_LABEL).toContain('<img');
    expect(hostile?.endpoint).toMatch(/^x\\034\\060img\\032src\\061x\\032onerror\\061alert\\0401\\041\\062\.cluster\.local/);
    expect(page.body).not.toMatch(/<img|onerror=/);
    expect(page.body).toContain(escapeHtml(hostile?.endpoint ?? '-'));
    expect(m.sockets[0]).toMatchObject({
      reachable: true,
      levelAdmin: true,
      dynamicServers: 'on',
      version: expect.stringMatching(/^2\.6\./) as unknown,
    });
  });

  it('names the pod that has no slot', async () => {
    await expect
      .poll(async () => [...podsOf(await getModel(rig.slotsUrl), 'be_more').values()].map((r) => r.state).sort(), {
        timeout: 20_000,
        interval: 300,
      })
      .toEqual(['in-force', 'no-slot']);
    const pods = podsOf(await getModel(rig.slotsUrl), 'be_more');
    const waiting = [...pods.values()].find((r) => r.state === 'no-slot');
    expect([RIG.slot, RIG.noSlot].map(key)).toContain(waiting?.endpoint);
    expect(waiting?.target).toBe(podName(waiting?.endpoint?.split(':')[0] ?? ''));
    expect(waiting?.reason).toBe(
      'no slot: 1 of 1 slots in use, 1 waiting for a slot (add slots to the server-template, or --dynamic-servers)',
    );
    const text = textOf((await getPage(`${rig.slotsUrl}/status`)).body);
    expect(text).toContain(`${waiting?.endpoint ?? '-'} ${waiting?.target ?? '-'} - no-slot no slot: 1 of 1 slots in use`);
  });
});
