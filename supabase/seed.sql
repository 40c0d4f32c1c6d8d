-- A demo company: 10 field workers (one French-speaking), 3 open tasks each. Enough to talk to the bot
-- right after `npm start`: `npm run chat -- --as +15550100001`.
-- Numbers 555-01xx are reserved for fiction in North America; +33 6 39 98 for fiction in France.
insert into public.companies (id, name)
values ('00000000-0000-4000-8000-000000000001', 'Demo Builders Ltd')
on conflict (id) do nothing;

insert into public.workers (id, company_id, whatsapp_number, display_name, language)
values
  ('00000000-0000-4000-8000-000000000101', '00000000-0000-4000-8000-000000000001', '+15550100001', 'Alice Martin',   'en'),
  ('00000000-0000-4000-8000-000000000102', '00000000-0000-4000-8000-000000000001', '+15550100002', 'Bob Okafor',     'en'),
  ('00000000-0000-4000-8000-000000000103', '00000000-0000-4000-8000-000000000001', '+15550100003', 'Carla Mendes',   'en'),
  ('00000000-0000-4000-8000-000000000104', '00000000-0000-4000-8000-000000000001', '+15550100004', 'Dev Patel',      'en'),
  ('00000000-0000-4000-8000-000000000105', '00000000-0000-4000-8000-000000000001', '+15550100005', 'Eun-ji Park',    'en'),
  ('00000000-0000-4000-8000-000000000106', '00000000-0000-4000-8000-000000000001', '+15550100006', 'Farid Haddad',   'en'),
  ('00000000-0000-4000-8000-000000000107', '00000000-0000-4000-8000-000000000001', '+15550100007', 'Grace Lee',      'en'),
  ('00000000-0000-4000-8000-000000000108', '00000000-0000-4000-8000-000000000001', '+15550100008', 'Hugo Silva',     'en'),
  ('00000000-0000-4000-8000-000000000109', '00000000-0000-4000-8000-000000000001', '+15550100009', 'Ivan Petrov',    'en'),
  ('00000000-0000-4000-8000-000000000110', '00000000-0000-4000-8000-000000000001', '+33639980010', 'Juliette Moreau', 'fr')
on conflict (id) do nothing;

-- Task ids end in <worker><n>: the 2nd task of worker 107 is ...000000001072.
insert into public.tasks (id, company_id, worker_id, title, created_at)
select format('00000000-0000-4000-8000-%s', lpad((w.n * 10 + t.n)::text, 12, '0'))::uuid,
       '00000000-0000-4000-8000-000000000001',
       format('00000000-0000-4000-8000-%s', lpad(w.n::text, 12, '0'))::uuid,
       case when w.n = 110 then t.title_fr else t.title_en end,
       now() - make_interval(days => 4 - t.n)
  from generate_series(101, 110) as w(n)
 cross join (values (1, 'Paint the north wall', 'Peindre le mur nord'),
                    (2, 'Install kitchen cabinets', 'Poser les meubles de cuisine'),
                    (3, 'Replace roof tiles', 'Remplacer les tuiles du toit')) as t(n, title_en, title_fr)
on conflict (id) do nothing;
