// zergling/http: an HTTP/1.1 server (RFC 9112) on zergling's io_uring reactor.
//
//   import { serve } from 'zergling/http';
//   await serve({ port: 8080, fetch: () => new Response('Hello, World!') });          // Web API
//
//   const TEXT = headerBlock({ 'content-type': 'text/plain' });                          // fast path
//   await serve({ port: 8080, handler: (req, res) => { res.headers(TEXT).end('Hello, World!'); } });
export { serve, HttpServer } from './server.ts';
export type { ServeOptions, HttpStats } from './server.ts';
export type { HttpClusterServer } from './cluster.ts';
export type { ServeModule } from './cluster-handler.ts';
export { HttpRequest } from './request.ts';
export { HttpResponse, HeaderBlock, headerBlock } from './response.ts';
export type { FastHandler, HttpCounters, HttpLimits } from './conn.ts';
export type { FetchHandler } from './fetch.ts';
export { LiteResponse as Response, lazyResponses } from './web-response.ts';
export { HTTP_DEFAULTS } from './options.ts';
export type { HttpLimitOptions } from './options.ts';
export { httpCodes } from './errors.ts';
