// Two ways a peer's close turns into errors, each on its own pair of hosts:
// - a server that answers an upload early and close(2)s with the body unread: the kernel sends RST, not
//   FIN (TcpExt.TCPAbortOnClose), and the uploading client's next read or write fails with ECONNRESET;
// - a client that writes after the server closed: the server's closed socket answers the data with RST,
//   and the client's next write() fails with EPIPE.
import { defineScenario, f } from 'waitlab';

export default defineScenario({
  name: 'reset-and-broken-pipe',
  description:
    'a close with unread data sends RST (ECONNRESET at the uploader), and writes after the peer closed fail with EPIPE',
  params: {
    uploadRate: f.rate({ default: '20/s', describe: 'uploads per second' }),
    uploadBytes: f.int({
      default: 1024 * 1024,
      min: 256 * 1024,
      describe: 'request body size: more than the server reads before it closes',
    }),
    writeRate: f.rate({ default: '50/s', describe: 'connections per second that write after the server closed' }),
    duration: f.duration({ default: '3s', describe: 'how long each flood runs' }),
  },
  build: (p) => {
    const uploads = Math.round((p.uploadRate * p.duration) / 1000);
    const writes = Math.round((p.writeRate * p.duration) / 1000);
    return {
      hosts: { uploader: {}, upserver: {}, writer: {}, wserver: {} },
      actors: {
        web: {
          kind: 'http-server',
          host: 'upserver',
          port: 8080,
          keepAlive: false,
          closer: 'server',
          requestBody: 'unread',
        },
        upload: {
          kind: 'short-conn-client',
          host: 'uploader',
          target: 'web',
          rate: p.uploadRate,
          duration: p.duration,
          closer: 'server',
          requestBodyBytes: p.uploadBytes,
        },
        'close-web': {
          kind: 'http-server',
          host: 'wserver',
          port: 8080,
          keepAlive: false,
          closer: 'server',
          closeStyle: 'close',
        },
        'late-writer': {
          kind: 'short-conn-client',
          host: 'writer',
          target: 'close-web',
          rate: p.writeRate,
          duration: p.duration,
          closer: 'server',
          writeAfterPeerClose: 1024,
        },
      },
      thresholds: [
        `actors.web.closedUnread >= ${Math.floor(uploads * 0.95)}`,
        `actors.upload.errors.ECONNRESET.count >= ${Math.floor(uploads * 0.95)}`,
        `actors.late-writer.errors.EPIPE.count >= ${Math.floor(writes * 0.95)}`,
        'hosts.upserver.peak.total.TIME_WAIT == 0',
      ],
    };
  },
});
