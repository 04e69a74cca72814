/**
 * Which process holds the server end of a TCP connection on this machine (Linux /proc): lets a test
 * of `keymint serve --workers N` tell which worker served which client connection without the
 * server saying so. Undefined where /proc is not there.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';

/** Inode of the server-side socket of the connection from 127.0.0.1:`clientPort` to `serverPort`. */
function serverSocketInode(serverPort: number, clientPort: number): string | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    const remote = cols[2];
    if (!local || !remote) continue;
    const port = (addr: string) => parseInt(addr.split(':')[1] ?? '', 16);
    if (port(local) === serverPort && port(remote) === clientPort) return cols[9];
  }
  return undefined;
}

/** The pid, among `pids`, whose file descriptors include the server end of that connection. */
export function ownerOf(pids: readonly number[], serverPort: number, clientPort: number): number | undefined {
  const inode = serverSocketInode(serverPort, clientPort);
  if (inode === undefined) return undefined;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Direct children of `pid`. */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Whether a new connection to 127.0.0.1:`port` is refused within about 5 s, polled every 50 ms: a
 * draining server (every worker of one) has stopped accepting.
 */
export async function refusesConnections(port: number): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const refused = await new Promise<boolean>((resolve) => {
      const probe = connect({ host: '127.0.0.1', port });
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
    });
    if (refused) return true;
  }
  return false;
}
