import type { AccessUseCases } from '../core/access/access-use-cases.js';
import type { DeploymentLogs } from '../core/deployments/deployment-logs.js';
import type { DeploymentManagement } from '../core/deployments/deployment-management.js';
import { parseInput } from '../core/deployments/deployment-request.js';
import type { StartDeployment } from '../core/deployments/deployment-use-cases.js';
import type { EnvironmentUseCases } from '../core/environments/environment-use-cases.js';
import { forbidden, unavailable } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { imageDeploymentSchema, type ServiceLimits } from '../core/service-options-schema.js';
import type { AllowedUser } from '../core/users/allow-user.js';
import type { ChatIdentity } from '../core/access/ensure-user.js';
import { bold, code, line, link, message, pre, textMessage, type Block, type ChatMessage } from './chat-text.js';
import type { ChatCaller, ChatGatekeeper, ChatPlace } from './chat-gatekeeper.js';
import { COMMANDS } from './command-catalog.js';
import type { CommandInput } from './command-parser.js';
import { formatDeploymentStatus } from './deployment-status-format.js';

/** The deployment use cases of issue 4 the commands call (ProcessContext's deployment feature). */
export interface ChatDeploymentUseCases {
  environments: Pick<EnvironmentUseCases, 'list' | 'create' | 'find'>;
  starter: Pick<StartDeployment, 'start'>;
  deployments: Pick<DeploymentManagement, 'find' | 'rollback'>;
  logs: Pick<DeploymentLogs, 'open'>;
}

export interface ChatCommandDeps {
  access: Pick<AccessUseCases, 'createMagicLink' | 'listKeys' | 'revokeKey'>;
  /** Absent when this process has no deployment module: those commands answer 503. */
  deployments?: ChatDeploymentUseCases;
  gatekeeper: ChatGatekeeper;
  allowUser: (input: ChatIdentity & { admin?: boolean; actor?: Principal }) => Promise<AllowedUser>;
  limits: ServiceLimits;
  /** Per-user deployment rate limit shared with REST. */
  limitDeployments?: (principal: Principal, kind: 'image' | 'git') => Promise<void>;
}

/**
 * The one command layer behind both bots: takes a parsed command and an
 * allowed caller, calls the same use cases as the REST routes, and answers
 * with a platform-neutral message. No business rules live here.
 */
export class ChatCommandHandler {
  constructor(private readonly deps: ChatCommandDeps) {}

  async execute(caller: ChatCaller, place: ChatPlace, input: CommandInput): Promise<ChatMessage> {
    const principal = caller.principal;
    switch (input.name) {
      case 'start':
      case 'help':
        return this.help(caller, input.name === 'start');
      case 'api_create': {
        const created = await this.deps.access.createMagicLink(principal, { scopes: input.scopes });
        return message(
          line('🔑 Your one-time link for a new API key (valid until ', bold(created.expiresAt.toISOString().slice(11, 16)), ' UTC):'),
          line(link(created.url)),
          line('Scopes: ', code(created.scopes.join(' '))),
          line('Open it and confirm; the key is shown once.'),
        );
      }
      case 'keys':
        return this.keys(principal);
      case 'revoke': {
        const key = await this.deps.access.revokeKey(principal, input.keyId);
        return message(line('🗑 Revoked key ', code(key.keyId), '.'));
      }
      case 'envs':
        return this.environments(principal);
      case 'env_create': {
        const env = await this.use().environments.create(principal, { name: input.envName });
        return message(line('✅ Created environment ', bold(env.name), ' (', code(env.id), ').'));
      }
      case 'deploy':
        return this.deploy(principal, place, input);
      case 'status':
        return formatDeploymentStatus(await this.use().deployments.find(principal, input.jobId));
      case 'logs':
        return this.logs(principal, input.id, input.lines);
      case 'rollback': {
        const started = await this.use().deployments.rollback(principal, input.id, place.platform);
        return message(line('↩️ Rolling back to the version of job ', code(started.rolledBackTo), ': new job ', code(started.jobId), '.'));
      }
      case 'notify':
        await this.deps.gatekeeper.setNotifications(caller, place, input.on);
        return textMessage(input.on ? '🔔 Deploy-status messages are on for this chat.' : '🔕 Deploy-status messages are off for this chat.');
      case 'allow':
        return this.allow(caller, input.userId, input.admin);
    }
  }

