/** What a hook learns about an environment that is being deleted. */
export interface DeletingEnvironment {
  id: string;
  userId: string;
  name: string;
  domains: { id: string; hostname: string; serviceId: string }[];
}

export type EnvironmentDeletingHook = (environment: DeletingEnvironment) => Promise<void>;

/**
 * Other features (the HTTPS module's Nginx routes) add a hook here; it runs
 * after the environment's services are removed and before its rows (domains
 * included) are deleted, so it can still read them. A failing hook is logged
 * and does not block the deletion.
 */
export class EnvironmentHooks {
  private readonly deleting: EnvironmentDeletingHook[] = [];

  onDeleting(hook: EnvironmentDeletingHook): void {
    this.deleting.push(hook);
  }

  async runDeleting(environment: DeletingEnvironment, onError: (error: unknown) => void): Promise<void> {
    for (const hook of this.deleting) {
      await hook(environment).catch(onError);
    }
  }
}
