// Progress for long runs: entries, MB/s and ETA on one refreshed terminal line, and nothing at
// all when stderr is not a terminal (piped, CI), so logs stay clean.

export class Progress {
  private readonly enabled: boolean;
  private readonly totalBytes: number;
  private readonly startedAt = performance.now();
  private lastDrawAt = 0;
  private bytes = 0;
  private entries = 0;
  private readonly stream: NodeJS.WriteStream;

  constructor(options: { totalBytes: number; stream?: NodeJS.WriteStream; enabled?: boolean }) {
    this.stream = options.stream ?? process.stderr;
    this.enabled = options.enabled ?? Boolean(this.stream.isTTY);
    this.totalBytes = options.totalBytes;
  }

  addBytes(count: number): void {
    this.bytes += count;
  }

  setEntries(count: number): void {
    this.entries = count;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDrawAt < 250) return;
    this.lastDrawAt = now;
    this.draw(now);
  }

  private draw(now: number): void {
    const seconds = (now - this.startedAt) / 1000;
    const mbPerSecond = this.bytes / 1e6 / Math.max(seconds, 0.001);
    let eta = "";
    if (this.totalBytes > 0 && this.bytes > 0) {
      const remaining = ((this.totalBytes - this.bytes) / this.bytes) * seconds;
      const percent = Math.min(100, (this.bytes / this.totalBytes) * 100);
      eta = ` ${percent.toFixed(0)}% ETA ${formatDuration(remaining)}`;
    }
    this.stream.write(
      `\r\x1b[K${this.entries.toLocaleString("en-US")} entries, ${mbPerSecond.toFixed(1)} MB/s${eta}`,
    );
  }

  done(): void {
    if (this.enabled) this.stream.write("\r\x1b[K");
  }
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
