import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { dockerCheck, type SwarmNodeSummary } from '../../src/health/health-checks.js';
import { TEST_DOCKER_SOCKET } from '../support/services.js';

describe('GET /health docker check', () => {
  it('lists the swarm nodes with their state, role and availability', async () => {
    const docker = new Docker({ socketPath: TEST_DOCKER_SOCKET });
    const result = await dockerCheck(docker)();
    expect(result.ok).toBe(true);
    const nodes = result.nodeList as SwarmNodeSummary[];
    const engine = await docker.listNodes();
    expect(nodes).toHaveLength(engine.length);
    expect(result.nodesReady).toBe(nodes.filter((node) => node.state === 'ready').length);
    const leader = nodes.find((node) => node.leader);
    expect(leader).toMatchObject({ role: 'manager', state: 'ready', availability: 'active', managerReachability: 'reachable' });
    expect(leader?.hostname).toBeTruthy();
  });

  it('reports no nodes, and fails, when the engine is unreachable', async () => {
    const result = await dockerCheck(new Docker({ socketPath: '/nonexistent/docker.sock' }))().catch((error: Error) => ({ ok: false, detail: error.message }));
    expect(result.ok).toBe(false);
  });
});
