// Optional TLS (--cert, --key): HTTPS with HTTP/2, HTTP/1.1 still accepted (ALPN
// picks). Over HTTP/2 every event stream of a page shares one connection, which
// lifts the browser's limit of six HTTP/1.1 connections per origin.
import { readFile } from 'node:fs/promises';
import { HeraldError } from '../errors.js';

export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Undefined without --cert/--key; throws HeraldError('invalid_config') for one without the other or an unreadable file. */
export async function loadTls(certPath: string | undefined, keyPath: string | undefined): Promise<TlsFiles | undefined> {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new HeraldError('invalid_config', 'TLS needs both --cert and --key (PEM files)');
  }
  const read = async (path: string, what: string): Promise<Buffer> => {
    try {
      const pem = await readFile(path);
      if (!pem.includes('-----BEGIN')) throw new Error('not a PEM file');
      return pem;
    } catch (error) {
      throw new HeraldError('invalid_config', `--${what} ${JSON.stringify(path)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  return { cert: await read(certPath, 'cert'), key: await read(keyPath, 'key') };
}

/** Fastify server options for TLS: HTTP/2 with HTTP/1.1 fallback; a handshake gets the request head's deadline. */
export function tlsServerOptions(tls: TlsFiles, handshakeTimeoutMs = 10_000): { http2: true; https: { allowHTTP1: true; cert: Buffer; key: Buffer; handshakeTimeout: number } } {
  return { http2: true, https: { allowHTTP1: true, cert: tls.cert, key: tls.key, handshakeTimeout: handshakeTimeoutMs } };
}
