/** The studio's API as the page calls it: the token from the page's own address, as a Bearer header. */
import type { StudioError } from '../api.js';

const token = new URLSearchParams(location.search).get('token') ?? '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function answer<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({ error: response.statusText, code: String(response.status) }))) as unknown;
  if (!response.ok) {
    const { error, code } = body as StudioError;
    throw new ApiError(response.status, code, error);
  }
  return body as T;
}

export async function get<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  return answer<T>(await fetch(`${path}?${query}`, { headers: { authorization: `Bearer ${token}` } }));
}

export async function post<T>(path: string, body: unknown): Promise<T> {
  return answer<T>(
    await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  );
}
