// The envelopes between a lab driver and an agent of many hosts: what each side accepts, and what it names as wrong.
import { describe, expect, it } from 'vitest';
import { parseFromGroup, parseToGroup } from '../../src/lab/agent-group-protocol.ts';

describe('agent group envelopes', () => {
  it('takes exactly one of attach, line, end, kill for a host with a valid name', () => {
    expect(parseToGroup({ host: 'client_2', attach: 'wl1n0-client_2' })).toEqual({
      host: 'client_2',
      attach: 'wl1n0-client_2',
    });
    expect(parseToGroup({ host: 'client', line: '{"cmd":"load"}' })).toEqual({
      host: 'client',
      line: '{"cmd":"load"}',
    });
    expect(parseToGroup({ host: 'client', end: true })).toEqual({ host: 'client', end: true });
    expect(parseToGroup({ host: 'client', kill: true })).toEqual({ host: 'client', kill: true });
  });

  it('names what is wrong with anything else', () => {
    expect(parseToGroup(null)).toBe('not an object');
    expect(parseToGroup({ host: '../x', end: true })).toBe('no valid host');
    expect(parseToGroup({ host: 'client', end: true, kill: true })).toBe('not exactly one of attach, line, end, kill');
    expect(parseToGroup({ host: 'client', end: 'yes' })).toBe('an unknown or ill-typed end');
    expect(parseToGroup({ host: 'client', attach: 3 })).toBe('an unknown or ill-typed attach');
    expect(parseToGroup({ host: 'client', __proto__: 1 })).toBe('not exactly one of attach, line, end, kill');
  });

  it('reads a line or an exit from the group, and nothing else', () => {
    expect(parseFromGroup({ host: 'c', line: '{}' })).toEqual({ host: 'c', line: '{}' });
    expect(parseFromGroup({ host: 'c', exit: 0 })).toEqual({ host: 'c', exit: 0 });
    expect(parseFromGroup({ host: 'c', exit: 1.5 })).toBe('neither a line nor an exit');
    expect(parseFromGroup({ line: '{}' })).toBe('no host');
    expect(parseFromGroup('text')).toBe('not an object');
  });
});
