-- The conversation state machine: domain tables, session state, rules as data, audit, idempotency,
-- clarifications and settings. Functions come in the next migration, views after that.
--
-- Every table has RLS enabled and no grant to anon/authenticated: only service_role (which bypasses
-- RLS) and the security definer functions touch them.

create domain public.fsm_state as text
  check (value in ('idle', 'task_selection', 'awaiting_action', 'collecting_data',
                   'confirmation_pending', 'completed', 'abandoned'));

-- Settings the reference design keeps as constants, in one row so they change without a deploy.
create table public.fsm_settings (
  id boolean primary key default true check (id),
  clarification_timeout interval not null default '5 minutes' check (clarification_timeout > '0'),
  session_timeout interval not null default '30 minutes' check (session_timeout > '0'),
  orphan_threshold interval not null default '30 minutes' check (orphan_threshold > '0'),
  idempotency_retention interval not null default '7 days' check (idempotency_retention > '0'),
  -- How long a claimed message stays owned by the delivery that claimed it; after that a crashed
  -- claim can be taken over by the next delivery.
  idempotency_lease interval not null default '30 seconds' check (idempotency_lease > '0'),
  transition_log_retention interval not null default '90 days' check (transition_log_retention > '0'),
  cron_history_retention interval not null default '7 days' check (cron_history_retention > '0'),
  cleanup_batch_size integer not null default 5000 check (cleanup_batch_size between 1 and 100000),
  -- A single cleanup run stops starting new batches after this long; the next run continues.
  cleanup_time_budget interval not null default '20 seconds' check (cleanup_time_budget > '0'),
  updated_at timestamptz not null default now()
);
alter table public.fsm_settings enable row level security;
insert into public.fsm_settings default values;

create table public.companies (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);
alter table public.companies enable row level security;

create table public.workers (
  id uuid primary key default gen_random_uuid(),
  company_id uuid not null references public.companies on delete cascade,
  whatsapp_number text not null unique check (whatsapp_number ~ '^\+[1-9][0-9]{6,14}$'),
  display_name text not null check (length(display_name) between 1 and 200),
  language text not null default 'en' check (language in ('en', 'fr')),
  is_active boolean not null default true,
  created_at timestamptz not null default now()
);
alter table public.workers enable row level security;
create index workers_company_id_idx on public.workers (company_id);

create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  company_id uuid not null references public.companies on delete cascade,
  worker_id uuid not null references public.workers on delete cascade,
  title text not null check (length(title) between 1 and 200),
  description text,
  status text not null default 'open' check (status in ('open', 'done', 'cancelled')),
  progress_percent smallint not null default 0 check (progress_percent between 0 and 100),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
alter table public.tasks enable row level security;
create index tasks_open_by_worker_idx on public.tasks (worker_id, created_at) include (title, progress_percent)
  where status = 'open';

