// A small HTTP server with a CLOSE_WAIT leak, run by the process actor (scenario.ts): it answers every request
// but never closes a connection whose client has gone.
import net from 'node:net';

const port = Number(process.env.PORT);
// allowHalfOpen: the client's FIN ('end') does not close our side, and nothing here ever calls end().
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  socket.on('end', () => console.log(`client ${socket.remotePort} gone; its socket stays open`));
});
server.listen(port, () => console.log(`listening on ${port} (lab host ${process.env.WAITLAB_HOST_server})`));
process.on('SIGTERM', () => {
  console.log('SIGTERM: exiting');
  process.exit(0);
});
