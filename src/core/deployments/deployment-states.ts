import type { DeploymentStatus } from '../../generated/prisma/enums.js';

/**
 * SPEC section 3 lifecycle. A state may only move to the states listed here;
 * the terminal ones move nowhere (except RUNNING, which a newer deployment,
 * a user or a lost service ends).
 */
export const ALLOWED_TRANSITIONS: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  PENDING: ['BUILDING', 'PULLING_IMAGE', 'FAILED', 'STOPPED'],
  BUILDING: ['PULLING_IMAGE', 'FAILED', 'STOPPED'],
  PULLING_IMAGE: ['CREATING_VOLUMES', 'FAILED', 'STOPPED'],
  CREATING_VOLUMES: ['STARTING_CONTAINERS', 'FAILED', 'STOPPED'],
  STARTING_CONTAINERS: ['RUNNING', 'FAILED', 'STOPPED'],
  RUNNING: ['SUPERSEDED', 'STOPPED', 'FAILED'],
  FAILED: [],
  STOPPED: [],
  SUPERSEDED: [],
};

/** States a worker is still moving through, in the order it moves (STEP_ORDER relies on it). */
export const IN_PROGRESS_STATES: readonly DeploymentStatus[] = [
  'PENDING',
  'BUILDING',
  'PULLING_IMAGE',
  'CREATING_VOLUMES',
  'STARTING_CONTAINERS',
];

/** States whose service exists, or is about to: they hold their host ports. */
export const ACTIVE_STATES: readonly DeploymentStatus[] = [...IN_PROGRESS_STATES, 'RUNNING'];

export const TERMINAL_STATES: readonly DeploymentStatus[] = ['FAILED', 'STOPPED', 'SUPERSEDED'];

/** Order of the worker's steps, so a resumed job skips the ones already passed: the in-progress states, then RUNNING. */
const STEP_ORDER: readonly DeploymentStatus[] = ACTIVE_STATES;

export function canTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

export function isTerminal(status: DeploymentStatus): boolean {
  return TERMINAL_STATES.includes(status);
}

/** Whether `status` is at or beyond `step` on the way to RUNNING. */
export function hasReached(status: DeploymentStatus, step: DeploymentStatus): boolean {
  const at = STEP_ORDER.indexOf(status);
  return at >= 0 && at >= STEP_ORDER.indexOf(step);
}
