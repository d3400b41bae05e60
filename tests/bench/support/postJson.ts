/** A JSON POST over a kept-alive connection, as the benchmarks' people make to Direct Line. */
import { request, type Agent, type OutgoingHttpHeaders } from 'node:http';

/** POSTs `body` as JSON and parses the answer; anything but 200 or 201 is an error naming the route (never a conversation id). */
export async function postJson<T = unknown>(agent: Agent, url: string, bearer: string | undefined, body: unknown): Promise<T> {
  try {
    return await postOnce<T>(agent, url, bearer, body);
  } catch (error) {
    // The server may close an idle kept-alive connection just as it is reused; Node's documented
    // remedy is to retry on a fresh one. The request never reached the server.
    if ((error as { reusedSocket?: boolean }).reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') return postOnce<T>(agent, url, bearer, body);
    throw error;
  }
}

function postOnce<T>(agent: Agent, url: string, bearer: string | undefined, body: unknown): Promise<T> {
  const payload = JSON.stringify(body);
  const headers: OutgoingHttpHeaders = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200 && res.statusCode !== 201) {
          const route = new URL(url).pathname.replace(/conversations\/[^/]+/, 'conversations/:id');
          return reject(new Error(`POST ${route} answered ${res.statusCode}`));
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as T);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    req.on('error', (error) => reject(Object.assign(error, { reusedSocket: req.reusedSocket })));
    req.end(payload);
  });
}
