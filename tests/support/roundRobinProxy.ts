/**
 * A load balancer for tests that run several Waypoints: one loopback port in front of them that
 * sends each HTTP request to the next one in turn (no stickiness at all, the hardest case) and
 * each WebSocket upgrade to whichever the test picks. The Host header passes unchanged, so the
 * stream URLs Waypoint hands out point back at the proxy.
 */
import { createServer, request, type IncomingMessage } from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';

export interface Routed {
  readonly method: string;
  /** The path without its query. */
  readonly path: string;
  /** Index of the backend that got it. */
  readonly backend: number;
  readonly upgrade: boolean;
}

export interface RoundRobinProxy {
  readonly url: string;
  /** Every request and upgrade, in the order they came, with where it went. */
  readonly routed: Routed[];
  /** Where the next upgrade goes; by default the next backend in turn. */
  pickUpgrade: (() => number) | undefined;
  /**
   * Turns taken per method rather than for all requests: a poller that alternates a POST and a
   * GET would otherwise send every GET to the same backend.
   */
  turnsPerMethod: boolean;
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: readonly string[]): Promise<RoundRobinProxy> {
  const targets = backends.map((backend) => new URL(backend));
  const routed: Routed[] = [];
  const sockets = new Set<Socket>();
  const turns = new Map<string, number>();
  const take = (method = '') => {
    const key = proxy.turnsPerMethod ? method : '';
    const turn = turns.get(key) ?? 0;
    turns.set(key, turn + 1);
    return turn % targets.length;
  };

  const server = createServer((req, res) => {
    const backend = take(req.method);
    const target = targets[backend]!;
    routed.push({ method: req.method ?? '', path: pathOf(req), backend, upgrade: false });
    const forwarded = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(forwarded);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const backend = proxy.pickUpgrade?.() ?? take();
    const target = targets[backend]!;
    routed.push({ method: req.method ?? '', path: pathOf(req), backend, upgrade: true });
    const upstream = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const proxy: RoundRobinProxy = {
    url: `http://127.0.0.1:${port}`,
    routed,
    pickUpgrade: undefined,
    turnsPerMethod: false,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await closed;
    },
  };
  return proxy;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? '').split('?')[0] ?? '';
}
