// Command-line options of the bench scripts: `--name value`, `--name=value` and bare `--flag`.

export interface OptionSpec {
  /** What `--help` prints for it. */
  help: string;
  /** Takes no value. */
  flag?: boolean;
}

export type Options = Map<string, string | true>;

export function parseOptions(args: string[], spec: Record<string, OptionSpec>, usage: string): Options {
  const options: Options = new Map();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--help" || arg === "-h") {
      console.log(usage);
      for (const [name, s] of Object.entries(spec)) {
        console.log(`  --${name}${s.flag ? "" : " <value>"}`.padEnd(28) + s.help);
      }
      Deno.exit(0);
    }
    const match = arg.match(/^--([a-z-]+)(?:=(.*))?$/);
    if (!match || !spec[match[1]]) fail(`unknown argument ${JSON.stringify(arg)} (--help lists the options)`);
    const [, name, inline] = match;
    if (spec[name].flag) {
      if (inline !== undefined) fail(`--${name} takes no value`);
      options.set(name, true);
    } else {
      const value = inline ?? args[++i];
      if (value === undefined) fail(`--${name} needs a value`);
      options.set(name, value);
    }
  }
  return options;
}

export function intOption(options: Options, name: string, fallback: number, min = 1): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(String(raw).replaceAll("_", ""));
  if (!Number.isInteger(n) || n < min) {
    fail(`--${name} wants a whole number of at least ${min}, not ${JSON.stringify(raw)}`);
  }
  return n;
}

export function numberOption(options: Options, name: string, fallback: number): number {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} wants a positive number, not ${JSON.stringify(raw)}`);
  return n;
}

export function intListOption(options: Options, name: string, fallback: number[]): number[] {
  const raw = options.get(name);
  if (raw === undefined) return fallback;
  const list = String(raw).split(",").map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1)) {
    fail(`--${name} wants a comma-separated list of whole numbers such as 1,8,32, not ${JSON.stringify(raw)}`);
  }
  return list;
}

function fail(message: string): never {
  console.error(message);
  Deno.exit(2);
}
