/**
 * The chat commands of SPEC section 5, described once: Telegram's command
 * menu (setMyCommands), Discord's application commands and /help are all
 * generated from this list, so the three cannot drift apart.
 */
export type OptionKind = 'string' | 'integer' | 'boolean';

export interface CommandOption {
  name: string;
  description: string;
  kind: OptionKind;
  required?: boolean;
  /** Discord autocompletes it with the caller's environment names. */
  autocompleteEnvironments?: boolean;
  choices?: string[];
  /** How the option appears in the Telegram argument text (`name=value`, or positional when absent). */
  keyword?: string;
}

export interface CommandSpec {
  name: string;
  description: string;
  /** Telegram usage after the command. */
  usage: string;
  options: CommandOption[];
  /** Answers carry a secret: private chats and DMs only. */
  secret?: boolean;
  /** Only admins may run it. */
  admin?: boolean;
}

const str = (name: string, description: string, extra: Partial<CommandOption> = {}): CommandOption => ({ name, description, kind: 'string', ...extra });

export const COMMANDS: CommandSpec[] = [
  { name: 'start', description: 'Who you are to Runway, and the commands', usage: '', options: [] },
  { name: 'help', description: 'The commands', usage: '', options: [] },
  {
    name: 'api_create',
    description: 'A one-time link for a new API key (sent privately)',
    usage: '[scope ...]',
    options: [str('scopes', 'Scopes separated by spaces (default: all but ADMIN)')],
    secret: true,
  },
  { name: 'keys', description: 'Your API keys', usage: '', options: [] },
  { name: 'revoke', description: 'Revoke one of your API keys', usage: '<keyId>', options: [str('key_id', 'The keyId to revoke', { required: true })] },
  { name: 'envs', description: 'Your environments', usage: '', options: [] },
  {
    name: 'env_create',
    description: 'Create an environment',
    usage: '<name>',
    options: [str('name', 'A DNS label: lowercase letters, digits, -', { required: true })],
  },
  {
    name: 'deploy',
    description: 'Deploy an image to an environment',
    usage: '<env> <image[:tag]> [name=..] [port=HOST:CONTAINER] [env=K=V ...]',
    options: [
      str('env', 'Environment name', { required: true, autocompleteEnvironments: true }),
      str('image', 'Image, e.g. nginx:1.27', { required: true }),
      str('name', 'Service name (default: from the image)', { keyword: 'name' }),
      str('port', 'Published ports, HOST:CONTAINER separated by spaces', { keyword: 'port' }),
      str('env_vars', 'Environment variables, K=V separated by spaces', { keyword: 'env' }),
    ],
  },
  { name: 'status', description: "A deployment's state and its transitions", usage: '<jobId>', options: [str('job_id', 'The jobId', { required: true })] },
  {
    name: 'logs',
    description: 'The last lines of a deployment’s logs',
    usage: '<jobId or deploymentId> [lines]',
    options: [str('id', 'jobId or deploymentId', { required: true }), { name: 'lines', description: 'How many lines (default 50)', kind: 'integer' }],
  },
  { name: 'rollback', description: 'Roll a service back to its previous version', usage: '<jobId or deploymentId>', options: [str('id', 'jobId or deploymentId', { required: true })] },
  {
    name: 'notify',
    description: 'Deploy-status messages on or off for this chat',
    usage: 'on|off',
    options: [str('state', 'on or off', { required: true, choices: ['on', 'off'] })],
  },
  {
    name: 'allow',
    description: 'Admins: allow a user by their chat id',
    usage: '<user id> [admin]',
    options: [str('user_id', 'Their numeric user id on this platform', { required: true }), { name: 'admin', description: 'Make them an admin', kind: 'boolean' }],
    admin: true,
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name === name);
}
