/**
 * A request's Host header is the client's to choose. Where it goes into something we hand out
 * (a Content-Security-Policy, a stream URL), only a plain host[:port] may pass.
 */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:.]+\](:\d+)?$/;

/** The Host header when it is a plain host[:port], else `localhost`. */
export function plainHost(hostHeader: string | undefined): string {
  return hostHeader !== undefined && PLAIN_HOST.test(hostHeader) ? hostHeader : 'localhost';
}
