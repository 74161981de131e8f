{# Each subscription's recurring amount per month, in its own currency, on every month-end snapshot
   where it counts for MRR (METRICS.md: active at the end of the snapshot day, trial over). #}
with

subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
plans as (select * from {{ ref('stg_lake__plans') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

items as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.started_at,
        subscriptions.ended_at,
        subscriptions.trial_end,
        plans.currency,
        plans.unit_amount * subscriptions.quantity
            / (case plans.billing_interval
                when 'month' then 1.0
                when 'year' then 12.0
                when 'week' then 12.0 / 52.0
              end * plans.interval_count) as monthly_amount
    from subscriptions
    inner join plans on subscriptions.plan_id = plans.plan_id
),

snapshots as (
    select
        month_ends.month_start,
        month_ends.month_end,
        cast({{ dbt.dateadd('day', 1, 'month_ends.month_end') }} as timestamp) as end_of_snapshot_day
    from month_ends
)

select
    snapshots.month_start,
    snapshots.month_end,
    items.subscription_id,
    items.customer_id,
    items.currency,
    items.monthly_amount
from items
inner join snapshots
    on items.started_at < snapshots.end_of_snapshot_day
    and (items.ended_at is null or items.ended_at >= snapshots.end_of_snapshot_day)
    and (items.trial_end is null or items.trial_end < snapshots.end_of_snapshot_day)
