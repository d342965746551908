// The echo handler as a module, for `examples/echo.ts --reactors N`: every
// reactor thread imports it and runs it on each of its connections.
import type { ClusterHandler } from '../src/cluster/index.ts';

const echo: ClusterHandler = async (conn) => {
  for await (const bytes of conn) {
    if (!conn.write(bytes)) await conn.flush();
  }
  // Returning closes the connection once everything is sent.
};
export default echo;
