{# Each subscriptions row on every month-end snapshot where it counts for MRR (METRICS.md, Finance: MRR),
   in its plan's currency: list MRR before and MRR after recurring discounts.
   A row counts when it is running at the end of the snapshot day with its trial over: started before
   the day ends, not ended before it ends (a row cancelled, or paid up only, to an earlier moment of
   the day does not count), trial over before it ends. Open-ended rows count on every snapshot of the
   spine, which runs to the last month that has ended. #}
with

subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
plans as (select * from {{ ref('stg_lake__plans') }}),
discounts as (select * from {{ ref('stg_lake__subscription_discounts') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

snapshots as (
    select
        month_start,
        month_end,
        cast({{ dbt.dateadd('day', 1, 'month_end') }} as timestamp) as end_of_snapshot_day
    from month_ends
),

items as (
    select
        subscriptions.subscription_id,
        subscriptions.customer_id,
        subscriptions.started_at,
        subscriptions.ended_at,
        subscriptions.trial_end,
        plans.currency,
        (case plans.billing_interval
            when 'month' then 1.0
            when 'year' then 12.0
            when 'week' then 12.0 / 52.0
        end) * plans.interval_count as interval_months,
        plans.unit_amount * subscriptions.quantity as cycle_amount
    from subscriptions
    inner join plans on subscriptions.plan_id = plans.plan_id
),

items_on_snapshots as (
    select
        snapshots.month_start,
        snapshots.month_end,
        snapshots.end_of_snapshot_day,
        items.subscription_id,
        items.customer_id,
        items.currency,
        items.interval_months,
        items.cycle_amount / items.interval_months as list_mrr_local
    from items
    inner join snapshots
        on items.started_at < snapshots.end_of_snapshot_day
        and (items.ended_at is null or items.ended_at >= snapshots.end_of_snapshot_day)
        and (items.trial_end is null or items.trial_end < snapshots.end_of_snapshot_day)
),

-- Only recurring discounts covering the end of the snapshot day lower MRR; a `once` discount comes off
-- one invoice. percent_off is a percentage (0..100); amount_off is per billing cycle, so it is spread
-- over the plan's months like the price.
discounts_on_snapshots as (
    select
        items_on_snapshots.subscription_id,
        items_on_snapshots.month_start,
        sum(
            coalesce(items_on_snapshots.list_mrr_local * discounts.percent_off / 100.0, 0)
            + coalesce(discounts.amount_off / items_on_snapshots.interval_months, 0)
        ) as discount_local
    from items_on_snapshots
    inner join discounts
        on discounts.subscription_id = items_on_snapshots.subscription_id
        and discounts.duration in ('repeating', 'forever')
        and discounts.starts_at < items_on_snapshots.end_of_snapshot_day
        and (discounts.ends_at is null or discounts.ends_at >= items_on_snapshots.end_of_snapshot_day)
    group by items_on_snapshots.subscription_id, items_on_snapshots.month_start
)

select
    items_on_snapshots.month_start,
    items_on_snapshots.month_end,
    items_on_snapshots.subscription_id,
    items_on_snapshots.customer_id,
    items_on_snapshots.currency,
    items_on_snapshots.list_mrr_local,
    -- a discount never takes a row below zero
    case
        when discounts_on_snapshots.discount_local is null then items_on_snapshots.list_mrr_local
        when discounts_on_snapshots.discount_local >= items_on_snapshots.list_mrr_local then 0.0
        else items_on_snapshots.list_mrr_local - discounts_on_snapshots.discount_local
    end as mrr_local
from items_on_snapshots
left join discounts_on_snapshots
    on discounts_on_snapshots.subscription_id = items_on_snapshots.subscription_id
    and discounts_on_snapshots.month_start = items_on_snapshots.month_start
