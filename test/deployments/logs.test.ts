import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './support/deployment-harness.js';

const talker = (word: string) => ['sh', '-c', `echo ${word}-out; echo ${word}-err >&2; while true; do sleep 1; echo ${word}-tick; done`];

describe('service logs', () => {
  let h: Harness;
  let env: { id: string };
  let first: { jobId: string; deploymentId: string };

  beforeAll(async () => {
    h = await startHarness('dep_logs');
    env = await h.createEnvironment('chatty');
    first = (await h.deployImage({ environmentId: env.id, name: 'talker', command: talker('one') })).body;
    expect((await h.waitForJob(first.jobId)).status).toBe('RUNNING');
  });
  afterAll(async () => h?.stop());

  it('tails stdout and stderr apart as JSON lines', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const response = await fetch(`${h.url}/deployments/${first.deploymentId}/logs?tail=50`, { headers: { 'x-api-key': h.owner.apiKey } });
    expect(response.status).toBe(200);
    const lines = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stdout', line: 'one-out' }));
    expect(lines).toContainEqual(expect.objectContaining({ stream: 'stderr', line: 'one-err' }));
  });

  it('follows as Server-Sent Events across a task replaced by an update, until the client leaves', async () => {
    const abort = new AbortController();
    const response = await fetch(`${h.url}/deployments/${first.jobId}/logs?follow=true&tail=1`, { headers: { 'x-api-key': h.owner.apiKey }, signal: abort.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (needle: string, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      while (!text.includes(needle)) {
        if (Date.now() > deadline) throw new Error(`no "${needle}" in the stream; got: ${text.slice(-500)}`);
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended before "${needle}"`);
        text += decoder.decode(chunk.value);
      }
    };
    await readUntil('one-tick', 10_000);
    expect(text).toContain('event: log\ndata: {');
    expect(text).toContain('"line":"one-tick"');
    const second = await h.deployImage({ environmentId: env.id, name: 'talker', command: talker('two') });
    expect(second.status).toBe(202);
    // Lines of the replacement task (printed at its start, or its ticks): the stream followed it.
    await readUntil('"line":"two-', 45_000);
    abort.abort();
    await reader.cancel().catch(() => undefined);
    expect((await h.waitForJob(second.body.jobId)).status).toBe('RUNNING');
  });
});
