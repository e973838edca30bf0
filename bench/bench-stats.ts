/** The middle sample (the upper one of the two for an even count); 0 without samples. */
export const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