  /** Environment names starting with `prefix`, for Discord's autocomplete (at most 25, Discord's cap). */
  async environmentNames(caller: ChatCaller, prefix: string): Promise<string[]> {
    if (!this.deps.deployments) return [];
    const environments = await this.deps.deployments.environments.list(caller.principal);
    return environments
      .filter((env) => env.userId === caller.userId && env.name.startsWith(prefix.toLowerCase()))
      .map((env) => env.name)
      .slice(0, 25);
  }

  private use(): ChatDeploymentUseCases {
    if (!this.deps.deployments) throw unavailable('The deployment service');
    return this.deps.deployments;
  }

  private help(caller: ChatCaller, greet: boolean): ChatMessage {
    const blocks: Block[] = [];
    if (greet) {
      blocks.push(line('👋 You are Runway user ', code(caller.userId), caller.isAdmin ? ' (admin)' : '', ', ', caller.identity.platform.toLowerCase(), ' id ', code(caller.identity.userId), '.'));
    }
    blocks.push(line(bold('Commands')));
    for (const command of COMMANDS.filter((each) => !each.admin || caller.isAdmin)) {
      blocks.push(line(code(`/${command.name}${command.usage ? ` ${command.usage}` : ''}`), ` ${command.description}`));
    }
    return message(...blocks);
  }

  private async keys(principal: Principal): Promise<ChatMessage> {
    const keys = await this.deps.access.listKeys(principal);
    if (keys.length === 0) return textMessage('No API keys yet. /api_create makes one.');
    return message(
      line(bold('Your API keys')),
      ...keys.map((key) =>
        line(code(key.keyId), ` ${key.status} · ${key.scopes.join(' ')} · last used ${key.lastUsedAt?.toISOString().slice(0, 16) ?? 'never'}`),
      ),
    );
  }

  private async environments(principal: Principal): Promise<ChatMessage> {
    const environments = await this.use().environments.list(principal);
    if (environments.length === 0) return textMessage('No environments yet. /env_create <name> makes one.');
    return message(line(bold('Your environments')), ...environments.map((env) => line(bold(env.name), ' ', code(env.id))));
  }

  private async deploy(principal: Principal, place: ChatPlace, input: Extract<CommandInput, { name: 'deploy' }>): Promise<ChatMessage> {
    const { environments, starter } = this.use();
    const environment = await environments.find(principal, input.env);
    // The REST body schema, so chat and REST answer the same 400s.
    const request = parseInput(imageDeploymentSchema(this.deps.limits), {
      environmentId: environment.id,
      image: input.image,
      name: input.serviceName,
      ports: input.ports.length > 0 ? input.ports : undefined,
      envVars: Object.keys(input.envVars).length > 0 ? input.envVars : undefined,
    }, 'deploy');
    await this.deps.limitDeployments?.(principal, 'image');
    const started = await starter.start(principal, { ...request, source: 'IMAGE' }, place.platform);
    return message(
      line('🚀 Deploying ', code(input.image), ' to ', bold(environment.name), '.'),
      line('job ', code(started.jobId), ' · /status ', started.jobId),
    );
  }

  private async logs(principal: Principal, id: string, lines: number): Promise<ChatMessage> {
    const stream = await this.use().logs.open(principal, id, { tail: lines, follow: false });
    const collected: string[] = [];
    for await (const entry of stream) collected.push(entry.line.length > 500 ? `${entry.line.slice(0, 500)}…` : entry.line);
    if (collected.length === 0) return textMessage('No log lines yet.');
    return message(line(bold(`Last ${collected.length} log lines`), ' of ', code(id)), pre(collected.slice(-lines)));
  }

  private async allow(caller: ChatCaller, userId: string, admin: boolean): Promise<ChatMessage> {
    if (!caller.isAdmin) throw forbidden('Only admins may allow users');
    const identity = caller.identity.platform === 'TELEGRAM' ? { telegramId: userId } : { discordId: userId };
    const allowed = await this.deps.allowUser({ ...identity, admin, actor: caller.principal });
    return message(line('✅ ', code(userId), ` may use Runway now${allowed.role === 'ADMIN' ? ' (admin)' : ''}.`));
  }
}
