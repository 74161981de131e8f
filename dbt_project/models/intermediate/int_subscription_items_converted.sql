{# Each subscriptions row on each month-end snapshot (int_subscription_items_monthly) with its MRR and
   list MRR in USD at the snapshot day's rate (METRICS.md: snapshots convert at the rate of the
   snapshot's day): like silver's money tables, the latest earlier rate when the export lacks the day;
   1 for USD. A missing rate leaves the USD amounts null (and fails fct_mrr's tests) instead of zero.
   fct_mrr sums these per customer and int_product_mrr_monthly per customer and product, so the two
   convert alike and a customer's products add up to its MRR. #}
with

items as (select * from {{ ref('int_subscription_items_monthly') }}),
fx_rates as (select * from {{ ref('stg_lake__fx_rates') }}),

snapshot_currencies as (
    select distinct month_end, currency
    from items
),

snapshot_rate_days as (
    select
        snapshot_currencies.month_end,
        snapshot_currencies.currency,
        max(fx_rates.rate_date) as rate_date
    from snapshot_currencies
    inner join fx_rates
        on fx_rates.currency = snapshot_currencies.currency
        and fx_rates.rate_date <= snapshot_currencies.month_end
    group by snapshot_currencies.month_end, snapshot_currencies.currency
),

snapshot_rates as (
    select
        snapshot_currencies.month_end,
        snapshot_currencies.currency,
        case when snapshot_currencies.currency = 'USD' then 1.0 else fx_rates.rate_to_usd end as rate_to_usd
    from snapshot_currencies
    left join snapshot_rate_days
        on snapshot_rate_days.month_end = snapshot_currencies.month_end
        and snapshot_rate_days.currency = snapshot_currencies.currency
    left join fx_rates
        on fx_rates.rate_date = snapshot_rate_days.rate_date
        and fx_rates.currency = snapshot_rate_days.currency
)

select
    items.month_start,
    items.month_end,
    items.subscription_id,
    items.customer_id,
    items.currency,
    items.list_mrr_local,
    items.mrr_local,
    snapshot_rates.rate_to_usd,
    items.list_mrr_local * snapshot_rates.rate_to_usd as list_mrr_usd,
    items.mrr_local * snapshot_rates.rate_to_usd as mrr_usd
from items
inner join snapshot_rates
    on snapshot_rates.month_end = items.month_end
    and snapshot_rates.currency = items.currency
