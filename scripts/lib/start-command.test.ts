import { describe, expect, it } from 'vitest';
import { parseStartCommand } from './start-command.js';

describe('parseStartCommand', () => {
  it('splits the variables set before the command from the command and its arguments', () => {
    expect(parseStartCommand('A_B=x:y=1 C=2 node --flag=3 main.js')).toEqual({
      env: { A_B: 'x:y=1', C: '2' },
      command: 'node',
      args: ['--flag=3', 'main.js'],
    });
  });

  it('a script without variables has none; an argument that looks like one stays an argument', () => {
    expect(parseStartCommand('node X=1 main.js')).toEqual({
      env: {},
      command: 'node',
      args: ['X=1', 'main.js'],
    });
  });

  it('a script of variables only is refused', () => {
    expect(() => parseStartCommand('A=1')).toThrow(/runs no command/);
  });
});
