import { nanoid } from 'nanoid';
import type { Database } from '../db/prisma.js';
import type { ChatPlatform } from '../generated/prisma/enums.js';
import type { Logger } from '../logging/logger.js';
import type { NotificationRecorder } from '../metrics/runway-metrics.js';
import type { ChatMessage } from '../bot/chat-text.js';
import { DeliveryError, type ChatSender } from './chat-sender.js';
import { finalNotice, FINAL_STATES, progressNotice, type DeploymentView } from './deployment-notice.js';
import type { DeliveryTarget } from './deployment-view.js';

export type Senders = Partial<Record<ChatPlatform, ChatSender>>;

/**
 * Brings one chat up to date with one deployment: the progress message
 * (sent once, then edited; its id and last text live in NotificationMessage,
 * so a replayed event changes nothing) and, at RUNNING or FAILED, the final
 * message, sent once.
 */
export class NoticeDelivery {
  constructor(
    private readonly db: Database,
    private readonly senders: Senders,
    private readonly logger: Logger,
    private readonly recorder?: NotificationRecorder,
  ) {}

  /** Every enabled chat of the deployment's owner; throws when a retryable delivery failed. */
  async deliverDeployment(view: DeploymentView, targets: DeliveryTarget[], eventAt?: Date): Promise<void> {
    const results = await Promise.allSettled(targets.map((target) => this.toTarget(view, target, eventAt)));
    this.throwIfRetryable(results);
  }

  /** Sends a one-off message (domain and certificate events) to every enabled chat of a user. */
  async deliverOnce(
    to: { userId: string; platform: ChatPlatform },
    chat: ChatMessage,
    alreadySent: (targetId: string) => Promise<boolean>,
    markSent: (targetId: string) => Promise<void>,
  ): Promise<void> {
    const targets = await this.db.chatTarget.findMany({ where: { userId: to.userId, platform: to.platform, enabled: true } });
    const results = await Promise.allSettled(
      targets.map(async (target) => {
        const sender = this.senders[target.platform];
        if (!sender || (await alreadySent(target.id))) return;
        await this.measured(sender, 'domain', undefined, () => sender.send(target.chatId, sender.render(chat)));
        await markSent(target.id);
      }),
    );
    this.throwIfRetryable(results);
  }

  private async toTarget(view: DeploymentView, target: DeliveryTarget, eventAt?: Date): Promise<void> {
    const sender = this.senders[target.platform];
    if (!sender) return;
    let row = target.message;
    const text = sender.render(progressNotice(view));
    const ended = view.status === 'STOPPED' || view.status === 'SUPERSEDED';
    if (row?.lastText !== text && !(ended && !row?.messageId)) {
      const messageId = await this.measured(sender, 'deployment', eventAt, () => this.upsertMessage(sender, target.chatId, row?.messageId ?? null, text));
      row = await this.saveMessage(view.id, target.id, row?.id, { messageId, lastText: text });
    }
    if (FINAL_STATES.has(view.status) && !row?.finalSent) {
      await this.measured(sender, 'deployment', eventAt, () => sender.send(target.chatId, sender.render(finalNotice(view))));
      await this.saveMessage(view.id, target.id, row?.id, { finalSent: true });
    }
  }

  /** The NotificationMessage row is written after the platform answered, so a replay knows what is already shown. */
  private async saveMessage(deploymentId: string, chatTargetId: string, id: string | undefined, data: { messageId?: string; lastText?: string; finalSent?: boolean }) {
    if (id) return this.db.notificationMessage.update({ where: { id }, data });
    return this.db.notificationMessage.upsert({
      where: { deploymentId_chatTargetId: { deploymentId, chatTargetId } },
      create: { id: nanoid(), deploymentId, chatTargetId, ...data },
      update: data,
    });
  }

  /** Edits the progress message, or sends it when it does not exist (yet, or any more). */
  private async upsertMessage(sender: ChatSender, chatId: string, messageId: string | null, text: string): Promise<string> {
    if (messageId && (await sender.edit(chatId, messageId, text)) === 'edited') return messageId;
    return sender.send(chatId, text);
  }

  private async measured<T>(sender: ChatSender, kind: string, eventAt: Date | undefined, run: () => Promise<T>): Promise<T> {
    const channel = sender.platform.toLowerCase();
    try {
      const result = await run();
      const latencySeconds = eventAt ? (Date.now() - eventAt.getTime()) / 1000 : undefined;
      this.recorder?.recordNotification({ channel, ok: true, latencySeconds, kind });
      return result;
    } catch (error) {
      this.recorder?.recordNotification({ channel, ok: false, kind });
      throw error;
    }
  }

  /** Permanent failures (chat gone, bot blocked) are logged and dropped; others make the caller retry. */
  private throwIfRetryable(results: PromiseSettledResult<void>[]): void {
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    for (const failure of failures) {
      if (failure instanceof DeliveryError && failure.permanent) {
        this.logger.warn({ reason: failure.message }, 'chat delivery failed permanently; dropped');
      }
    }
    const retryable = failures.find((failure) => !(failure instanceof DeliveryError && failure.permanent));
    if (retryable) throw retryable;
  }
}
