"""The business simulator's engine, one module per part of the business.

- `config`: window, scale and dirt rates; plans, channels, countries, models (the fixed facts)
- `clock`, `rand`: time as UTC milliseconds; random streams derived per (seed, purpose, day/entity)
- `world`: the state that stays in memory (people, customers, the billing agenda, today's events)
- `catalog`: plans, courses with ordered lessons and quizzes, document templates, LLM price cuts
- `people`: visitors by channel and campaign, page views, signups, engagement, account deletions
- `activity`, `learning`, `products`: who uses what today; lessons, heartbeats, quizzes, completion;
  workspaces and content; documents and exports
- `billing`, `invoicing`: subscriptions and their changes; invoices, discounts, taxes, payments, refunds
- `money`: FX rates, ad spend, cloud costs, LLM prices (the CSV exports)
- `dirt`: from true events to each day's file lines (duplicates, late, malformed, skew, drift)
- `truth`: the ground truth, accumulated day by day from the state
- `rows`, `postgres`: operational rows as versions, loaded into PostgreSQL idempotently
- `engine`: the day loop; `writer`: landing files and ground-truth CSVs; `cli`: the command line
"""