create table public.progress_update_sessions (
  id uuid primary key default gen_random_uuid(),
  worker_id uuid not null references public.workers on delete cascade,
  session_type text not null default 'progress_update' check (session_type in ('progress_update', 'incident')),
  task_id uuid references public.tasks on delete set null,
  fsm_state public.fsm_state not null default 'idle',
  closure_reason text check (closure_reason in
    ('completed', 'cancelled', 'timeout', 'task_switched', 'orphaned', 'force_abandoned')),
  session_metadata jsonb not null default '{}' check (jsonb_typeof(session_metadata) = 'object'),
  transition_history jsonb not null default '[]' check (jsonb_typeof(transition_history) = 'array'),
  version integer not null default 0,
  last_activity timestamptz not null default now(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  closed_at timestamptz,
  constraint closed_sessions_have_a_reason check (
    (fsm_state in ('completed', 'abandoned')) = (closed_at is not null and closure_reason is not null)
  )
);
alter table public.progress_update_sessions enable row level security;
-- At most one open session per worker.
create unique index progress_update_sessions_one_open_per_worker
  on public.progress_update_sessions (worker_id)
  where fsm_state not in ('completed', 'abandoned');
-- The cleanup's hot query: open sessions idle the longest.
create index progress_update_sessions_open_by_activity_idx
  on public.progress_update_sessions (last_activity) include (fsm_state)
  where fsm_state not in ('completed', 'abandoned');
create index progress_update_sessions_worker_idx on public.progress_update_sessions (worker_id, created_at);
create index progress_update_sessions_task_idx on public.progress_update_sessions (task_id);

create table public.photos (
  id bigint generated always as identity primary key,
  session_id uuid not null references public.progress_update_sessions on delete cascade,
  message_id text not null,
  media_index smallint not null default 0 check (media_index between 0 and 9),
  media_url text not null check (media_url ~ '^https?://'),
  content_type text not null check (content_type ~ '^[a-z]+/[A-Za-z0-9.+-]+$'),
  caption text,
  created_at timestamptz not null default now(),
  unique (message_id, media_index)
);
alter table public.photos enable row level security;
create index photos_session_idx on public.photos (session_id, id);

create table public.progress_updates (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null unique references public.progress_update_sessions on delete cascade,
  task_id uuid not null references public.tasks on delete cascade,
  worker_id uuid not null references public.workers on delete cascade,
  progress_percent smallint check (progress_percent between 0 and 100),
  comment text,
  photo_count integer not null default 0,
  message_id text not null unique,
  created_at timestamptz not null default now()
);
alter table public.progress_updates enable row level security;
create index progress_updates_task_idx on public.progress_updates (task_id, created_at);
create index progress_updates_worker_idx on public.progress_updates (worker_id);

create table public.incidents (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null unique references public.progress_update_sessions on delete cascade,
  task_id uuid references public.tasks on delete set null,
  worker_id uuid not null references public.workers on delete cascade,
  description text not null,
  photo_count integer not null default 0,
  status text not null default 'open' check (status in ('open', 'resolved')),
  message_id text not null unique,
  created_at timestamptz not null default now()
);
alter table public.incidents enable row level security;
create index incidents_task_idx on public.incidents (task_id);
create index incidents_worker_idx on public.incidents (worker_id);

-- The only moves the machine may make. (from_state, event) decides to_state.
create table public.fsm_transition_rules (
  from_state public.fsm_state not null,
  event text not null check (event ~ '^[a-z_]+$'),
  to_state public.fsm_state not null,
  description text not null,
  primary key (from_state, event)
);
alter table public.fsm_transition_rules enable row level security;

insert into public.fsm_transition_rules (from_state, event, to_state, description) values
  ('idle',                 'start_update',         'task_selection',       'Worker asks to update without naming a task: list the tasks'),
  ('idle',                 'select_task',          'awaiting_action',      'Worker names the task up front'),
  ('task_selection',       'select_task',          'awaiting_action',      'Worker picks a task from the list'),
  ('awaiting_action',      'add_data',             'collecting_data',      'First photo, comment or percentage'),
  ('collecting_data',      'add_data',             'collecting_data',      'More photos, comments or a new percentage'),
  ('collecting_data',      'request_confirmation', 'confirmation_pending', 'Worker says done: show the summary'),
  ('confirmation_pending', 'confirm',              'completed',            'Worker confirms: record the update'),
  ('confirmation_pending', 'reject',               'collecting_data',      'Worker says no: back to collecting'),
  ('confirmation_pending', 'add_data',             'collecting_data',      'Worker adds more instead of confirming'),
  ('awaiting_action',      'change_task',          'task_selection',       'Worker wants another task before sending anything'),
  ('collecting_data',      'change_task',          'task_selection',       'Worker wants another task; collected data is dropped'),
  ('idle',                 'abandon',              'abandoned',            'Force abandon'),
  ('task_selection',       'abandon',              'abandoned',            'Force abandon'),
  ('awaiting_action',      'abandon',              'abandoned',            'Force abandon'),
  ('collecting_data',      'abandon',              'abandoned',            'Force abandon'),
  ('confirmation_pending', 'abandon',              'abandoned',            'Force abandon');

create table public.fsm_transition_log (
  id bigint generated always as identity primary key,
  session_id uuid references public.progress_update_sessions on delete cascade,
  worker_id uuid references public.workers on delete cascade,
  from_state public.fsm_state,
  to_state public.fsm_state,
  event text not null,
  success boolean not null,
  error_code text,
  error_message text,
  correlation_id text,
  created_at timestamptz not null default now(),
  check (success = (error_code is null))
);
alter table public.fsm_transition_log enable row level security;
create index fsm_transition_log_session_idx on public.fsm_transition_log (session_id, id);
create index fsm_transition_log_created_idx on public.fsm_transition_log (created_at);
create index fsm_transition_log_failures_idx on public.fsm_transition_log (created_at) include (error_code)
  where not success;
create index fsm_transition_log_worker_idx on public.fsm_transition_log (worker_id);

-- One row per inbound message id, in the manner of Stripe's idempotency keys.
create table public.fsm_idempotency_records (
  message_id text primary key check (length(message_id) between 1 and 200),
  worker_id uuid references public.workers on delete cascade,
  status text not null default 'processing' check (status in ('processing', 'completed', 'failed')),
  -- A fresh token per claim: only the holder of the current claim may complete it.
  claim_token uuid not null default gen_random_uuid(),
  attempts integer not null default 1,
  locked_until timestamptz,
  reply text,
  result jsonb,
  error text,
  created_at timestamptz not null default now(),
  processed_at timestamptz,
  check ((status = 'processing') = (locked_until is not null)),
  check (status = 'processing' or processed_at is not null)
);
alter table public.fsm_idempotency_records enable row level security;
create index fsm_idempotency_records_created_idx on public.fsm_idempotency_records (created_at);
create index fsm_idempotency_records_processing_idx on public.fsm_idempotency_records (locked_until)
  where status = 'processing';
create index fsm_idempotency_records_worker_idx on public.fsm_idempotency_records (worker_id);

create table public.fsm_clarification_requests (
  id uuid primary key default gen_random_uuid(),
  worker_id uuid not null references public.workers on delete cascade,
  session_id uuid references public.progress_update_sessions on delete cascade,
  status text not null default 'pending' check (status in ('pending', 'answered', 'expired', 'cancelled')),
  question text not null check (length(question) between 1 and 1600),
  -- [{ "key": "comment", "label": "Add it as a comment" }, ...]
  options jsonb not null check (jsonb_typeof(options) = 'array' and jsonb_array_length(options) between 2 and 9),
  original_message text not null,
  message_id text,
  answer text,
  chosen_option jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  resolved_at timestamptz,
  check ((status = 'pending') = (resolved_at is null))
);
alter table public.fsm_clarification_requests enable row level security;
create unique index fsm_clarification_requests_one_pending_per_worker
  on public.fsm_clarification_requests (worker_id) where status = 'pending';
create index fsm_clarification_requests_pending_expiry_idx
  on public.fsm_clarification_requests (expires_at) where status = 'pending';
create index fsm_clarification_requests_session_idx on public.fsm_clarification_requests (session_id);

-- Supabase grants everything in public to anon and authenticated by default; take it back.
revoke all on table
  public.fsm_settings, public.companies, public.workers, public.tasks, public.progress_update_sessions,
  public.photos, public.progress_updates, public.incidents, public.fsm_transition_rules,
  public.fsm_transition_log, public.fsm_idempotency_records, public.fsm_clarification_requests
  from public, anon, authenticated;
grant select, insert, update, delete on table
  public.fsm_settings, public.companies, public.workers, public.tasks, public.progress_update_sessions,
  public.photos, public.progress_updates, public.incidents, public.fsm_transition_rules,
  public.fsm_transition_log, public.fsm_idempotency_records, public.fsm_clarification_requests
  to service_role;
