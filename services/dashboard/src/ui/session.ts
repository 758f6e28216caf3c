/**
 * The roles a token carries, read from its payload to decide what the page offers (the Release button).
 * Only a hint for the page: the services verify the token and refuse what its roles do not allow.
 */
export function rolesOf(token: string | null): string[] {
  const payload = token?.split('.')[1];
  if (!payload) return [];
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const roles = (JSON.parse(json) as { roles?: unknown }).roles;
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}
