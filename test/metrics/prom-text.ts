/** Lines of a Prometheus text exposition for one metric whose labels include `labels`. */
function matching(text: string, name: string, labels: Record<string, string>): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)));
}

/** The first matching sample's value, or undefined. */
export function promSample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = matching(text, name, labels)[0];
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** The sum of every matching sample (0 when none). */
export function promSum(text: string, name: string, labels: Record<string, string> = {}): number {
  return matching(text, name, labels).reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}
