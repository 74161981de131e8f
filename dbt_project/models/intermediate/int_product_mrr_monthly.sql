{# MRR per customer, product and month-end snapshot: the subscription items of
   int_subscription_items_monthly (after recurring discounts, and list) by the product of their plan,
   in USD at the snapshot day's rate (the latest earlier one if the export lacks the day), exactly as
   fct_mrr converts them, so that the products of a customer sum to its fct_mrr row. Only customers
   and products with an item counting on the snapshot have a row. #}
with

items as (select * from {{ ref('int_subscription_items_monthly') }}),
subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
plans as (select * from {{ ref('stg_lake__plans') }}),
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
        on snapshot_currencies.month_end = snapshot_rate_days.month_end
        and snapshot_currencies.currency = snapshot_rate_days.currency
    left join fx_rates
        on snapshot_rate_days.rate_date = fx_rates.rate_date
        and snapshot_rate_days.currency = fx_rates.currency
),

items_with_product as (
    select
        items.customer_id,
        plans.product,
        items.month_start,
        items.mrr_local * snapshot_rates.rate_to_usd as mrr,
        items.list_mrr_local * snapshot_rates.rate_to_usd as list_mrr
    from items
    inner join subscriptions on items.subscription_id = subscriptions.subscription_id
    inner join plans on subscriptions.plan_id = plans.plan_id
    inner join snapshot_rates
        on items.month_end = snapshot_rates.month_end
        and items.currency = snapshot_rates.currency
)

select
    customer_id,
    product,
    month_start as month,
    sum(mrr) as mrr,
    sum(list_mrr) as list_mrr
from items_with_product
group by customer_id, product, month_start
