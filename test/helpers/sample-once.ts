// Inside a lab host: one sample of the host's sockets and where its census came from, printed as JSON.
// An argument "proc" asks for the /proc/net/tcp census (WAITLAB_CENSUS=proc) instead of netlink.
import { SocketSampler } from '../../src/sampler/socket-sampler.ts';

if (process.argv[2] === 'proc') process.env['WAITLAB_CENSUS'] = 'proc';
const sampler = new SocketSampler(
  100,
  () => 0,
  () => undefined,
);
const choice = await sampler.censusSource();
const sample = await sampler.sampleOnce();
process.stdout.write(`${JSON.stringify({ ...sample, choice })}\n`);
