/** Small node:http helpers shared by the API emulation and the emulators. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpAnswer } from '../proxy-event';

/** The whole body of a request or response. */
export const readAll = (stream: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

export const listen = (server: Server, port: number, host = '127.0.0.1') =>
  new Promise<number>((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });

/** Closes a server now, dropping kept-alive connections; safe to call twice. */
export const closer = (server: Server) => {
  let closed = false;
  return () =>
    new Promise<void>((done) => {
      if (closed) return done();
      closed = true;
      server.close(() => done());
      server.closeAllConnections();
    });
};

export const readBody = (req: IncomingMessage, limit: number) =>
  new Promise<{ body: Buffer; tooLarge: boolean }>((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers['content-length'] ?? 0) > limit;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) tooLarge = true;
      // Past the limit the rest is drained and dropped, so the client still reads the 413.
      if (!tooLarge) chunks.push(c);
    });
    req.on('end', () => resolveBody({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
    req.on('error', reject);
  });

export const send = (res: ServerResponse, answer: HttpAnswer, requestId: string) => {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of answer.headers) {
    const existing = headers[name];
    headers[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'x-amzn-requestid')) headers['x-amzn-RequestId'] = requestId;
  res.writeHead(answer.statusCode, headers);
  res.end(answer.body);
};

export const json = (statusCode: number, body: unknown): HttpAnswer => ({
  statusCode,
  headers: [['Content-Type', 'application/json']],
  body: Buffer.from(JSON.stringify(body)),
});
