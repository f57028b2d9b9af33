// Inside a lab host: one sample of the host's sockets, printed as JSON.
import { SocketSampler } from '../../src/sampler/socket-sampler.ts';

const sample = await new SocketSampler(100, () => 0, () => undefined).sampleOnce();
process.stdout.write(`${JSON.stringify(sample)}\n`);
