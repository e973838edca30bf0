import { Client, Events, GatewayIntentBits, MessageFlags, REST, type AutocompleteInteraction, type ChatInputCommandInteraction, type Interaction } from 'discord.js';
import type { Logger } from '../../logging/logger.js';
import { DeliveryError, redactedError, sleepBeforeReconnect } from '../../notify/chat-sender.js';
import type { ChatDispatcher } from '../chat-dispatcher.js';
import type { ChatIdentity, ChatPlace } from '../chat-gatekeeper.js';
import { findCommand } from '../command-catalog.js';
import { DiscordApi } from './discord-api.js';
import { applicationCommands, argumentsOf } from './discord-commands.js';

export interface DiscordBotOptions {
  token: string;
  /** REST base (config DISCORD_API_BASE); the gateway URL comes from GET /gateway/bot. */
  apiBase: string;
  /** Longest wait between login attempts while Discord is unreachable. */
  maxBackoffMs?: number;
}

/**
 * The Discord front door: a discord.js gateway client whose slash commands
 * (registered at every start) and environment autocomplete go through the
 * shared dispatcher. discord.js reconnects and resumes the gateway by
 * itself; a failed login is retried here with backoff, so an outage never
 * needs a restart and never touches the API or the workers.
 */
export class DiscordBot {
  readonly client: Client;
  /** Notifications and DMs; its own REST client, usable while the gateway is down. */
  readonly api: DiscordApi;
  private running: Promise<void> | undefined;
  private stopped = false;
  private stopping = new AbortController();

  constructor(private readonly dispatcher: ChatDispatcher, private readonly options: DiscordBotOptions, private readonly logger: Logger) {
    this.client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: options.apiBase } });
    this.api = new DiscordApi(new REST({ api: options.apiBase }).setToken(options.token), options.token, logger);
    this.client.on(Events.InteractionCreate, (interaction) => void this.onInteraction(interaction));
    this.client.on(Events.ClientReady, () => void this.registerCommands());
    this.client.on(Events.Error, (error) => this.logger.warn({ err: redactedError(error, options.token) }, 'discord client error'));
    this.client.on(Events.ShardDisconnect, () => this.logger.warn('discord gateway disconnected; discord.js reconnects'));
  }

  start(): void {
    this.stopped = false;
    this.stopping = new AbortController();
    this.running = this.superviseLogin();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.running;
    await this.client.destroy();
  }

  private async superviseLogin(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      try {
        await this.client.login(this.options.token);
        this.logger.info('discord bot connected');
        return;
      } catch (error) {
        this.logger.warn({ err: redactedError(error, this.options.token) }, 'discord login failed; retrying');
        await this.client.destroy().catch(() => undefined);
        await sleepBeforeReconnect(attempt, this.options.maxBackoffMs, this.stopping.signal);
      }
    }
  }

  async registerCommands(): Promise<void> {
    try {
      await this.client.application?.commands.set(applicationCommands());
      this.logger.info('discord application commands registered');
    } catch (error) {
      this.logger.warn({ err: redactedError(error, this.options.token) }, 'discord command registration failed');
    }
  }

  private async onInteraction(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isAutocomplete()) await this.autocomplete(interaction);
      else if (interaction.isChatInputCommand()) await this.command(interaction);
    } catch (error) {
      // Interaction tokens expire and users delete channels; nothing to tell anyone but the log.
      this.logger.warn({ err: redactedError(error, this.options.token) }, 'discord interaction failed');
    }
  }

  private identify(interaction: Interaction): { identity: ChatIdentity; place: ChatPlace } {
    return {
      identity: { platform: 'DISCORD', userId: interaction.user.id },
      place: { platform: 'DISCORD', chatId: interaction.channelId ?? interaction.user.id, isPrivate: !interaction.inGuild() },
    };
  }

  private async autocomplete(interaction: AutocompleteInteraction): Promise<void> {
    const { identity, place } = this.identify(interaction);
    const names = await this.dispatcher.suggestEnvironments(identity, place, String(interaction.options.getFocused()));
    await interaction.respond(names.map((name) => ({ name, value: name })));
  }

  private async command(interaction: ChatInputCommandInteraction): Promise<void> {
    const spec = findCommand(interaction.commandName);
    const { identity, place } = this.identify(interaction);
    const secretHere = spec?.secret === true && !place.isPrivate;
    // Acknowledge at once: Discord drops interactions not answered within 3 s.
    await interaction.deferReply(secretHere ? { flags: MessageFlags.Ephemeral } : {});
    const args = spec ? argumentsOf(spec, interaction) : [];
    const result = await this.dispatcher.dispatch(identity, place, interaction.commandName, args, { canDirectMessage: true });
    const text = this.api.render(result.message);
    if (result.kind === 'reply' && result.secret && !place.isPrivate) {
      await interaction.editReply({ content: await this.sendDirect(identity.userId, text), allowedMentions: { parse: [] } });
      return;
    }
    await interaction.editReply({ content: text, allowedMentions: { parse: [] } });
  }

  /** A secret answer asked for in a server goes to the person's DMs; the channel only hears that it did. */
  private async sendDirect(userId: string, text: string): Promise<string> {
    try {
      const channelId = await this.api.openDirectChannel(userId);
      await this.api.send(channelId, text);
      return '📬 I sent you a DM with the link.';
    } catch (error) {
      if (!(error instanceof DeliveryError)) throw error;
      this.logger.warn({ reason: error.message }, 'discord DM failed');
      return '⚠️ I could not DM you. Allow direct messages from this server, or run the command in a DM with me.';
    }
  }
}
