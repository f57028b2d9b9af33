// The terminal as full-screen tools use it: the alternate screen, the cursor hidden, keys read raw; and
// given back as it was on q, Ctrl-C, SIGTERM, or any exit of the process.
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

export class TerminalScreen {
  private opened = false;
  private readonly restore = () => this.close();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly input: NodeJS.ReadStream,
  ) {}

  get width(): number {
    return this.out.columns || 80;
  }

  get height(): number {
    return this.out.rows || 24;
  }

  /** onQuit: on q, Q or Ctrl-C (raw mode turns Ctrl-C into a byte, not SIGINT) and on SIGINT/SIGTERM. */
  open(onQuit: (signal?: NodeJS.Signals) => void, onResize: () => void): void {
    this.opened = true;
    this.out.write(ENTER);
    process.on('exit', this.restore);
    if (this.input.isTTY) {
      this.input.setRawMode(true);
      this.input.resume();
      this.input.on('data', (key: Buffer) => {
        if (key.includes(0x71) || key.includes(0x51) || key.includes(0x03)) onQuit();
      });
    }
    process.once('SIGINT', () => onQuit('SIGINT'));
    process.once('SIGTERM', () => onQuit('SIGTERM'));
    this.out.on('resize', onResize);
  }

  draw(lines: readonly string[]): void {
    // Home, each line then "erase to its end", then erase below: no flicker of a full clear.
    this.out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
  }

  close(): void {
    if (!this.opened) return;
    this.opened = false;
    if (this.input.isTTY) {
      this.input.setRawMode(false);
      this.input.pause();
    }
    this.out.write(LEAVE);
    process.off('exit', this.restore);
  }
}
