// The echo handler as a module, for `examples/echo.ts --reactors N`: every
// reactor thread imports it and runs it on each of its connections.
import type { ClusterHandler } from '../src/cluster/index.ts';

// Push-style reading: each chunk is valid until the handler returns. The
// returned promise settles at the end of the stream, which closes the
// connection once everything is sent.
const echo: ClusterHandler = (conn) => conn.receive((bytes) => (conn.write(bytes) ? undefined : conn.flush()));
export default echo;
