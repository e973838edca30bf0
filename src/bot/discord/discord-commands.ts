import { ApplicationCommandOptionType, type ChatInputCommandInteraction, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord.js';
import { COMMANDS, type CommandOption, type CommandSpec } from '../command-catalog.js';
import { tokenize } from '../command-parser.js';

const OPTION_TYPES = {
  string: ApplicationCommandOptionType.String,
  integer: ApplicationCommandOptionType.Integer,
  boolean: ApplicationCommandOptionType.Boolean,
} as const;

function optionJson(option: CommandOption) {
  return {
    type: OPTION_TYPES[option.kind],
    name: option.name,
    description: option.description.slice(0, 100),
    required: option.required ?? false,
    autocomplete: option.autocompleteEnvironments ?? undefined,
    choices: option.choices?.map((choice) => ({ name: choice, value: choice })),
  };
}

/** Slash commands with typed options, from the same catalog as Telegram's menu. */
export function applicationCommands(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  return COMMANDS.map((command) => ({
    name: command.name,
    description: command.description.slice(0, 100),
    options: command.options.map(optionJson) as RESTPostAPIChatInputApplicationCommandsJSONBody['options'],
  }));
}

/**
 * Turns typed options into the argument list the shared parser reads, so
 * Discord and Telegram input is validated by one piece of code:
 * positional options in order, keyword options as `keyword=value` per
 * space-separated value, booleans as their name.
 */
export function argumentsOf(spec: CommandSpec, interaction: Pick<ChatInputCommandInteraction, 'options'>): string[] {
  const args: string[] = [];
  for (const option of spec.options) {
    const value = interaction.options.get(option.name)?.value;
    if (value === undefined || value === null || value === '') continue;
    if (option.kind === 'boolean') {
      if (value === true) args.push(option.name);
    } else if (option.keyword) {
      args.push(...tokenize(String(value)).map((part) => `${option.keyword}=${part}`));
    } else if (spec.name === 'api_create') {
      args.push(...tokenize(String(value)));
    } else {
      args.push(String(value));
    }
  }
  return args;
}
