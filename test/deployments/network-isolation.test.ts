import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDockerClient } from '../../src/docker/docker-client.js';
import { httpdCommand, startHarness, type Harness } from './support/deployment-harness.js';

/** Prints REACHED or UNREACHABLE every second for $TARGET:8080. */
const PROBE = ['sh', '-c', 'while true; do if printf "GET / HTTP/1.0\\r\\n\\r\\n" | nc -w 2 "$TARGET" 8080 | grep -q iso-ok; then echo "REACHED $TARGET"; else echo "UNREACHABLE $TARGET"; fi; sleep 1; done'];

describe('environments are isolated networks', () => {
  let h: Harness;
  let envA: { id: string; networkId: string };
  let envB: { id: string };
  let apiIp: string;

  beforeAll(async () => {
    h = await startHarness('dep_net');
    envA = await h.createEnvironment('alpha');
    envB = await h.createEnvironment('beta');
    const api = await h.deployImage({ environmentId: envA.id, name: 'api', command: httpdCommand('iso-ok') });
    expect((await h.waitForJob(api.body.jobId)).status).toBe('RUNNING');
    const service = await h.db.db.service.findFirstOrThrow({ where: { environmentId: envA.id, name: 'api' } });
    const tasks = await createDockerClient().listTasks({ filters: { service: [service.swarmName], 'desired-state': ['running'] } });
    const attachment = (tasks[0] as { NetworksAttachments?: { Network: { ID: string }; Addresses: string[] }[] }).NetworksAttachments?.find((a) => a.Network.ID === envA.networkId);
    apiIp = attachment!.Addresses[0]!.split('/')[0]!;
  });
  afterAll(async () => h?.stop());

  async function probeOutput(environmentId: string, name: string, target: string): Promise<string> {
    const started = await h.deployImage({ environmentId, name, command: PROBE, envVars: { TARGET: target } });
    expect((await h.waitForJob(started.body.jobId)).status).toBe('RUNNING');
    const deadline = Date.now() + 20_000;
    for (;;) {
      const logs = await fetch(`${h.url}/deployments/${started.body.jobId}/logs?tail=20`, { headers: { 'x-api-key': h.owner.apiKey } });
      const lines = (await logs.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line).line as string);
      const verdicts = lines.filter((line) => /REACHED|UNREACHABLE/.test(line));
      if (verdicts.length >= 2 || Date.now() > deadline) return verdicts.join('\n');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it('a service reaches another service of the same environment by its name', async () => {
    const output = await probeOutput(envA.id, 'probe-a', 'api');
    expect(output).toContain('REACHED api');
    expect(output).not.toContain('UNREACHABLE');
  });

  it('a service in another environment reaches it neither by name nor by address', async () => {
    const byName = await probeOutput(envB.id, 'probe-b', 'api');
    expect(byName).toContain('UNREACHABLE api');
    expect(byName).not.toMatch(/^REACHED/m);
    const byAddress = await probeOutput(envB.id, 'probe-ip', apiIp);
    expect(byAddress).toContain(`UNREACHABLE ${apiIp}`);
    expect(byAddress).not.toMatch(/^REACHED/m);
  });
});
