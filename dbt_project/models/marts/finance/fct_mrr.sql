with

items as (select * from {{ ref('int_subscription_items_monthly') }}),
subscriptions as (select * from {{ ref('stg_lake__subscriptions') }}),
fx_rates as (select * from {{ ref('stg_lake__fx_rates') }}),
month_ends as (select * from {{ ref('int_month_ends_spined') }}),

customers as (
    select customer_id, cast({{ dbt.date_trunc('month', 'min(started_at)') }} as date) as first_month
    from subscriptions
    group by customer_id
),

-- every month from the customer's first subscription to the last month that has ended, MRR or not
customer_months as (
    select customers.customer_id, month_ends.month_start, month_ends.month_end
    from customers
    inner join month_ends on month_ends.month_start >= customers.first_month
),

snapshot_currencies as (
    select distinct month_end, currency
    from items
),

-- the snapshot day's rate; like silver's money tables, the latest earlier one if the export lacks the day
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
),

per_customer as (
    select
        items.customer_id,
        items.month_start,
        sum(items.mrr_local * snapshot_rates.rate_to_usd) as mrr,
        sum(items.list_mrr_local * snapshot_rates.rate_to_usd) as list_mrr,
        count(distinct items.currency) as currencies,
        min(items.currency) as any_currency,
        sum(items.mrr_local) as mrr_local,
        sum(items.list_mrr_local) as list_mrr_local
    from items
    inner join snapshot_rates
        on snapshot_rates.month_end = items.month_end
        and snapshot_rates.currency = items.currency
    group by items.customer_id, items.month_start
)

select
    cast(customer_months.customer_id as varchar) as customer_id,
    cast(customer_months.month_start as date) as month,
    cast(customer_months.month_end as date) as snapshot_date,
    -- a missing FX rate leaves MRR null (and fails its test) instead of counting as zero
    cast(case when per_customer.customer_id is null then 0 else per_customer.mrr end as double) as mrr,
    cast(case when per_customer.customer_id is null then 0 else per_customer.list_mrr end as double) as list_mrr,
    cast(12 * case when per_customer.customer_id is null then 0 else per_customer.mrr end as double) as arr,
    cast(case when per_customer.currencies = 1 then per_customer.any_currency end as varchar) as currency,
    cast(case when per_customer.currencies = 1 then per_customer.mrr_local end as double) as mrr_local,
    cast(case when per_customer.currencies = 1 then per_customer.list_mrr_local end as double) as list_mrr_local
from customer_months
left join per_customer
    on per_customer.customer_id = customer_months.customer_id
    and per_customer.month_start = customer_months.month_start
