/** Never print an auth token that came inside a URL. */
export function redact(url: string): string {
  return url.replace(/([?&]authToken=)[^&]*/i, '$1***');
}
