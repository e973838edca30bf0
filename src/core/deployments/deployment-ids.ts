import { customAlphabet } from 'nanoid';

/**
 * Lower-case letters and digits only: these ids end up in Docker object names
 * and DNS labels, which reject upper case and underscores.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** Row ids of environments, services, deployments and volumes. */
export const newId = customAlphabet(ALPHABET, 20);

/** The 16-character id a client polls (SPEC section 2); also the BullMQ job id. */
export const newJobId = customAlphabet(ALPHABET, 16);
