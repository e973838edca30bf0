/**
 * A platform-neutral chat message: the command layer and the notifier build
 * these, and each front door renders them with its own escaping (Telegram
 * HTML, Discord Markdown) inside its own length limit.
 */
export type Span =
  | string
  | { bold: string }
  | { italic: string }
  | { code: string }
  | { link: string; label?: string };

export type Block =
  /** One line of styled spans. */
  | { kind: 'line'; spans: Span[] }
  /** Preformatted lines (logs); when too long, the oldest lines go first. */
  | { kind: 'pre'; lines: string[] };

export interface ChatMessage {
  blocks: Block[];
}

export const line = (...spans: Span[]): Block => ({ kind: 'line', spans });
export const pre = (lines: string[]): Block => ({ kind: 'pre', lines });
export const bold = (text: string): Span => ({ bold: text });
export const italic = (text: string): Span => ({ italic: text });
export const code = (text: string): Span => ({ code: text });
export const link = (url: string, label?: string): Span => ({ link: url, label });
export const message = (...blocks: Block[]): ChatMessage => ({ blocks });
export const textMessage = (...lines: string[]): ChatMessage => ({ blocks: lines.map((text) => line(text)) });

/** Turns one block into platform text; spans and lines are escaped by it. */
export interface BlockRenderer {
  renderSpan(span: Span): string;
  renderPre(lines: string[]): string;
}

export function renderMessage(chat: ChatMessage, renderer: BlockRenderer): string {
  return chat.blocks
    .map((block) => (block.kind === 'line' ? block.spans.map((span) => renderer.renderSpan(span)).join('') : renderer.renderPre(block.lines)))
    .join('\n');
}

/**
 * Renders within `limit` characters: drops the oldest lines of preformatted
 * blocks first (the newest log lines are what people need), then the last
 * text lines, so the answer always fits one message.
 */
export function renderWithin(chat: ChatMessage, renderer: BlockRenderer, limit: number): string {
  const rendered = renderMessage(chat, renderer);
  if (rendered.length <= limit) return rendered;
  const blocks = chat.blocks.map((block) => (block.kind === 'pre' ? { ...block, lines: [...block.lines] } : block));
  for (const block of blocks) {
    if (block.kind !== 'pre') continue;
    const all = block.lines;
    const keep = fitSuffix(all, (lines) => {
      block.lines = withCutNote(lines, all.length);
      return renderMessage({ blocks }, renderer).length <= limit;
    });
    block.lines = withCutNote(keep, all.length);
    if (renderMessage({ blocks }, renderer).length <= limit) return renderMessage({ blocks }, renderer);
  }
  // Still too long: drop trailing blocks, keeping the head (what the message is about).
  while (blocks.length > 1) {
    blocks.splice(blocks.length - 1, 1);
    const shortened = renderMessage({ blocks: [...blocks, line('…')] }, renderer);
    if (shortened.length <= limit) return shortened;
  }
  // One huge line: cut its plain text so that even fully escaped it fits.
  const plain = renderMessage({ blocks }, { renderSpan: spanText, renderPre: (lines) => lines.join('\n') });
  return renderMessage(textMessage(`${plain.slice(0, Math.floor(limit / 6))}…`), renderer);
}

function withCutNote(lines: string[], total: number): string[] {
  return lines.length === total ? lines : [`… ${total - lines.length} earlier lines not shown`, ...lines];
}

function spanText(span: Span): string {
  if (typeof span === 'string') return span;
  if ('bold' in span) return span.bold;
  if ('italic' in span) return span.italic;
  if ('code' in span) return span.code;
  return span.label ?? span.link;
}

/** Largest suffix of `lines` accepted by `fits` (binary search; `fits` is monotonic in length). */
function fitSuffix(lines: string[], fits: (lines: string[]) => boolean): string[] {
  let low = 0;
  let high = lines.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(lines.slice(lines.length - mid))) low = mid;
    else high = mid - 1;
  }
  return lines.slice(lines.length - low);
}
