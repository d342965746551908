// Status lines, encoded once per status code and reused by every response.
const REASONS: Record<number, string> = {
  100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
  307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict',
  410: 'Gone', 411: 'Length Required', 412: 'Precondition Failed', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 416: 'Range Not Satisfiable', 417: 'Expectation Failed', 422: 'Unprocessable Content',
  426: 'Upgrade Required', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

const lines = new Map<number, Uint8Array>();

/** `HTTP/1.1 <status> <reason>\r\n`, cached per status. */
export function statusLine(status: number): Uint8Array {
  let l = lines.get(status);
  if (l === undefined) {
    l = Buffer.from(`HTTP/1.1 ${status} ${reasonPhrase(status)}\r\n`, 'latin1');
    lines.set(status, l);
  }
  return l;
}

/** Statuses whose responses never carry a body or its framing (RFC 9110 §6.4.1). */
export function bodyless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}
