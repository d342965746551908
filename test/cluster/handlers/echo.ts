// Test handler: echo, zero-copy (the received view is written back).
import type { ClusterHandler } from '../../../src/cluster/index.ts';

const echo: ClusterHandler = async (conn) => {
  for await (const bytes of conn) {
    if (!conn.write(bytes)) await conn.flush();
  }
};
export default echo;
