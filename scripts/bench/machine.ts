// The machine the figures were taken on: CPU, cores, memory, kernel, PostgreSQL and its settings that
// matter for these figures, Deno, the date.
import type postgres from "postgres";

export interface Machine {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  postgres: string;
  postgresSettings: Record<string, string>;
  server: string;
  deno: string;
}

const SETTINGS = ["shared_buffers", "max_connections", "synchronous_commit", "fsync", "work_mem", "max_wal_size"];

export async function describeMachine(sql: postgres.Sql, server: string): Promise<Machine> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown CPU";
  const processors = cpuinfo.match(/^processor\s*:/gm)?.length ?? navigator.hardwareConcurrency;
  const memKb = Number(meminfo.match(/^MemTotal:\s*(\d+)/m)?.[1] ?? 0);
  const [{ version }] = await sql`select version()`;
  const settings = await sql`select name, setting, unit from pg_settings where name = any(${SETTINGS})`;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpu: model,
    cores: processors,
    memoryGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    kernel: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    postgres: String(version).replace(/ on x86_64.*$/, ""),
    postgresSettings: Object.fromEntries(settings.map((s) => [s.name, humanSetting(s.setting, s.unit)])),
    server,
    deno: Deno.version.deno,
  };
}

function humanSetting(value: string, unit: string | null): string {
  if (unit === "8kB") {
    const mb = (Number(value) * 8) / 1024;
    return mb >= 1024 ? `${mb / 1024}GB` : `${mb}MB`;
  }
  if (unit === "kB") return `${Number(value) / 1024}MB`;
  if (unit === "MB") return Number(value) >= 1024 ? `${Number(value) / 1024}GB` : `${value}MB`;
  return unit ? `${value}${unit}` : value;
}

export function printMachine(m: Machine): void {
  const settings = Object.entries(m.postgresSettings).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`date        ${m.date}`);
  console.log(`machine     ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.kernel}`);
  console.log(`postgres    ${m.postgres}: ${m.server}`);
  console.log(`            ${settings}`);
  console.log(`deno        ${m.deno} (the webhook and this client, on the same machine as PostgreSQL)`);
}
