// Who else used the CPU during a measurement. The machine may be shared (other test runs, other
// databases on the same server): every half second this samples the machine's busy CPU time
// (/proc/stat) and that of the bench's own processes (this process and its descendants: the webhook,
// pgbench, an embedded PostgreSQL; and the server's backends whose title names the bench database),
// so a report can say how many cores something else was using while it measured.

const HZ = 100; // USER_HZ: the unit of /proc's CPU times on Linux

interface Sample {
  at: number;
  busy: number;
  mine: number;
}

export interface CpuMonitor {
  /** Average cores used by the bench's processes and by everything else, between two performance.now() times. */
  between(from: number, to: number): { mine: number; others: number };
  stop(): void;
}

export function startCpuMonitor(databaseName: string, everyMs = 500): CpuMonitor {
  const samples: Sample[] = [];
  // Per process, so a process that ends takes only its last half second with it, not its whole time.
  let previous = new Map<number, number>();
  let mine = 0;
  const take = () => {
    try {
      const busy = machineBusy();
      const now = benchCpu(databaseName);
      for (const [pid, ticks] of now) mine += ticks - (previous.get(pid) ?? 0);
      previous = now;
      samples.push({ at: performance.now(), busy, mine });
    } catch { /* not Linux, or /proc unreadable: no figure */ }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    between(from, to) {
      take();
      const first = samples.findLast((s) => s.at <= from) ?? samples[0];
      const last = samples.find((s) => s.at >= to) ?? samples[samples.length - 1];
      if (!first || !last || last.at <= first.at) return { mine: NaN, others: NaN };
      const seconds = (last.at - first.at) / 1000;
      const mine = (last.mine - first.mine) / HZ / seconds;
      const busy = (last.busy - first.busy) / HZ / seconds;
      return { mine, others: Math.max(0, busy - mine) };
    },
    stop: () => clearInterval(timer),
  };
}

function machineBusy(): number {
  const [cpu] = Deno.readTextFileSync("/proc/stat").split("\n");
  const [, user, nice, system, _idle, _iowait, irq, softirq, steal] = cpu.trim().split(/\s+/).map(Number);
  return user + nice + system + irq + softirq + steal;
}

/** CPU time so far (in USER_HZ ticks) of each of the bench's processes alive now. */
function benchCpu(databaseName: string): Map<number, number> {
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  const titled: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      // "pid (comm) state ppid … utime stime …": comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      cpu.set(pid, Number(fields[11]) + Number(fields[12]));
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
      if (Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes(databaseName)) titled.push(pid);
    } catch { /* the process ended meanwhile */ }
  }
  const mine = new Set<number>();
  const visit = (pid: number) => {
    if (mine.has(pid)) return;
    mine.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(Deno.pid);
  titled.forEach(visit);
  return new Map([...mine].map((pid) => [pid, cpu.get(pid) ?? 0]));
}
