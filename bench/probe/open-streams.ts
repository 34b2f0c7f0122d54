// The probes' idle streams: N raw SSE connections to one topic (as scenario 5), opened
// from a child process so that their client ends are not in the measured heap.
import { spawn, type ChildProcess } from 'node:child_process';

/** Opens `count` streams to `port`; resolves once each has its head, with the child (kill it to close them). */
export async function openStreams(port: number, count: number): Promise<ChildProcess> {
  const request = `GET /.well-known/mercure?topic=${encodeURIComponent('https://bench.herald.test/t/0')} HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`;
  const script = `const net=require('net');let open=0;for(let i=0;i<${count};i++){const s=net.connect(${port},'127.0.0.1',()=>s.write('${request}'));s.once('data',()=>{if(++open===${count})console.log('ready')})}`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => String(d).includes('ready') && resolve()));
  return child;
}
