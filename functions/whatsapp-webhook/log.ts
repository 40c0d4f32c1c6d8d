// One JSON line per event, with the message's correlation id; phone numbers masked, no secrets.
export type LogFields = Record<string, unknown>;

/** "+15550100001" → "+1*******0001": enough to tell workers apart in a log, not to call them. */
export function maskNumber(number: string | undefined): string | undefined {
  if (!number) return number;
  const digits = number.replace(/^whatsapp:/, "");
  return digits.length <= 6 ? "***" : `${digits.slice(0, 2)}${"*".repeat(digits.length - 6)}${digits.slice(-4)}`;
}

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  with(fields: LogFields): Logger;
}

export function createLogger(write: (line: string) => void = console.log, base: LogFields = {}): Logger {
  const emit = (level: string, event: string, fields?: LogFields) =>
    write(JSON.stringify({ ts: new Date().toISOString(), level, event, ...base, ...fields }));
  return {
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
    with: (fields) => createLogger(write, { ...base, ...fields }),
  };
}
