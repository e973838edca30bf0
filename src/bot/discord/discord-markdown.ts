import { escapeMarkdown } from 'discord.js';
import { renderWithin, type BlockRenderer, type ChatMessage, type Span } from '../chat-text.js';

/** Discord's limit for a message's content. */
export const DISCORD_TEXT_LIMIT = 2000;

/** Backticks cannot be escaped inside code; a look-alike keeps the text readable. */
const safeCode = (text: string) => text.replace(/`/g, 'ˋ');

const markdownRenderer: BlockRenderer = {
  renderSpan(span: Span): string {
    if (typeof span === 'string') return escapeMarkdown(span);
    if ('bold' in span) return `**${escapeMarkdown(span.bold)}**`;
    if ('italic' in span) return `*${escapeMarkdown(span.italic)}*`;
    if ('code' in span) return `\`${safeCode(span.code)}\``;
    // Angle brackets suppress the link embed (Discord's "link preview").
    return span.label ? `[${escapeMarkdown(span.label)}](<${span.link}>)` : `<${span.link}>`;
  },
  renderPre(lines: string[]): string {
    return `\`\`\`\n${lines.join('\n').replace(/```/g, '`\u200b`\u200b`')}\n\`\`\``;
  },
};

export function renderDiscordMarkdown(chat: ChatMessage, limit = DISCORD_TEXT_LIMIT): string {
  return renderWithin(chat, markdownRenderer, limit);
}
