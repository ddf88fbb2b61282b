import { Writable } from "node:stream";

/**
 * A fake terminal: collects what is written and replays the cursor movements and erasures that
 * the live lines use (`\n`, `\r`, CSI A/B/C/D/G/K/J), so tests can read the screen a user sees.
 */
export class FakeTerminal extends Writable {
  readonly isTTY = true;
  readonly columns = 100;
  out = "";

  override _write(chunk: Buffer | string, _encoding: string, done: () => void): void {
    this.out += String(chunk);
    done();
  }

  /** The screen's lines (trailing blank ones dropped), as a terminal would show them. */
  screen(): string[] {
    const rows: string[][] = [[]];
    let row = 0;
    let col = 0;
    const line = () => {
      while (rows.length <= row) rows.push([]);
      return rows[row] as string[];
    };
    const text = this.out;
    for (let i = 0; i < text.length; i++) {
      const c = text[i] as string;
      if (c === "\n") {
        row++;
        col = 0;
      } else if (c === "\r") col = 0;
      else if (c === "\x1b" && text[i + 1] === "[") {
        // CSI: ESC [ then an optional "?", a number and the command letter.
        const m = /^(\??)(\d*)([A-Za-z])/.exec(text.slice(i + 2));
        if (!m) throw new Error(`unknown escape at ${JSON.stringify(text.slice(i, i + 8))}`);
        i += m[0].length + 1;
        const n = m[2] === "" ? undefined : Number(m[2]);
        if (m[1] === "?") continue; // cursor visibility, line wrapping: nothing on the screen
        if (m[3] === "A") row = Math.max(0, row - (n ?? 1));
        else if (m[3] === "B") row += n ?? 1;
        else if (m[3] === "C") col += n ?? 1;
        else if (m[3] === "D") col = Math.max(0, col - (n ?? 1));
        else if (m[3] === "G") col = (n ?? 1) - 1;
        else if (m[3] === "K") {
          const cells = line();
          if ((n ?? 0) === 0) cells.length = Math.min(cells.length, col);
          else if (n === 1) cells.fill(" ", 0, Math.min(cells.length, col + 1));
          else cells.length = 0;
        } else if (m[3] === "J" && (n ?? 0) === 0) {
          const cells = line();
          cells.length = Math.min(cells.length, col);
          rows.length = row + 1;
        } else throw new Error(`unexpected escape ${JSON.stringify(m[0])}`);
      } else {
        const cells = line();
        while (cells.length < col) cells.push(" ");
        cells[col++] = c;
      }
    }
    const lines = rows.map((cells) => cells.join("").trimEnd());
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
    return lines;
  }
}
