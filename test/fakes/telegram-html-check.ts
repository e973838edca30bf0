/**
 * Checks a text the way the Bot API parses `parse_mode: HTML` and returns its
 * visible text, so tests catch escaping mistakes as real Telegram would
 * ("Bad Request: can't parse entities: ..."). Supports the documented tags and
 * entities: https://core.telegram.org/bots/api#html-style
 */
const TAGS = new Set([
  'b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'span', 'tg-spoiler', 'blockquote', 'tg-emoji',
]);
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

export function checkTelegramHtml(text: string): string {
  const open: string[] = [];
  let visible = '';
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (char === '<') {
      const end = text.indexOf('>', i);
      if (end < 0) fail(`unexpected end of name token at byte offset ${i}`);
      const tag = text.slice(i + 1, end);
      const closing = tag.startsWith('/');
      const name = (closing ? tag.slice(1) : tag).split(/\s/)[0]!.toLowerCase();
      if (!TAGS.has(name)) fail(`unsupported start tag "${name}" at byte offset ${i}`);
      if (closing) {
        if (open.pop() !== name) fail(`unmatched end tag at byte offset ${i}, expected "</${open.at(-1) ?? ''}>", found "</${name}>"`);
      } else {
        open.push(name);
      }
      i = end + 1;
    } else if (char === '&') {
      const end = text.indexOf(';', i);
      const entity = end > 0 ? text.slice(i + 1, end) : '';
      if (ENTITIES[entity] !== undefined) visible += ENTITIES[entity];
      else if (/^#\d+$/.test(entity)) visible += String.fromCodePoint(Number(entity.slice(1)));
      else if (/^#x[0-9a-f]+$/i.test(entity)) visible += String.fromCodePoint(parseInt(entity.slice(2), 16));
      else fail(`unsupported entity at byte offset ${i}`);
      i = end + 1;
    } else if (char === '>') {
      // Telegram accepts a bare '>' but documents that it must be escaped.
      visible += char;
      i += 1;
    } else {
      visible += char;
      i += 1;
    }
  }
  if (open.length > 0) fail(`can't find end tag corresponding to start tag "${open.at(-1)}"`);
  return visible;
}

function fail(reason: string): never {
  throw { code: 400, description: `Bad Request: can't parse entities: ${reason}` };
}
