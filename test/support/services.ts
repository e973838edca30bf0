/**
 * Where the real services the tests need live. set-up (scripts/setup.sh)
 * starts them; the suite never starts PostgreSQL, Redis or Docker itself.
 */
export const TEST_DATABASE_URL = process.env.RUNWAY_TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/runway_test';
export const TEST_REDIS_URL = process.env.RUNWAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DOCKER_SOCKET = process.env.RUNWAY_TEST_DOCKER_SOCKET ?? '/var/run/docker.sock';
/** The image every Docker test uses: built by set-up, because no registry is reachable. */
export const TEST_IMAGE = 'local/busybox:1';
