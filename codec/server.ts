/**
 * The codec server (`billing codec-server`, and the one `billing dev` starts): Temporal's codec
 * server protocol over node:http, so the Temporal UI (`--ui-codec-endpoint`) and the `temporal` CLI
 * (`--codec-endpoint`) show authorised engineers the payloads in clear. `POST /decode` and
 * `POST /encode` (also under a namespace segment, `/default/decode`, for the CLI's templating)
 * take and return `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`.
 *
 * A browser may call it only from the UI's origins (CORS, preflight included); a request from any
 * other origin is refused with 403 before any payload is read. Requests without an Origin (the CLI,
 * scripts) are not from a browser and CORS does not apply to them. With a token
 * (BILLING_CODEC_TOKEN) every POST needs `Authorization: Bearer <token>`; preflights never carry
 * one. Listens on 127.0.0.1 unless told otherwise.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { LOCAL_PORTS } from '../config';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call it, e.g. http://localhost:8233. */
  origins: readonly string[];
  token?: string;
  host?: string;
  /** 0: any free port. */
  port: number;
}

export interface RunningCodecServer {
  url: string;
  close(): Promise<void>;
}

/** The largest request body read: a page of history's payloads (Temporal caps one payload at 2 MB). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
const ROUTE = /^(?:\/[^/]+)?\/(encode|decode)\/?$/;
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace, Caller-Type, Client-Name, Client-Version';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
function bytesOf(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new HttpError(400, `${what} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

function payloadsOf(body: string): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'the body is not JSON: send {"payloads": [...]}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'the body is not a JSON object: send {"payloads": [...]}');
  // Proto3 JSON leaves an empty list out: the temporal CLI sends {} to encode a query without arguments.
  const payloads = (parsed as { payloads?: unknown }).payloads ?? [];
  if (!Array.isArray(payloads)) throw new HttpError(400, '"payloads" is not an array: send {"payloads": [...]}');
  return payloads.map((p: JsonPayload, i) => {
    if (typeof p !== 'object' || p === null) throw new HttpError(400, `payloads[${i}] is not an object`);
    const metadata = Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, bytesOf(v, `payloads[${i}].metadata.${k}`)]));
    return { metadata, data: p.data === undefined ? Buffer.alloc(0) : bytesOf(p.data, `payloads[${i}].data`) };
  });
}

function jsonOf(payloads: Payload[]): string {
  return JSON.stringify({
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
      data: Buffer.from(p.data ?? []).toString('base64'),
    })),
  });
}

function readBody(request: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MB: send fewer payloads at once`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Constant-time comparison of the bearer token (hashed first, so lengths leak nothing either). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim();
  if (given === undefined) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(token));
}

export function codecRequestHandler(options: Omit<CodecServerOptions, 'port' | 'host'>): http.RequestListener {
  const origins = new Set(options.origins.map((o) => o.replace(/\/+$/, '')));
  return (request, response) => {
    const send = (status: number, body?: string, headers: http.OutgoingHttpHeaders = {}): void => {
      response.writeHead(status, { ...headers, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) });
      response.end(body);
    };
    const fail = (error: unknown): void => {
      const status = error instanceof HttpError ? error.status : 400;
      if (!response.headersSent) send(status, JSON.stringify({ message: (error as Error).message }));
    };
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) {
        send(403, JSON.stringify({ message: `origin ${origin} may not call this codec server: start it with --origin ${origin} if that is the Temporal UI` }));
        return;
      }
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
      response.setHeader('Vary', 'Origin');
    }
    const route = ROUTE.exec(new URL(request.url ?? '/', 'http://codec').pathname)?.[1];
    if (!route) return send(404, JSON.stringify({ message: 'not found: POST /encode or /decode' }));
    if (request.method === 'OPTIONS') {
      return send(204, undefined, { 'Access-Control-Allow-Methods': 'POST, OPTIONS', 'Access-Control-Allow-Headers': ALLOWED_HEADERS, 'Access-Control-Max-Age': '600' });
    }
    if (request.method !== 'POST') return send(405, JSON.stringify({ message: `${request.method} is not allowed: POST /${route}` }), { Allow: 'POST, OPTIONS' });
    if (options.token !== undefined && !tokenMatches(request.headers.authorization, options.token)) {
      return send(401, JSON.stringify({ message: 'missing or wrong bearer token: send Authorization: Bearer <BILLING_CODEC_TOKEN>' }), { 'WWW-Authenticate': 'Bearer' });
    }
    readBody(request)
      .then(async (body) => {
        const payloads = payloadsOf(body);
        const result = route === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
        send(200, jsonOf(result));
      })
      .catch(fail);
  };
}

export async function startCodecServer(options: CodecServerOptions): Promise<RunningCodecServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer(codecRequestHandler(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(
              `port ${options.port} on ${host} is taken: is another codec server (\`billing dev\`, \`billing codec-server\`) running? Stop it, or give \`billing codec-server\` another --port`,
            )
          : error,
      ),
    );
    server.listen(options.port, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The local Temporal UI's origins (`billing dev`'s): the browser's address bar may say either. */
export function localUiOrigins(uiPort: number = LOCAL_PORTS.temporalUi): string[] {
  return [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`];
}
