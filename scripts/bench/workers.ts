// Bench workers, made set-based: one company, `count` workers with numbers +1<prefix><7 digits>, each
// with the three open tasks of conversations.ts (oldest first, so they are numbered 1, 2, 3).
import type postgres from "postgres";
import { TASK_TITLES } from "./conversations.ts";

export interface BenchWorker {
  id: string;
  number: string;
  /** Task ids by their number minus one. */
  tasks: string[];
  /** The next script this worker runs (they rotate). */
  nextScript: number;
}

/** `prefix` is three digits that keep this group's numbers apart from every other group's. */
export async function insertWorkers(
  sql: postgres.Sql,
  count: number,
  prefix: string,
  label: string,
): Promise<BenchWorker[]> {
  if (!/^[1-9]\d{2}$/.test(prefix)) throw new Error(`worker number prefix must be three digits, got ${prefix}`);
  const [company] = await sql`insert into public.companies (name) values (${label}) returning id`;
  await sql`
    insert into public.workers (company_id, whatsapp_number, display_name, language)
    select ${company.id}, '+1' || ${prefix} || lpad(i::text, 7, '0'), 'Bench worker ' || i, 'en'
      from generate_series(1, ${count}::int) as i`;
  await sql`
    insert into public.tasks (company_id, worker_id, title, created_at)
    select ${company.id}, w.id, t.title, now() - make_interval(days => 4 - t.n::int)
      from public.workers w
     cross join unnest(${TASK_TITLES as unknown as string[]}::text[]) with ordinality as t(title, n)
     where w.company_id = ${company.id}`;
  const rows = await sql`
    select w.id, w.whatsapp_number, array_agg(t.id order by t.created_at, t.id) as tasks
      from public.workers w join public.tasks t on t.worker_id = w.id
     where w.company_id = ${company.id}
     group by w.id, w.whatsapp_number
     order by w.whatsapp_number`;
  return rows.map((r, i) => ({ id: r.id, number: r.whatsapp_number, tasks: r.tasks, nextScript: i % 3 }));
}
