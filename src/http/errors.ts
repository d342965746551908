// Codes of the errors zergling/http raises (every one an Error with `code`).
export const httpCodes = Object.freeze({
  INVALID_HEADER: 'ERR_HTTP_INVALID_HEADER',
  INVALID_STATUS: 'ERR_HTTP_INVALID_STATUS_CODE',
  HEADERS_SENT: 'ERR_HTTP_HEADERS_SENT',
  WRITE_AFTER_END: 'ERR_STREAM_WRITE_AFTER_END',
  /** The request body was refused while being read (malformed chunked coding, too large): `status` says how. */
  BAD_BODY: 'ERR_HTTP_REQUEST_BODY',
  /** The connection ended before the request body did. */
  BODY_ABORTED: 'ERR_HTTP_BODY_ABORTED',
  BAD_RESPONSE: 'ERR_HTTP_INVALID_RESPONSE',
} as const);
